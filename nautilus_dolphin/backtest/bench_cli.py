"""``dolphin bench harness``: bars/second of the standalone harness on a full synthetic window.

The dataset is the project's synthetic market (``data.synth``, 48 assets, 56 days of ~6,200 scans
by default, the size of the gold window) written as vbt_cache parquet files to a temporary
directory (generation is not timed), or an existing vbt_cache directory given with ``--data``.
Figures: loading the parquet files; setup (ACB preload, wiring); the day loop (per-day OB preload,
volatility filter, ``process_day``); ``process_day`` alone. A one-day warm-up run first loads the
numba caches so compilation is not counted (its time is reported).
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``bench`` sub-command (target: ``harness``)."""
    p = subparsers.add_parser("bench", help="benchmarks (harness: bars/second of the standalone harness)")
    sub = p.add_subparsers(dest="bench_target", metavar="TARGET")
    h = sub.add_parser("harness", help="bars/second of the standalone harness on a 48-asset synthetic window")
    h.add_argument("--days", type=int, default=56, help="days of synthetic data (default 56)")
    h.add_argument("--assets", type=int, default=48, help="assets (default 48)")
    h.add_argument("--data", default=None, help="use this vbt_cache directory (or catalog root) instead")
    h.add_argument("--engine", default="d_liq", help="engine variant (default d_liq)")
    h.set_defaults(func=main)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def generate_dataset(out_dir: Path, n_days: int, n_assets: int, seed: int = 42) -> list[Path]:
    """Write ``n_days`` synthetic vbt_cache days of ``n_assets`` to ``out_dir``; return the files."""
    from nautilus_dolphin.data.synth import SynthConfig
    from nautilus_dolphin.data.synth import SyntheticMarket

    out_dir.mkdir(parents=True, exist_ok=True)
    market = SyntheticMarket(SynthConfig(days=n_days, n_assets=n_assets, seed=seed))
    paths = []
    for day in market.days():
        p = out_dir / f"{day.date}.parquet"
        day.frame.to_parquet(p, index=False)
        paths.append(p)
    return paths


def run_harness_bench(
    n_days: int = 56, n_assets: int = 48, data_dir: str | Path | None = None, engine: str = "d_liq"
) -> dict[str, Any]:
    """Run the benchmark and return its figures (seconds, bars, bars/second)."""
    from nautilus_dolphin.backtest.harness import default_forewarner
    from nautilus_dolphin.backtest.harness import engine_factory_for
    from nautilus_dolphin.backtest.harness import list_vbt_dates
    from nautilus_dolphin.backtest.harness import load_vbt_day
    from nautilus_dolphin.backtest.harness import resolve_vbt_dir
    from nautilus_dolphin.backtest.harness import run_backtest

    fig: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="dolphin-bench-") as tmp:
        if data_dir is None:
            t0 = time.perf_counter()
            vdir = Path(tmp) / "vbt_cache"
            generate_dataset(vdir, n_days, n_assets)
            fig["generate_s"] = time.perf_counter() - t0
            fig["data"] = f"synthetic (data.synth, seed 42, {n_days} days, {n_assets} assets)"
        else:
            vdir = resolve_vbt_dir(data_dir)
            fig["data"] = str(vdir)
        dates = list_vbt_dates(vdir)[:n_days]
        if not dates:
            raise ValueError(f"no YYYY-MM-DD.parquet files in {vdir}")
        t0 = time.perf_counter()
        days = [load_vbt_day(vdir / f"{ds}.parquet") for ds in dates]
        fig["load_s"] = time.perf_counter() - t0

    try:
        fw = default_forewarner()
    except Exception:
        fw = None
    factory = engine_factory_for(engine)
    t0 = time.perf_counter()
    run_backtest(factory, days[:1], forewarner=fw)
    fig["warmup_s"] = time.perf_counter() - t0

    res = run_backtest(factory, days, forewarner=fw)
    bars = res.bars
    run_s = res.setup_seconds + res.loop_seconds
    fig.update(
        engine=engine,
        days=len(days),
        assets=len(days[0][2]),
        bars=bars,
        trades=res.metrics.trades,
        roi_pct=res.metrics.roi_pct,
        components=res.components,
        setup_s=res.setup_seconds,
        loop_s=res.loop_seconds,
        engine_s=res.engine_seconds,
        ob_s=res.ob_seconds,
        run_s=run_s,
        total_s=fig["load_s"] + run_s,
        bars_per_s_engine=bars / res.engine_seconds,
        bars_per_s_run=bars / run_s,
        bars_per_s_total=bars / (fig["load_s"] + run_s),
    )
    return fig


def format_figures(fig: dict[str, Any]) -> str:
    """Return the printed benchmark table."""
    lines = [
        f"standalone harness benchmark: {fig['engine']}, {fig['days']} days x {fig['assets']} assets, "
        f"{fig['bars']:,} bars, {fig['trades']} trades, ROI {fig['roi_pct']:+.2f} %",
        f"  data: {fig['data']}",
        f"  components: {', '.join(f'{k}: {v}' for k, v in fig['components'].items())}",
    ]
    if "generate_s" in fig:
        lines.append(f"  generate (not timed below)   {fig['generate_s']:8.2f} s")
    lines += [
        f"  warm-up (1 day, numba caches) {fig['warmup_s']:8.2f} s",
        f"  load parquet                  {fig['load_s']:8.2f} s",
        f"  setup (ACB preload, wiring)   {fig['setup_s']:8.2f} s",
        f"  day loop (OB, vol, engine)    {fig['loop_s']:8.2f} s",
        f"    of which OB preload         {fig['ob_s']:8.2f} s",
        f"    of which process_day        {fig['engine_s']:8.2f} s   {fig['bars_per_s_engine']:>12,.0f} bars/s",
        f"  run, excluding loading        {fig['run_s']:8.2f} s   {fig['bars_per_s_run']:>12,.0f} bars/s",
        f"  run, including loading        {fig['total_s']:8.2f} s   {fig['bars_per_s_total']:>12,.0f} bars/s",
    ]
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    """Run ``dolphin bench harness``."""
    if args.days < 1 or args.assets < 2:
        print("dolphin bench: error: --days must be >= 1 and --assets >= 2", file=sys.stderr)
        return 2
    if args.data is not None and not Path(args.data).is_dir():
        print(f"dolphin bench: error: data directory not found: {args.data}", file=sys.stderr)
        return 2
    try:
        fig = run_harness_bench(args.days, args.assets, args.data, args.engine)
    except ValueError as exc:
        print(f"dolphin bench: error: {exc}", file=sys.stderr)
        return 2
    print(format_figures(fig))
    return 0
