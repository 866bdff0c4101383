"""Nautilus backtests of DolphinStrategy over the catalog.

``run_nautilus_backtest`` replays a window day by day through ONE ``BacktestEngine`` (custom data
cannot be streamed in chunks by ``BacktestNode`` in 1.221, and a 48-asset day is ~0.5 GB of
objects): for each UTC day it loads the day's scans from the catalog, builds (parity) or loads
(realistic) one QuoteTick per asset per scan, preloads the day's order-book features, adds the
data (prices first, so a scan sees its own timestamp's quote), runs with ``streaming=True`` and
clears the data. Strategy, orders, positions and account carry across days; ``end()`` closes the
run. The result is the standalone harness's ``BacktestResult`` (same traces, same summary), plus
Nautilus's own fill, position and account reports.

Configurations:

- parity (default): zero-spread quotes at the scan prices and ``DolphinSPFeeModel``, so fills and
  fees equal what the standalone engine books (``docs/parity.md``);
- realistic: the catalog's quotes (with their spread, default 1 bp) and Binance maker/taker fees
  on the instruments (market orders pay taker).

Like the standalone ``run_gold``, ``vol_p60`` is the dataset's (its first two days) and the ACB
sees the catalog's days before the window, so a sub-window trades as those days do in a full run.
``strategies.backtest_node.backtest_run_config`` builds a ``BacktestRunConfig`` for users who
drive ``BacktestNode`` themselves on a window that fits in memory.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import RiskEngineConfig
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.data import DataType
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.identifiers import Venue

from nautilus_dolphin.backtest.harness import BacktestResult
from nautilus_dolphin.backtest.metrics import compute_metrics
from nautilus_dolphin.config import ENGINE_KWARGS
from nautilus_dolphin.config import MC_BASE_CFG
from nautilus_dolphin.config import VOL_REFERENCE_ASSET
from nautilus_dolphin.data.volatility import dvol_per_bar
from nautilus_dolphin.data.volatility import gold_vol_p60
from nautilus_dolphin.data.volatility import vol_regime_ok
from strategies.catalog import DolphinCatalog
from strategies.config import DolphinStrategyConfig
from strategies.data_types import DolphinScan
from strategies.dolphin_strategy import DolphinStrategy
from strategies.venue import VENUE_NAME
from strategies.venue import add_binance_usdtm_venue

SCAN_CLIENT: str = "SCAN"
QUOTE_SIZE: float = 1e9
REPORTS: tuple[str, ...] = ("order_fills", "positions", "account")

ProgressFn = Callable[[int, int, dict[str, Any]], None]


@dataclass(frozen=True)
class NautilusRunConfig:
    """What to run: catalog, window, engine variant and venue configuration.

    ``ob``: ``mock`` (MockOBProvider, the gold harness's default), ``recorded`` (the catalog's
    recorded snapshots through ``ParquetOBProvider``) or ``none``.
    """

    catalog: Path
    engine: str = "d_liq"
    start: str | None = None
    end: str | None = None
    days: int | None = None
    realistic: bool = False
    ob: str = "mock"
    acb: bool = True
    forewarner: Any = False
    engine_overrides: dict[str, Any] = field(default_factory=dict)
    log_level: str = "ERROR"
    risk: dict[str, Any] | None = None
    """Risk guard settings of the strategy; None = ``BACKTEST_RISK`` (non-binding)."""


BACKTEST_RISK: dict[str, Any] = {
    "daily_drawdown_kill_pct": 1.0,
    "max_trades_per_hour": 1_000_000,
    "max_orders_per_minute": 1_000_000,
}
"""Risk guard of the backtest runner by default: limits that do not bind, so the backtest trades what the
standalone engine trades (parity). The live defaults DO bind on the default synthetic catalog: the
10 % daily drawdown kill switch trips once (2026-02-07) and blocks 20 entries. Pass ``risk`` to backtest
a deployment's guard."""


# ---------------------------------------------------------------------- data
def select_days(all_days: list[str], start: str | None, end: str | None, days: int | None) -> list[str]:
    """Return the catalog days in [start, end] (ISO dates), or the first ``days`` of them."""
    out = sorted(all_days)
    if start:
        out = [d for d in out if d >= start]
    if end:
        out = [d for d in out if d <= end]
    if days is not None:
        out = out[:days]
    if not out:
        raise ValueError(f"no catalog days in the requested window (start={start}, end={end}, days={days})")
    return out


def quotes_for_scans(
    scans: list[DolphinScan], instruments: dict[str, Any], assets: tuple[str, ...], spread_bps: float = 0.0
) -> list[QuoteTick]:
    """Return one QuoteTick per asset per scan around the scan price (NaN prices skipped), ts-sorted.

    With ``spread_bps`` 0, bid = ask = the scan price rounded to the tick (the parity quotes).
    """
    if not scans:
        return []
    prices = np.vstack([s.prices for s in scans])
    ts = np.asarray([s.ts_init for s in scans], dtype=np.uint64)
    half = spread_bps * 0.5e-4
    out: list[QuoteTick] = []
    for j, asset in enumerate(assets):
        inst = instruments.get(asset)
        if inst is None:
            continue
        col = prices[:, j]
        ok = np.isfinite(col) & (col > 0)
        if not ok.any():
            continue
        tick = float(inst.price_increment)
        bid = np.round(col[ok] * (1.0 - half) / tick) * tick
        ask = np.maximum(np.round(col[ok] * (1.0 + half) / tick) * tick, bid)
        sizes = np.full(int(ok.sum()), QUOTE_SIZE)
        out.extend(
            QuoteTick.from_raw_arrays_to_list(
                inst.id, inst.price_precision, inst.size_precision, bid, ask, sizes, sizes, ts[ok], ts[ok]
            )
        )
    out.sort(key=lambda q: q.ts_init)
    return out


def dataset_vol_p60(first_days: list[list[DolphinScan]], btc: int) -> float:
    """The gold ``vol_p60`` of a dataset from the scans of its first two days (BTC at index ``btc``)."""
    return gold_vol_p60([_btc_prices(scans, btc) for scans in first_days[:2]])


def _btc_prices(scans: list[DolphinScan], btc: int) -> np.ndarray:
    return np.array([s.prices[btc] for s in scans], dtype=np.float64)


def acb_frame(scans: list[DolphinScan], btc: int) -> pd.DataFrame:
    """Return the columns the ACB's day statistics read, from scans already in memory."""
    return pd.DataFrame(
        {
            "v750_lambda_max_velocity": np.array([s.v750_lambda_max_velocity for s in scans], dtype=np.float64),
            "instability_50": np.array([s.instability_50 for s in scans], dtype=np.float64),
            VOL_REFERENCE_ASSET: _btc_prices(scans, btc),
        }
    )


# ---------------------------------------------------------------------- components
def build_components(catalog: DolphinCatalog, ob: str, acb: bool, forewarner: Any) -> dict[str, Any]:
    """Create the OB engine, ACB and MC-Forewarner the way the standalone harness wires them."""
    from nautilus_dolphin.backtest.harness import default_acb
    from nautilus_dolphin.backtest.harness import default_forewarner
    from nautilus_dolphin.backtest.harness import default_ob_engine

    out: dict[str, Any] = {"ob_engine": None, "acb": None, "forewarner": None}
    if ob == "mock":
        out["ob_engine"] = default_ob_engine(catalog.assets)
    elif ob == "recorded":
        from nautilus_dolphin.obf.features import OBFeatureEngine
        from nautilus_dolphin.obf.providers import ParquetOBProvider

        out["ob_engine"] = OBFeatureEngine(ParquetOBProvider(recorded_ob_root(catalog)))
    elif ob != "none":
        raise ValueError(f"ob must be mock, recorded or none, was {ob!r}")
    if acb:
        out["acb"] = default_acb()
    if forewarner is True:
        out["forewarner"] = default_forewarner()
    elif forewarner not in (False, None):
        out["forewarner"] = forewarner
    return out


def recorded_ob_root(catalog: DolphinCatalog) -> Path:
    """Return the directory holding ``ob/YYYY-MM-DD.parquet`` for a catalog (synthetic or imported)."""
    own = catalog.root / "vbt_cache"
    if (own / "ob").is_dir():
        return own
    source = catalog.meta.get("source")
    if isinstance(source, dict):
        source = source.get("path") or source.get("dir")
    if isinstance(source, str) and (Path(source) / "ob").is_dir():
        return Path(source)
    raise FileNotFoundError(f"{catalog.root}: no recorded order-book snapshots (ob/) found")


# ---------------------------------------------------------------------- runner
def _day_row(day: dict[str, Any], n_rows: int, vol_ok_bars: int) -> dict[str, Any]:
    row = dict(day)
    row["cap_before"] = day.get("capital_start", 0.0)
    row["cap_after"] = day.get("capital_end", 0.0)
    row["rows"] = n_rows
    row["vol_ok_bars"] = vol_ok_bars
    return row


def run_nautilus_backtest(cfg: NautilusRunConfig, progress: ProgressFn | None = None) -> BacktestResult:
    """Run DolphinStrategy over the catalog window day by day on one BacktestEngine."""
    t0 = time.perf_counter()
    catalog = DolphinCatalog(cfg.catalog)
    assets = tuple(catalog.assets)
    all_days = catalog.days
    dates = select_days(all_days, cfg.start, cfg.end, cfg.days)
    btc = assets.index(VOL_REFERENCE_ASSET)
    first = {d: catalog.load_scans(d) for d in all_days[:2]}
    vol_p60 = dataset_vol_p60([first[d] for d in all_days[:2]], btc)

    engine = BacktestEngine(
        BacktestEngineConfig(
            trader_id=TraderId("DOLPHIN-001"),
            logging=LoggingConfig(log_level=cfg.log_level, bypass_logging=cfg.log_level == "OFF"),
            risk_engine=RiskEngineConfig(max_order_submit_rate="1000/00:00:01"),
        )
    )
    overrides = dict(cfg.engine_overrides)
    if not cfg.realistic:
        # A zero-spread venue cannot slip; parity means the engine does not either.
        overrides.setdefault("use_sp_slippage", False)
    capital = float(overrides.get("initial_capital", ENGINE_KWARGS["initial_capital"]))
    add_binance_usdtm_venue(engine, capital, parity=not cfg.realistic)
    instruments = {inst.id.symbol.value.removesuffix("-PERP"): inst for inst in catalog.instruments()}
    missing = [a for a in assets if a not in instruments]
    if missing:
        raise ValueError(f"{catalog.root}: catalog has no instrument for {', '.join(missing[:5])}")
    for inst in instruments.values():
        engine.add_instrument(inst)

    ob_mode = {"mock": "mock", "recorded": "preload", "none": "none"}[cfg.ob]
    strategy = DolphinStrategy(
        DolphinStrategyConfig(
            engine=cfg.engine,
            engine_overrides=overrides or None,
            assets=assets,
            subscribe_quotes=False,
            vol_p60=vol_p60,
            ob_mode=ob_mode,
            tag_sp_fees=True,
            risk=BACKTEST_RISK if cfg.risk is None else dict(cfg.risk),
        )
    )
    comps = build_components(catalog, cfg.ob, cfg.acb, cfg.forewarner)
    strategy.set_components(comps["ob_engine"], comps["acb"], comps["forewarner"], MC_BASE_CFG)
    engine.add_strategy(strategy)
    if comps["acb"] is not None:
        for d in all_days:
            if d >= dates[0]:
                break
            comps["acb"].add_day(d, acb_frame(first.get(d) or catalog.load_scans(d), btc))
    setup_s = time.perf_counter() - t0

    dtype = DataType(DolphinScan)
    client = ClientId(SCAN_CLIENT)
    rows: list[dict[str, Any]] = []
    bars = 0
    ob_s = run_s = 0.0
    t_loop = time.perf_counter()
    for i, date_str in enumerate(dates):
        scans = first.get(date_str) or catalog.load_scans(date_str)
        if comps["acb"] is not None:
            comps["acb"].add_day(date_str, acb_frame(scans, btc))
        t = time.perf_counter()
        strategy.prepare_day(date_str, np.array([s.ts_event for s in scans], dtype=np.float64) / 1e9)
        ob_s += time.perf_counter() - t
        if cfg.realistic:
            quotes = catalog.load_quotes(date_str)
        else:
            quotes = quotes_for_scans(scans, instruments, assets)
        engine.add_data(quotes, sort=False)
        engine.add_data([CustomData(dtype, s) for s in scans], client_id=client, sort=True)
        t = time.perf_counter()
        engine.run(streaming=True)
        run_s += time.perf_counter() - t
        engine.clear_data()
        bars += sum(1 for s in scans if np.isfinite(s.vel_div))
        vol_ok = int(vol_regime_ok(dvol_per_bar(_btc_prices(scans, btc)), vol_p60).sum())
        day = strategy.engine.day_history[-1] if strategy.engine.day_history else {}
        if day.get("date") != date_str:  # the day's last scan is closed by the next day's first
            day = dict(strategy.engine._day)
            day.setdefault("capital_end", strategy.engine.capital)
        rows.append((date_str, len(scans), vol_ok))
        if progress is not None:
            progress(i, len(dates), {**day, "capital_end": strategy.engine.capital,
                                     "mc_status": strategy.engine.mc_status})
    engine.end()  # stops the strategy: on_stop closes the engine's last day
    loop_s = time.perf_counter() - t_loop

    eng = strategy.engine
    by_date = {d["date"]: d for d in eng.day_history}
    day_rows = [_day_row(by_date[d], n, ok) for d, n, ok in rows if d in by_date]
    venue = Venue(VENUE_NAME)
    reports = {
        "order_fills": engine.trader.generate_order_fills_report(),
        "positions": engine.trader.generate_positions_report(),
        "account": engine.trader.generate_account_report(venue),
    }
    balance = float(engine.portfolio.account(venue).balance_total().as_double())
    params = {**dict(ENGINE_KWARGS), **overrides}
    components = {
        "runner": "nautilus (day-batched BacktestEngine)",
        "venue": "realistic (catalog quotes with spread, Binance maker/taker fees)"
        if cfg.realistic
        else "parity (zero-spread quotes, DolphinSPFeeModel)",
        "ob_engine": cfg.ob,
        "acb": "on" if comps["acb"] is not None else "off",
        "forewarner": "on" if comps["forewarner"] is not None else "off",
        "venue_balance": f"{balance:.8f}",
    }
    result = BacktestResult(
        engine_name=cfg.engine,
        engine_class=type(eng).__name__,
        trades=list(eng.trade_history),
        days=day_rows,
        metrics=compute_metrics(eng.trade_history, day_rows, initial_capital=capital),
        vol_p60=vol_p60,
        initial_capital=capital,
        final_capital=eng.capital,
        bars=bars,
        engine_seconds=run_s,
        loop_seconds=loop_s,
        setup_seconds=setup_s,
        ob_seconds=ob_s,
        components=components,
        params=params,
        seed=params.get("seed"),
    )
    result.nautilus_reports = reports  # type: ignore[attr-defined]
    result.venue_balance = balance  # type: ignore[attr-defined]
    result.strategy_counters = dict(strategy.counters)  # type: ignore[attr-defined]
    result.engine_counters = dict(eng.counters)  # type: ignore[attr-defined]
    engine.dispose()
    return result


def write_nautilus_reports(result: BacktestResult, out_dir: str | Path) -> dict[str, Path]:
    """Write Nautilus's fill, position and account reports beside the traces (CSV)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, df in getattr(result, "nautilus_reports", {}).items():
        path = out / f"nautilus_{name}.csv"
        if isinstance(df, pd.DataFrame):
            df.to_csv(path)
            paths[f"nautilus_{name}"] = path
    result.outputs.update(paths)
    return paths


def run_nautilus(args: Any, catalog_root: Path, progress: ProgressFn) -> BacktestResult:
    """``dolphin backtest --runner nautilus``: run, then write traces, summary and Nautilus reports."""
    cfg = NautilusRunConfig(
        catalog=Path(catalog_root),
        engine=args.engine,
        start=args.start,
        end=args.end,
        days=args.days,
        realistic=bool(args.realistic),
        ob=getattr(args, "ob", "mock"),
        forewarner=_forewarner_arg(not args.no_forewarner),
    )
    result = run_nautilus_backtest(cfg, progress=progress)
    if args.out is not None:
        result.write(args.out, runner="nautilus", data_source=str(catalog_root))
        write_nautilus_reports(result, args.out)
    return result


def _forewarner_arg(wanted: bool) -> Any:
    """Return True when a shipped MC-Forewarner model exists and is wanted, else False (noted)."""
    if not wanted:
        return False
    from nautilus_dolphin.risk.forewarner import default_model_path

    if default_model_path().is_file():
        return True
    import warnings

    warnings.warn(
        f"MC-Forewarner left out: no model at {default_model_path()} (run `dolphin mc-train`)",
        RuntimeWarning,
        stacklevel=2,
    )
    return False
