"""Configuration of ``DolphinStrategy``."""

from nautilus_trader.config import StrategyConfig

from nautilus_dolphin.data.universe import ASSETS

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
