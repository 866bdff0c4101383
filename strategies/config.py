"""Configuration of ``DolphinStrategy``, and the Nautilus ``RiskEngineConfig`` matching its risk guard."""

from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from nautilus_trader.config import RiskEngineConfig
from nautilus_trader.config import StrategyConfig

from nautilus_dolphin.data.universe import ASSETS
from nautilus_dolphin.risk.guard import RiskGuardConfig

ORDER_STYLES: tuple[str, ...] = ("market", "maker_limit")
MODES: tuple[str, ...] = ("TRADE", "OFF", "SHADOW")
OB_MODES: tuple[str, ...] = ("none", "mock", "preload", "live")


class DolphinStrategyConfig(StrategyConfig, frozen=True):
    """Parameters of the DOLPHIN strategy.

    Parameters
    ----------
    engine : str
        ``d_liq`` (D_LIQ_GOLD), ``boost`` (adaptive_beta) or ``baseline`` (NDAlphaEngine).
    engine_overrides : dict[str, float | int | bool], optional
        Changes to the gold ``ENGINE_KWARGS``.
    assets : tuple[str, ...]
        Symbols in the order of ``DolphinScan.prices``.
    venue : str
        Venue of the ``{SYMBOL}-PERP.{venue}`` instruments.
    scan_client_id, ob_client_id : str, optional
        Data clients to subscribe through (live); None subscribes on the message bus only.
    subscribe_quotes : bool
        Subscribe to every instrument's quotes (needed live and for the sandbox; a backtest
        venue gets prices directly, so the runner turns it off for speed).
    order_style : str
        ``market``, or ``maker_limit``: a post-only limit at the scan price, replaced by a market
        order for what is left after ``limit_timeout_secs``.
    min_data_quality : float
        Scans whose quality (fraction of valid prices with finite signal fields) is below this
        never open positions; exits are still managed.
    vol_p60 : float, optional
        Volatility threshold of the regime filter (``dvol > vol_p60``); None means the warm-up
        rule (bar index >= 100).
    hazard_score : float
        Passed to ``set_esoteric_hazard_multiplier`` at start (0.0 = full soft cap).
    ob_mode : str
        ``none`` (no OB engine: seeded gate), ``mock`` (MockOBProvider), ``preload`` (the runner
        preloads recorded snapshots per day), ``live`` (``step_live`` on snapshots received as data).
    tag_sp_fees : bool
        Tag orders with the engine's maker/taker draw for ``DolphinSPFeeModel`` (parity runs).
    mode : str
        ``TRADE`` (default), ``SHADOW`` (decide and record, no orders) or ``OFF`` (idle).
    oms_type : str
        ``NETTING``: one net position per instrument in backtest and live alike.
    risk : dict, optional
        ``RiskGuardConfig`` fields (``nautilus_dolphin.risk.guard``); None = the defaults. Unknown keys
        are an error.
    state_path : str, optional
        JSON state file (engine state, risk guard state, mode, day and bar), written atomically after
        every fill and on stop and loaded on start when present: what a restart after a crash uses.
        None = no file (``on_save``/``on_load`` still work).
    """

    engine: str = "d_liq"
    engine_overrides: dict[str, float | int | bool] | None = None
    assets: tuple[str, ...] = ASSETS
    venue: str = "BINANCE"
    scan_client_id: str | None = None
    ob_client_id: str | None = None
    subscribe_quotes: bool = True
    order_style: str = "market"
    limit_timeout_secs: float = 10.0
    min_data_quality: float = 0.9
    vol_p60: float | None = None
    hazard_score: float = 0.0
    ob_mode: str = "none"
    tag_sp_fees: bool = True
    mode: str = "TRADE"
    oms_type: str = "NETTING"
    risk: dict[str, Any] | None = None
    state_path: str | None = None


ORDER_RATE_HEADROOM: int = 2
"""The RiskEngine's submit rate is this multiple of the guard's: the guard blocks entries at its own
rate, and a reduce-only exit sent above it must not be denied by the RiskEngine."""
NOTIONAL_HEADROOM: float = 1.25
"""The RiskEngine's notional per order is this multiple of ``max_position_notional``: the exit of a
position that gained is larger than its entry and must not be denied."""


def risk_engine_config(
    risk: RiskGuardConfig | Mapping[str, Any] | None,
    instrument_ids: Iterable[str] | None = None,
    venue: str = "BINANCE",
) -> RiskEngineConfig:
    """Return the Nautilus ``RiskEngineConfig`` backing the risk guard's order-rate and notional limits.

    ``max_order_submit_rate`` = ``ORDER_RATE_HEADROOM`` x ``max_orders_per_minute`` per minute and,
    when ``max_position_notional`` is set, ``max_notional_per_order`` = ``NOTIONAL_HEADROOM`` x it
    (whole USDT) for each of ``instrument_ids`` (default: every ``{ASSET}-PERP.{venue}``). The strategy's
    guard enforces the exact limits on entries first; the RiskEngine is the backstop for any order.
    Nautilus 1.221 skips its notional check for margin accounts (``risk/engine.pyx``), so for Binance
    USDT-M the guard is the only notional limit in force.
    """
    cfg = risk if isinstance(risk, RiskGuardConfig) else RiskGuardConfig.from_mapping(risk)
    notional: dict[str, int] = {}
    if cfg.max_position_notional is not None:
        ids = list(instrument_ids) if instrument_ids is not None else [f"{a}-PERP.{venue}" for a in ASSETS]
        cap = int(cfg.max_position_notional * NOTIONAL_HEADROOM)
        notional = dict.fromkeys(ids, cap)
    return RiskEngineConfig(
        max_order_submit_rate=f"{cfg.max_orders_per_minute * ORDER_RATE_HEADROOM}/00:01:00",
        max_notional_per_order=notional,
    )
