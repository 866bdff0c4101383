"""A ``BacktestRunConfig`` for users who drive Nautilus's ``BacktestNode`` over a DOLPHIN catalog.

``dolphin backtest`` replays the catalog day by day through one ``BacktestEngine``
(``strategies.backtest``) because ``BacktestNode`` in 1.221 cannot stream custom data in chunks: a
node run loads the whole window into memory (a 48-asset day is ~0.5 GB of objects). For a window
that fits, ``backtest_run_config`` gives the standard Nautilus entry point::

    from nautilus_trader.backtest.node import BacktestNode
    from strategies.backtest_node import backtest_run_config

    run_config = backtest_run_config("catalog", start="2026-01-02", end="2026-01-03")
    node = BacktestNode(configs=[run_config])
    [result] = node.run()
    engine = node.get_engine(run_config.id)      # dispose_on_completion=False keeps it
    print(result.total_orders, engine.trader.generate_positions_report())

What it holds: the catalog's instruments and quotes (``QuoteTick`` per asset, listed before the
scans so a scan sees its own instant's quote), the ``DolphinScan`` data (client id ``SCAN``), the
BINANCE USDT-M venue (MARGIN, NETTING, leverage 10) with the engine's SP fee model
(``fees="sp"``) or Binance maker/taker fees from the instruments (``fees="binance"``), and
``DolphinStrategy`` built from an ``ImportableStrategyConfig``.

What it does not hold: a strategy built by the node cannot be handed Python objects, so the
order-book feature engine, the ACB and the MC-Forewarner (``set_components``) are off; the quotes
are the catalog's (with its spread), not the parity runner's zero-spread quotes. A node run
therefore equals ``run_nautilus_backtest(..., realistic=True, ob="none", acb=False,
forewarner=False)`` on the same window (a test checks this), not the gold ``dolphin backtest``.
"""

from pathlib import Path
from typing import Any

from nautilus_trader.backtest.config import BacktestDataConfig
from nautilus_trader.backtest.config import BacktestEngineConfig
from nautilus_trader.backtest.config import BacktestRunConfig
from nautilus_trader.backtest.config import BacktestVenueConfig
from nautilus_trader.backtest.config import ImportableFeeModelConfig
from nautilus_trader.config import ImportableStrategyConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import RiskEngineConfig

from nautilus_dolphin.config import ENGINE_KWARGS
from nautilus_dolphin.config import VOL_REFERENCE_ASSET
from strategies.backtest import BACKTEST_RISK
from strategies.backtest import SCAN_CLIENT
from strategies.backtest import dataset_vol_p60
from strategies.backtest import select_days
from strategies.catalog import DolphinCatalog
from strategies.catalog import day_bounds_ns
from strategies.venue import VENUE_LEVERAGE
from strategies.venue import VENUE_NAME

FEE_MODELS: tuple[str, ...] = ("sp", "binance")


def _fee_model(fees: str) -> ImportableFeeModelConfig:
    if fees == "sp":
        return ImportableFeeModelConfig(
            fee_model_path="strategies.fee_model:DolphinSPFeeModel",
            config_path="strategies.fee_model:DolphinSPFeeModelConfig",
            config={},
        )
    return ImportableFeeModelConfig(
        fee_model_path="nautilus_trader.backtest.models:MakerTakerFeeModel",
        config_path="nautilus_trader.backtest.config:MakerTakerFeeModelConfig",
        config={},
    )


def backtest_run_config(
    catalog_path: str | Path,
    start: str | None = None,
    end: str | None = None,
    days: int | None = None,
    engine: str = "d_liq",
    fees: str = "sp",
    engine_overrides: dict[str, Any] | None = None,
    log_level: str = "ERROR",
) -> BacktestRunConfig:
    """Return a ``BacktestRunConfig`` running ``DolphinStrategy`` over a catalog window.

    Parameters
    ----------
    catalog_path : str or Path
        DOLPHIN catalog root (``dolphin_catalog.json`` beside the Nautilus data).
    start, end : str, optional
        First and last UTC day (YYYY-MM-DD) of the window; or ``days`` from the first catalog day.
    engine : str
        ``d_liq`` (default), ``boost`` or ``baseline``.
    fees : str
        ``sp`` (the engine's SP fee model, orders tagged maker/taker) or ``binance``.
    engine_overrides : dict, optional
        Engine parameters over the gold ``ENGINE_KWARGS``.

    Raises
    ------
    ValueError
        When the catalog is missing, the window holds no days or ``fees`` is unknown.
    """
    if fees not in FEE_MODELS:
        raise ValueError(f"fees must be one of {FEE_MODELS}, was {fees!r}")
    catalog = DolphinCatalog(catalog_path)
    root = str(Path(catalog_path).resolve())
    assets = tuple(catalog.assets)
    dates = select_days(catalog.days, start, end, days)
    btc = assets.index(VOL_REFERENCE_ASSET)
    # vol_p60 from the dataset's first two days, as the gold harness and dolphin backtest do
    vol_p60 = dataset_vol_p60([catalog.load_scans(d) for d in catalog.days[:2]], btc)
    t0, _ = day_bounds_ns(dates[0])
    _, t1 = day_bounds_ns(dates[-1])
    overrides = dict(engine_overrides or {})
    capital = float(overrides.get("initial_capital", ENGINE_KWARGS["initial_capital"]))

    data = [  # prices first: at equal ts_init the node adds configs in list order
        BacktestDataConfig(
            catalog_path=root,
            data_cls="nautilus_trader.model.data:QuoteTick",
            instrument_ids=[f"{a}-PERP.{VENUE_NAME}" for a in assets],
            start_time=t0,
            end_time=t1,
        ),
        BacktestDataConfig(
            catalog_path=root,
            data_cls="strategies.data_types:DolphinScan",
            client_id=SCAN_CLIENT,
            start_time=t0,
            end_time=t1,
        ),
    ]
    venue = BacktestVenueConfig(
        name=VENUE_NAME,
        oms_type="NETTING",
        account_type="MARGIN",
        base_currency="USDT",
        starting_balances=[f"{capital} USDT"],
        default_leverage=float(VENUE_LEVERAGE),
        fee_model=_fee_model(fees),
    )
    strategy = ImportableStrategyConfig(
        strategy_path="strategies.dolphin_strategy:DolphinStrategy",
        config_path="strategies.config:DolphinStrategyConfig",
        config={
            "engine": engine,
            "engine_overrides": overrides or None,
            "assets": list(assets),
            "scan_client_id": SCAN_CLIENT,
            "subscribe_quotes": False,
            "vol_p60": vol_p60,
            "ob_mode": "none",
            "tag_sp_fees": fees == "sp",
            "risk": dict(BACKTEST_RISK),  # non-binding guard: the node trades what the runner trades
        },
    )
    return BacktestRunConfig(
        engine=BacktestEngineConfig(
            trader_id="DOLPHIN-001",
            strategies=[strategy],
            logging=LoggingConfig(log_level=log_level, bypass_logging=log_level == "OFF"),
            risk_engine=RiskEngineConfig(max_order_submit_rate="1000/00:00:01"),
        ),
        venues=[venue],
        data=data,
        raise_exception=True,
        dispose_on_completion=False,
    )
