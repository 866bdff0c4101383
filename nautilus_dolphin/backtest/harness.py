"""Standalone reference harness: the gold per-day loop of spec 001 §8 ``_run_engine``.

``run_backtest`` drives any engine built by ``engine_factory`` over DOLPHIN-format daily frames
(the vbt_cache schema of §7) exactly as the gold harness does:

1. ``vol_p60`` from the first two days by the gold method (``data.volatility.gold_vol_p60``)
   unless given;
2. ACB preload over the window's dates (``acb.preload_w750(dates, loader)``);
3. ``set_ob_engine``, ``set_acb``, ``set_mc_forewarner`` (when a forewarner is given),
   ``set_esoteric_hazard_multiplier(0.0)``, in that order;
4. per day: the OB engine preloads the day, ``vol_ok = dvol > vol_p60`` (False where ``dvol`` is
   not finite), ``process_day``, capital before/after recorded.

``run_gold`` wires the standard components the way the gold harness does (D_LIQ engine with
``ENGINE_KWARGS``, ACB, MockOBProvider with the §6 biases, the shipped MC-Forewarner) over a
vbt_cache directory and writes the trace files. Components that have not been built in this
checkout (or fail to load) are left out and named in ``BacktestResult.components`` and in
``summary.json``, never silently.
"""

import importlib
import itertools
import platform
import re
import time
import warnings
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import nautilus_dolphin
from nautilus_dolphin.backtest.metrics import BacktestMetrics
from nautilus_dolphin.backtest.metrics import compute_metrics
from nautilus_dolphin.backtest.traces import DAILY_TRACE
from nautilus_dolphin.backtest.traces import SUMMARY
from nautilus_dolphin.backtest.traces import TICK_TRACE
from nautilus_dolphin.backtest.traces import TRADE_TRACE
from nautilus_dolphin.backtest.traces import TickTraceWriter
from nautilus_dolphin.backtest.traces import write_daily_trace
from nautilus_dolphin.backtest.traces import write_summary
from nautilus_dolphin.backtest.traces import write_trade_trace
from nautilus_dolphin.config import ENGINE_KWARGS
from nautilus_dolphin.config import MC_BASE_CFG
from nautilus_dolphin.config import VOL_REFERENCE_ASSET
from nautilus_dolphin.data.schema import TIMESTAMP_COL
from nautilus_dolphin.data.schema import asset_columns as schema_asset_columns
from nautilus_dolphin.data.volatility import dvol_per_bar
from nautilus_dolphin.data.volatility import gold_vol_p60
from nautilus_dolphin.data.volatility import vol_regime_ok
from nautilus_dolphin.engine.records import NDTradeRecord

DayInput = tuple[str, pd.DataFrame, Sequence[str], np.ndarray | None]
"""One day for the harness: (``YYYY-MM-DD``, scan frame, asset columns, ``dvol`` per bar or None)."""

ProgressFn = Callable[[int, int, Mapping[str, Any]], None]
"""``progress(day_index, n_days, day_row)`` called after each day (day_index from 0)."""

MOCK_OB_IMBALANCE_BIAS: float = -0.09
MOCK_OB_IMBALANCE_BIASES: Mapping[str, float] = {
    "BTCUSDT": -0.086,
    "ETHUSDT": -0.092,
    "BNBUSDT": +0.05,
    "SOLUSDT": +0.05,
}
"""The gold MockOBProvider configuration (spec 001 §6)."""

ENGINE_CHOICES: tuple[str, ...] = ("d_liq", "boost", "baseline")

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# ----------------------------------------------------------------------------------------------
# Result
# ----------------------------------------------------------------------------------------------
@dataclass
class BacktestResult:
    """What one harness run produced.

    ``days`` holds one row per day: the engine's day dict (contracts §5 keys) plus the harness's
    ``cap_before``/``cap_after`` (``engine.capital`` around ``process_day``), ``rows`` (bars in the
    frame) and ``vol_ok_bars`` (bars passing the volatility filter). ``engine_seconds`` is the time
    spent inside ``process_day``, ``ob_seconds`` in the OB engine's per-day ``preload_date``;
    ``loop_seconds`` is the whole day loop (both, plus the volatility filter and bookkeeping);
    ``setup_seconds`` covers input checks, ``vol_p60``, engine creation and the ACB preload.
    """

    engine_name: str
    engine_class: str
    trades: list[NDTradeRecord]
    days: list[dict[str, Any]]
    metrics: BacktestMetrics
    vol_p60: float
    initial_capital: float
    final_capital: float
    bars: int
    engine_seconds: float
    loop_seconds: float
    setup_seconds: float
    ob_seconds: float
    components: dict[str, str]
    params: dict[str, Any] = field(default_factory=dict)
    tick_rows: int = 0
    seed: int | None = None
    outputs: dict[str, Path] = field(default_factory=dict)

    @property
    def dates(self) -> list[str]:
        """The dates run, in order."""
        return [str(d["date"]) for d in self.days]

    @property
    def bars_per_second(self) -> float:
        """Bars processed per second of engine time."""
        return self.bars / self.engine_seconds if self.engine_seconds > 0 else float("inf")

    def summary(self, **metadata: Any) -> dict[str, Any]:
        """Return the ``summary.json`` content: metrics and run metadata (no wall-clock values).

        Timing is left out on purpose so that the same run writes a byte-identical summary.
        ``metadata`` (e.g. ``data_source``, ``runner``) is merged in at the top level.
        """
        out: dict[str, Any] = {
            "engine": self.engine_name,
            "engine_class": self.engine_class,
            "parameters": dict(self.params),
            "seed": self.params.get("seed", self.seed),
            "window": {
                "start": self.dates[0] if self.days else None,
                "end": self.dates[-1] if self.days else None,
                "days": len(self.days),
                "bars": self.bars,
            },
            "vol_p60": self.vol_p60,
            "components": dict(self.components),
            "metrics": self.metrics.to_dict(),
            "versions": versions(),
        }
        out.update(metadata)
        return out

    def write(self, out_dir: str | Path, **metadata: Any) -> dict[str, Path]:
        """Write ``trade_trace.csv``, ``daily_trace.csv`` and ``summary.json`` into ``out_dir``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        self.outputs[TRADE_TRACE] = write_trade_trace(out / TRADE_TRACE, self.trades)
        self.outputs[DAILY_TRACE] = write_daily_trace(out / DAILY_TRACE, self.days)
        self.outputs[SUMMARY] = write_summary(out / SUMMARY, self.summary(**metadata))
        return dict(self.outputs)


def versions() -> dict[str, str]:
    """Return the versions that can change a result: this package, Python, numpy, pandas, numba."""
    out = {
        "nautilus_dolphin": nautilus_dolphin.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
    }
    try:
        import numba

        out["numba"] = numba.__version__
    except ImportError:  # pragma: no cover - numba is a hard dependency
        out["numba"] = "absent"
    return out


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------
def bar_timestamps(df: pd.DataFrame) -> np.ndarray | None:
    """Return the frame's ``timestamp`` column as unix seconds (float64), or None if absent.

    Accepts datetime64 (tz-aware or naive UTC) or numeric unix seconds (contracts §1).
    """
    if TIMESTAMP_COL not in df.columns:
        return None
    ts = df[TIMESTAMP_COL]
    if pd.api.types.is_datetime64_any_dtype(ts):
        if getattr(ts.dt, "tz", None) is not None:
            ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
        return ts.to_numpy(dtype="datetime64[ns]").astype(np.int64) / 1e9
    if pd.api.types.is_numeric_dtype(ts):
        return ts.to_numpy(dtype=np.float64)
    raise ValueError(f"column {TIMESTAMP_COL!r} has dtype {ts.dtype}; expected datetime64 or unix seconds")


def _check_day(i: int, item: Any) -> tuple[str, pd.DataFrame, list[str], np.ndarray | None]:
    try:
        date_str, df, acols, dvol = item
    except (TypeError, ValueError) as exc:
        raise ValueError(f"day #{i}: expected (date_str, df, asset_columns, dvol), got {type(item).__name__}") from exc
    if not isinstance(date_str, str) or not DATE_RE.match(date_str):
        raise ValueError(f"day #{i}: date must be 'YYYY-MM-DD', got {date_str!r}")
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"day {date_str}: frame is {type(df).__name__}, expected a pandas DataFrame")
    acols = list(acols) if acols is not None else schema_asset_columns(list(df.columns))
    missing = [c for c in acols if c not in df.columns]
    if missing:
        raise ValueError(f"day {date_str}: asset columns missing from the frame: {missing[:5]}")
    if not acols:
        raise ValueError(f"day {date_str}: no asset price columns")
    if dvol is not None:
        dvol = np.asarray(dvol, dtype=np.float64)
        if dvol.shape != (len(df),):
            raise ValueError(f"day {date_str}: dvol has shape {dvol.shape}, expected ({len(df)},)")
    return date_str, df, acols, dvol


def _reference_prices(date_str: str, df: pd.DataFrame) -> np.ndarray:
    if VOL_REFERENCE_ASSET not in df.columns:
        raise ValueError(f"day {date_str}: no {VOL_REFERENCE_ASSET} column for the volatility filter")
    return df[VOL_REFERENCE_ASSET].to_numpy(dtype=np.float64)


def _import_first(candidates: Sequence[str], name: str) -> Any:
    """Return attribute ``name`` from the first importable module in ``candidates`` that has it."""
    errors = []
    for mod in candidates:
        try:
            m = importlib.import_module(mod)
        except ImportError as exc:
            errors.append(f"{mod}: {exc}")
            continue
        if hasattr(m, name):
            return getattr(m, name)
        errors.append(f"{mod}: no {name}")
    raise ImportError(f"{name} not available ({'; '.join(errors)})")


def default_ob_engine(assets: Sequence[str]) -> Any:
    """Return ``OBFeatureEngine(MockOBProvider(...))`` with the gold §6 biases over ``assets``."""
    mock_cls = _import_first(
        ("nautilus_dolphin.obf.mock", "nautilus_dolphin.obf.providers", "nautilus_dolphin.obf"), "MockOBProvider"
    )
    engine_cls = _import_first(("nautilus_dolphin.obf.features", "nautilus_dolphin.obf"), "OBFeatureEngine")
    provider = mock_cls(
        imbalance_bias=MOCK_OB_IMBALANCE_BIAS,
        depth_scale=1.0,
        assets=sorted(assets),
        imbalance_biases=dict(MOCK_OB_IMBALANCE_BIASES),
    )
    return engine_cls(provider)


def default_acb() -> Any:
    """Return ``AdaptiveCircuitBreaker(config=ACBConfig())`` (contracts §6)."""
    acb_cls = _import_first(("nautilus_dolphin.risk", "nautilus_dolphin.risk.acb"), "AdaptiveCircuitBreaker")
    cfg_cls = _import_first(("nautilus_dolphin.risk", "nautilus_dolphin.risk.acb"), "ACBConfig")
    return acb_cls(config=cfg_cls())


def default_forewarner() -> Any:
    """Return ``DolphinForewarner.load()`` (the model shipped in the package)."""
    fw_cls = _import_first(
        ("nautilus_dolphin.risk", "nautilus_dolphin.risk.forewarner", "nautilus_dolphin.risk.mc_forewarner"),
        "DolphinForewarner",
    )
    return fw_cls.load(None)


def _resolve(kind: str, value: Any, builder: Callable[[], Any], components: dict[str, str]) -> Any:
    """None -> the standard component (or left out, with the reason); False -> disabled; else as given."""
    if value is False:
        components[kind] = "disabled"
        return None
    if value is None:
        try:
            obj = builder()
        except Exception as exc:  # a missing or broken optional component must not stop the run
            components[kind] = f"unavailable: {type(exc).__name__}: {exc}"
            warnings.warn(f"{kind} left out: {exc}", RuntimeWarning, stacklevel=3)
            return None
        components[kind] = f"default {type(obj).__name__}"
        return obj
    components[kind] = type(value).__name__
    return value


# ----------------------------------------------------------------------------------------------
# The harness
# ----------------------------------------------------------------------------------------------
def run_backtest(
    engine_factory: Callable[[], Any],
    days: Iterable[DayInput],
    *,
    vol_p60: float | None = None,
    ob_engine: Any = None,
    acb: Any = None,
    forewarner: Any = None,
    mc_cfg: Mapping[str, Any] | None = None,
    tick_trace: bool | str | Path = False,
    progress: ProgressFn | None = None,
    out_dir: str | Path | None = None,
    engine_name: str | None = None,
    params: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    acb_dates: Sequence[str] | None = None,
    acb_loader: Callable[[str], pd.DataFrame | None] | None = None,
) -> BacktestResult:
    """Run one engine over ``days`` with the gold per-day loop (spec 001 §8 ``_run_engine``).

    Parameters
    ----------
    engine_factory
        Zero-argument callable returning a fresh engine (contracts §5 API).
    days
        ``(date_str, df, asset_columns, dvol)`` per day, in date order (materialised once: the ACB
        preload needs every day's frame before the first day runs). ``asset_columns`` None = every
        non-META column; ``dvol`` None = computed from BTCUSDT by the gold method.
    vol_p60
        Volatility threshold; None = gold method over the first two days.
    ob_engine
        None = ``OBFeatureEngine(MockOBProvider)`` with the §6 biases (left out, and recorded, if the
        ``obf`` package lacks them); False = no OB engine (the engine's seeded OB gate applies);
        otherwise an OB feature engine, whose ``preload_date`` is called for each day.
    acb
        None = ``AdaptiveCircuitBreaker()``; False = no ACB; otherwise an ACB. It is preloaded over
        the window's dates (plus ``acb_dates``) either way.
    acb_dates, acb_loader
        Extra days for the ACB preload (e.g. the dataset's days before the window, so that a
        sub-window gets the same per-day boosts as the full window; the ACB only uses days
        strictly before each day). Frames of days outside the window come from ``acb_loader``.
    forewarner
        An MC-Forewarner, or None/False for none (as in the gold harness, it is optional).
    mc_cfg
        The configuration the forewarner assesses; default ``MC_BASE_CFG``.
    tick_trace
        False; a path for ``tick_trace.csv``; or True to write it into ``out_dir``.
    progress
        Called after each day with ``(day_index, n_days, day_row)``.
    out_dir
        When given, the trace files and ``summary.json`` are written there after the run.
    engine_name, params, metadata
        Run metadata for ``summary.json`` (``params`` also supplies ``seed``).

    Raises
    ------
    ValueError
        On malformed input (no days, bad date, dates not strictly increasing, missing columns).
    """
    t_setup = time.perf_counter()
    day_list = [_check_day(i, item) for i, item in enumerate(days)]
    if not day_list:
        raise ValueError("run_backtest: no days to run")
    dates = [d[0] for d in day_list]
    for a, b in itertools.pairwise(dates):
        if b <= a:
            raise ValueError(f"run_backtest: dates must be strictly increasing, got {a} then {b}")
    if tick_trace is True and out_dir is None:
        raise ValueError("run_backtest: tick_trace=True needs out_dir (or pass a file path)")

    if vol_p60 is None:
        vol_p60 = gold_vol_p60([_reference_prices(ds, df) for ds, df, _, _ in day_list[:2]])
    vol_p60 = float(vol_p60)
    if not np.isfinite(vol_p60):
        raise ValueError(f"run_backtest: vol_p60 must be finite, got {vol_p60}")

    eng = engine_factory()
    components: dict[str, str] = {}
    all_assets = sorted({a for _, _, acols, _ in day_list for a in acols})
    ob = _resolve("ob_engine", ob_engine, lambda: default_ob_engine(all_assets), components)
    acb_obj = _resolve("acb", acb, default_acb, components)
    if forewarner is None or forewarner is False:
        components["forewarner"] = "none"
        fw = None
    else:
        components["forewarner"] = type(forewarner).__name__
        fw = forewarner

    frames = {ds: df for ds, df, _, _ in day_list}
    if acb_obj is not None:
        preload = sorted(set(dates) | set(acb_dates or ()))
        outside = [d for d in preload if d not in frames]
        if outside and acb_loader is None:
            raise ValueError(f"run_backtest: acb_dates outside the window ({outside[0]}, ...) need acb_loader")

        def _acb_frame(d: str) -> pd.DataFrame | None:
            return frames[d] if d in frames else acb_loader(d)  # type: ignore[misc]

        acb_obj.preload_w750(preload, _acb_frame)
        components["acb"] += f" (preloaded {len(preload)} days {preload[0]}..{preload[-1]})"
    if ob is not None:
        eng.set_ob_engine(ob)
    if acb_obj is not None:
        eng.set_acb(acb_obj)
    if fw is not None:
        eng.set_mc_forewarner(fw, dict(mc_cfg if mc_cfg is not None else MC_BASE_CFG))
    eng.set_esoteric_hazard_multiplier(0.0)

    writer: TickTraceWriter | None = None
    if tick_trace:
        path = Path(out_dir) / TICK_TRACE if tick_trace is True else Path(tick_trace)  # type: ignore[arg-type]
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = TickTraceWriter(path)
        eng.tick_hook = writer
    setup_s = time.perf_counter() - t_setup

    initial_capital = float(eng.capital)
    rows: list[dict[str, Any]] = []
    engine_s = 0.0
    ob_s = 0.0
    t_loop = time.perf_counter()
    try:
        for i, (ds, df, acols, dvol) in enumerate(day_list):
            if ob is not None and hasattr(ob, "preload_date"):
                t_ob = time.perf_counter()
                ob.preload_date(ds, acols, bar_timestamps=bar_timestamps(df))
                ob_s += time.perf_counter() - t_ob
            if dvol is None:
                dvol = dvol_per_bar(_reference_prices(ds, df))
            vol_ok = vol_regime_ok(dvol, vol_p60)
            if writer is not None:
                writer.set_date(ds)
            cap_before = float(eng.capital)
            t0 = time.perf_counter()
            day = eng.process_day(ds, df, acols, vol_regime_ok=vol_ok)
            engine_s += time.perf_counter() - t0
            cap_after = float(eng.capital)
            row: dict[str, Any] = dict(day) if isinstance(day, Mapping) else {}
            row.setdefault("date", ds)
            row.setdefault("capital_start", cap_before)
            row.setdefault("capital_end", cap_after)
            row["cap_before"] = cap_before
            row["cap_after"] = cap_after
            row["rows"] = len(df)
            row["vol_ok_bars"] = int(np.count_nonzero(vol_ok))
            rows.append(row)
            if progress is not None:
                progress(i, len(day_list), row)
    finally:
        if writer is not None:
            eng.tick_hook = None
            writer.close()
    loop_s = time.perf_counter() - t_loop

    trades = list(eng.trade_history)
    metrics = compute_metrics(trades, rows, initial_capital=initial_capital)
    run_params = dict(params) if params is not None else {}
    result = BacktestResult(
        engine_name=engine_name or getattr(engine_factory, "__name__", type(eng).__name__),
        engine_class=type(eng).__name__,
        trades=trades,
        days=rows,
        metrics=metrics,
        vol_p60=vol_p60,
        initial_capital=initial_capital,
        final_capital=float(eng.capital),
        bars=int(sum(len(df) for _, df, _, _ in day_list)),
        engine_seconds=engine_s,
        loop_seconds=loop_s,
        setup_seconds=setup_s,
        ob_seconds=ob_s,
        components=components,
        params=run_params,
        tick_rows=writer.rows if writer is not None else 0,
        seed=getattr(eng, "seed", None),
    )
    if writer is not None:
        result.outputs[TICK_TRACE] = writer.path
        if writer.dropped_keys:
            result.components["tick_trace_dropped_keys"] = ",".join(writer.dropped_keys)
    if out_dir is not None:
        result.write(out_dir, **dict(metadata or {}))
    return result


# ----------------------------------------------------------------------------------------------
# Engines and data for the standard (gold) run
# ----------------------------------------------------------------------------------------------
def engine_factory_for(name: str, **overrides: Any) -> Callable[[], Any]:
    """Return a factory for a named engine: ``d_liq``, ``boost`` or ``baseline`` (plain NDAlphaEngine).

    Every variant takes ``ENGINE_KWARGS`` (updated with ``overrides``).
    """
    if name not in ENGINE_CHOICES:
        raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(ENGINE_CHOICES)}")
    kwargs = {**dict(ENGINE_KWARGS), **overrides}
    engine_mod = importlib.import_module("nautilus_dolphin.engine")

    def factory() -> Any:
        if name == "d_liq":
            return engine_mod.create_d_liq_engine(**kwargs)
        if name == "boost":
            return engine_mod.create_boost_engine(**kwargs)
        return engine_mod.NDAlphaEngine(**kwargs)

    factory.__name__ = name
    return factory


def list_vbt_dates(data_dir: str | Path) -> list[str]:
    """Return the dates of the ``YYYY-MM-DD.parquet`` files in ``data_dir``, sorted."""
    d = Path(data_dir)
    if not d.is_dir():
        raise FileNotFoundError(f"data directory not found: {d}")
    return sorted(p.stem for p in d.glob("*.parquet") if DATE_RE.match(p.stem))


def load_vbt_day(path: str | Path) -> tuple[str, pd.DataFrame, list[str], np.ndarray]:
    """Load one vbt_cache file as the harness's ``(date, df, asset_columns, dvol)``.

    Uses ``data.vbt_cache.read_day`` (float64, canonical column order, validated; raises
    ``VbtCacheError`` naming the file, column and row on bad data).
    """
    from nautilus_dolphin.data.vbt_cache import read_day

    day = read_day(path)
    return day.date, day.df, day.asset_columns, day.dvol


def dataset_vol_p60(data_dir: str | Path) -> float:
    """Return the gold ``vol_p60`` of a vbt_cache directory: its first two files, whatever the window."""
    from nautilus_dolphin.data.vbt_cache import VbtCache

    return VbtCache(data_dir).vol_p60


def select_dates(
    dates: Sequence[str], start: str | None = None, end: str | None = None, n_days: int | None = None
) -> list[str]:
    """Return the dates in ``[start, end]`` (inclusive), then the first ``n_days`` of them."""
    for name, v in (("start", start), ("end", end)):
        if v is not None and not DATE_RE.match(v):
            raise ValueError(f"--{name} must be YYYY-MM-DD, got {v!r}")
    if n_days is not None and n_days < 1:
        raise ValueError(f"--days must be >= 1, got {n_days}")
    out = [d for d in dates if (start is None or d >= start) and (end is None or d <= end)]
    return out[:n_days] if n_days is not None else out


def iter_vbt_days(data_dir: str | Path, dates: Sequence[str]) -> Iterable[DayInput]:
    """Yield ``load_vbt_day`` for each date of ``dates`` in ``data_dir``."""
    d = Path(data_dir)
    for ds in dates:
        yield load_vbt_day(d / f"{ds}.parquet")


def resolve_vbt_dir(path: str | Path) -> Path:
    """Return the vbt_cache directory for a catalog root or a vbt_cache directory itself."""
    p = Path(path)
    if (p / "vbt_cache").is_dir():
        return p / "vbt_cache"
    return p


def run_gold(
    data_dir: str | Path,
    engine: str = "d_liq",
    *,
    start: str | None = None,
    end: str | None = None,
    n_days: int | None = None,
    out_dir: str | Path | None = None,
    tick_trace: bool = False,
    forewarner: Any = True,
    mc_cfg: Mapping[str, Any] | None = None,
    progress: ProgressFn | None = None,
    engine_overrides: Mapping[str, Any] | None = None,
) -> BacktestResult:
    """Run a named engine over a vbt_cache directory with the gold wiring; write outputs to ``out_dir``.

    ``data_dir`` is a vbt_cache directory or a catalog root holding ``vbt_cache/``. ``forewarner``
    True loads the shipped MC-Forewarner (left out, and recorded, when none is available), False
    runs without one, or pass an instance. ``vol_p60`` is the dataset's (its first two files, by the
    gold method) and the ACB is preloaded with the dataset's days before the window too, so a
    sub-window sees the same threshold and the same per-day boosts as the full window.
    """
    vdir = resolve_vbt_dir(data_dir)
    all_dates = list_vbt_dates(vdir)
    if not all_dates:
        raise ValueError(f"no YYYY-MM-DD.parquet files in {vdir}")
    dates = select_dates(all_dates, start, end, n_days)
    if not dates:
        raise ValueError(
            f"no days in range start={start} end={end} (data has {all_dates[0]} .. {all_dates[-1]})"
        )
    factory = engine_factory_for(engine, **dict(engine_overrides or {}))
    fw: Any = None
    fw_note = None
    if forewarner is True:
        try:
            fw = default_forewarner()
        except Exception as exc:
            fw_note = f"unavailable: {type(exc).__name__}: {exc}"
            warnings.warn(f"MC-Forewarner left out: {exc}", RuntimeWarning, stacklevel=2)
    elif forewarner is not False:
        fw = forewarner
    params = {**dict(ENGINE_KWARGS), **dict(engine_overrides or {})}
    vol_p60 = dataset_vol_p60(vdir)
    if tick_trace and out_dir is None:
        raise ValueError("run_gold: tick_trace needs out_dir")
    history = [d for d in all_dates if d < dates[0]]
    result = run_backtest(
        factory,
        iter_vbt_days(vdir, dates),
        vol_p60=vol_p60,
        acb_dates=history,
        acb_loader=lambda d: load_vbt_day(vdir / f"{d}.parquet")[1],
        forewarner=fw,
        mc_cfg=mc_cfg,
        tick_trace=Path(out_dir) / TICK_TRACE if tick_trace and out_dir is not None else False,
        progress=progress,
        out_dir=None,
        engine_name=engine,
        params=params,
    )
    if fw_note is not None:
        result.components["forewarner"] = fw_note
    if out_dir is not None:
        result.write(out_dir, runner="standalone", data_source=str(vdir))
    return result
