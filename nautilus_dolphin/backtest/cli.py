"""``dolphin backtest``: run an engine over the default (or a given) data window and write traces.

Runners are registered by name in ``RUNNERS`` ("module:function"); a runner is called as
``runner(args, catalog_root, progress)`` and returns a ``BacktestResult``-like object (``metrics``,
``outputs``, ``components``, ``engine_seconds``, ``loop_seconds``, ``bars``). ``nautilus`` (the
default) runs DolphinStrategy in a day-batched Nautilus BacktestEngine over the catalog;
``standalone`` runs the reference harness over the catalog's vbt_cache files.

Exit codes: 0 success, 1 the run failed, 2 bad input (unknown engine or runner, missing data
directory, malformed dates, no days in the range).
"""

import argparse
import importlib
import os
import sys
import time
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

RUNNERS: dict[str, str] = {
    "nautilus": "strategies.backtest:run_nautilus",
    "standalone": "nautilus_dolphin.backtest.cli:run_standalone",
}
DEFAULT_RUNNER: str = "nautilus"
ENGINES: tuple[str, ...] = ("d_liq", "boost", "baseline")
DEFAULT_OUT: str = "runs/backtest"


class UsageError(Exception):
    """Bad input: reported on stderr with exit code 2."""


def register(subparsers: Any) -> None:
    """Add the ``backtest`` sub-command."""
    p = subparsers.add_parser(
        "backtest",
        help="run the alpha engine over the data window and write trade/daily traces and summary.json",
        description=(
            "Run an engine over the catalog window and write trade_trace.csv, daily_trace.csv, summary.json "
            "(and tick_trace.csv with --tick-trace); the nautilus runner adds Nautilus's fill, position and "
            "account reports. With no arguments: the D_LIQ engine in a Nautilus BacktestEngine over the whole "
            "default window, building the default catalog first if it is missing."
        ),
    )
    p.add_argument(
        "--catalog",
        default=None,
        help=(
            "catalog root (dolphin_catalog.json + Nautilus data + vbt_cache/); the standalone runner also takes "
            "a plain vbt_cache directory; default $DOLPHIN_CATALOG or ./catalog"
        ),
    )
    p.add_argument("--engine", default="d_liq", help=f"engine variant: {', '.join(ENGINES)} (default d_liq)")
    p.add_argument("--start", default=None, help="first day, YYYY-MM-DD (inclusive)")
    p.add_argument("--end", default=None, help="last day, YYYY-MM-DD (inclusive)")
    p.add_argument("--days", type=int, default=None, help="run only the first N days of the window")
    p.add_argument(
        "--runner",
        default=DEFAULT_RUNNER,
        help=f"backtest runner: {', '.join(RUNNERS)} (default {DEFAULT_RUNNER})",
    )
    p.add_argument(
        "--realistic",
        action="store_true",
        help="realistic venue configuration (spread, Binance fees); needs a runner that models a venue",
    )
    p.add_argument("--out", default=None, help=f"output directory (default {DEFAULT_OUT}/<engine>)")
    p.add_argument("--tick-trace", action="store_true", help="also write tick_trace.csv (one row per bar)")
    p.add_argument(
        "--ob",
        default="mock",
        choices=("mock", "recorded", "none"),
        help="order-book features: mock provider (gold default), the catalog's recorded snapshots, or none",
    )
    p.add_argument("--no-forewarner", action="store_true", help="run without the MC-Forewarner")
    p.add_argument("--quiet", action="store_true", help="no per-day progress lines")
    p.set_defaults(func=main)


def _err(msg: str) -> None:
    print(f"dolphin backtest: error: {msg}", file=sys.stderr, flush=True)


def _catalog_root(args: argparse.Namespace) -> Path:
    """Return the catalog root.

    ``--catalog`` (or ``$DOLPHIN_CATALOG``) is used as given and must hold data. Without either,
    the default synthetic catalog in ``./catalog`` is built when missing or incomplete
    (``ensure_default_catalog`` is idempotent: a complete catalog is returned at once).
    """
    from nautilus_dolphin.backtest.harness import list_vbt_dates
    from nautilus_dolphin.backtest.harness import resolve_vbt_dir

    named = args.catalog or os.environ.get("DOLPHIN_CATALOG")
    if named is None:
        try:
            catalog_cli = importlib.import_module("strategies.catalog_cli")
        except ImportError as exc:
            raise UsageError(f"the catalog builder is not available ({exc})") from exc
        return Path(catalog_cli.ensure_default_catalog(Path("catalog")))
    root = Path(named)
    if not root.is_dir():
        raise UsageError(f"catalog directory not found: {root}")
    if args.runner == "nautilus":
        if not (root / "dolphin_catalog.json").is_file():
            hint, vdir = "", resolve_vbt_dir(root)
            if list_vbt_dates(vdir):
                hint = (
                    f"; it holds vbt_cache day files: import them with `dolphin catalog import {vdir} "
                    "--out CATALOG` or run them with --runner standalone"
                )
            raise UsageError(f"{root} is not a DOLPHIN catalog (no dolphin_catalog.json){hint}")
        return root
    vdir = resolve_vbt_dir(root)
    if not list_vbt_dates(vdir):
        raise UsageError(f"no YYYY-MM-DD.parquet files in {vdir}")
    return root


def _validate(args: argparse.Namespace) -> None:
    from nautilus_dolphin.backtest.harness import DATE_RE

    if args.engine not in ENGINES:
        raise UsageError(f"unknown engine {args.engine!r}; choose one of {', '.join(ENGINES)}")
    if args.runner not in RUNNERS:
        raise UsageError(f"unknown runner {args.runner!r}; choose one of {', '.join(RUNNERS)}")
    if args.days is not None and (args.start is not None or args.end is not None):
        raise UsageError("give either --start/--end or --days, not both")
    if args.days is not None and args.days < 1:
        raise UsageError(f"--days must be >= 1, got {args.days}")
    for name in ("start", "end"):
        v = getattr(args, name)
        if v is not None and not DATE_RE.match(v):
            raise UsageError(f"--{name} must be YYYY-MM-DD, got {v!r}")
    if args.start and args.end and args.start > args.end:
        raise UsageError(f"--start {args.start} is after --end {args.end}")


def _check_window(args: argparse.Namespace, catalog_root: Path) -> None:
    import json

    from nautilus_dolphin.backtest.harness import list_vbt_dates
    from nautilus_dolphin.backtest.harness import resolve_vbt_dir
    from nautilus_dolphin.backtest.harness import select_dates

    vdir = resolve_vbt_dir(catalog_root)
    if args.runner == "nautilus":
        all_dates = sorted(json.loads((catalog_root / "dolphin_catalog.json").read_text()).get("days", []))
        vdir = catalog_root
    else:
        all_dates = list_vbt_dates(vdir)
    if not all_dates:
        raise UsageError(f"no days in {vdir}")
    if not select_dates(all_dates, args.start, args.end, args.days):
        raise UsageError(
            f"no days in range --start {args.start} --end {args.end} "
            f"(data in {vdir} covers {all_dates[0]} .. {all_dates[-1]})"
        )


def _progress_printer(quiet: bool) -> Any:
    state = {"t": time.perf_counter()}

    def progress(i: int, n: int, day: Mapping[str, Any]) -> None:
        now = time.perf_counter()
        dt, state["t"] = now - state["t"], now
        if quiet:
            return
        width = len(str(n))
        done = int(20 * (i + 1) / n)
        bar = "#" * done + "." * (20 - done)
        print(
            f"[{bar}] {i + 1:>{width}}/{n} {day.get('date')}  trades {int(day.get('trades', 0)):>4}"
            f"  pnl {float(day.get('pnl', 0.0)):>+12.2f}  capital {float(day.get('capital_end', 0.0)):>14,.2f}"
            f"  mc {day.get('mc_status', '?'):<6} {dt:6.2f} s",
            file=sys.stderr,
            flush=True,
        )

    return progress


def run_standalone(args: argparse.Namespace, catalog_root: Path, progress: Any) -> Any:
    """Run the standalone reference harness (``harness.run_gold``)."""
    from nautilus_dolphin.backtest.harness import run_gold

    if args.realistic:
        raise UsageError(
            "--realistic models a venue (spread, Binance fees); the standalone runner has only the engine's "
            "SP fee model. Use a venue runner (--runner nautilus) for it."
        )
    return run_gold(
        catalog_root,
        engine=args.engine,
        start=args.start,
        end=args.end,
        n_days=args.days,
        out_dir=args.out,
        tick_trace=args.tick_trace,
        forewarner=not args.no_forewarner,
        progress=progress,
    )


def format_summary(result: Any, runner: str) -> str:
    """Return the printed summary table of a run."""
    m = result.metrics
    dates = list(getattr(result, "dates", []))
    window = f"{dates[0]} .. {dates[-1]} ({len(dates)} days)" if dates else "-"
    pf = "inf" if m.profit_factor == float("inf") else f"{m.profit_factor:.3f}"
    rows = [
        ("engine", f"{result.engine_name} ({result.engine_class}), runner {runner}"),
        ("window", window),
        ("bars", f"{m.bars:,} ({m.bars_skipped:,} skipped)"),
        ("capital", f"{m.initial_capital:,.2f} -> {m.final_capital:,.2f}"),
        ("ROI", f"{m.roi_pct:+.2f} %"),
        ("max DD (daily)", f"{m.max_dd_pct:.2f} %   (per-trade curve {m.max_dd_trade_pct:.2f} %)"),
        ("Calmar", f"{m.calmar:.2f}"),
        ("profit factor", pf),
        ("win rate", f"{m.win_rate_pct:.2f} %"),
        ("Sharpe (daily, sqrt 365)", f"{m.sharpe:.2f}"),
        ("trades", f"{m.trades}  (wins {m.wins}, losses {m.losses})"),
        ("liq_stops", f"{m.liq_stops}"),
        ("avg leverage", f"{m.avg_leverage:.2f}x  (max {m.max_leverage:.2f}x)"),
        ("MC RED / ORANGE days", f"{m.mc_red_days} / {m.mc_orange_days}"),
        ("fees", f"{m.fees:,.2f}"),
        ("exits", ", ".join(f"{k} {v}" for k, v in m.exit_reasons.items() if v) or "-"),
        ("vol_p60", f"{result.vol_p60:.8g}"),
        ("components", ", ".join(f"{k}: {v}" for k, v in result.components.items())),
    ]
    eng_s = float(getattr(result, "engine_seconds", 0.0))
    if eng_s > 0:
        rows.append(("engine time", f"{eng_s:.2f} s ({result.bars / eng_s:,.0f} bars/s in process_day)"))
    if hasattr(result, "loop_seconds"):
        rows.append(
            ("harness time", f"{result.setup_seconds:.2f} s setup + {result.loop_seconds:.2f} s day loop "
             f"(of which OB preload {getattr(result, 'ob_seconds', 0.0):.2f} s)")
        )
    for name, path in sorted(getattr(result, "outputs", {}).items()):
        rows.append((name, str(path)))
    w = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k:<{w}}  {v}" for k, v in rows)


def main(args: argparse.Namespace) -> int:
    """Run ``dolphin backtest`` and return the exit code."""
    try:
        _validate(args)
        if args.out is None:
            args.out = str(Path(DEFAULT_OUT) / args.engine)
        catalog_root = _catalog_root(args)
        _check_window(args, catalog_root)
        module_name, func_name = RUNNERS[args.runner].split(":")
        runner = getattr(importlib.import_module(module_name), func_name)
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            result = runner(args, catalog_root, _progress_printer(args.quiet))
        wall = time.perf_counter() - t0
        for w in caught:
            print(f"dolphin backtest: note: {w.message}", file=sys.stderr, flush=True)
    except UsageError as exc:
        _err(str(exc))
        return 2
    except Exception as exc:
        from nautilus_dolphin.data.vbt_cache import VbtCacheError

        if isinstance(exc, VbtCacheError):
            _err(f"bad data: {exc}")
            return 2
        _err(f"run failed: {type(exc).__name__}: {exc}")
        return 1
    print(f"dolphin backtest: {args.engine} over {catalog_root} ({wall:.1f} s wall)")
    print(format_summary(result, args.runner))
    return 0
