"""``dolphin catalog synth|import``: build the DOLPHIN Nautilus catalog.

``synth`` generates the synthetic market (``nautilus_dolphin.data.synth``), writes the vbt_cache
layout under ``<out>/vbt_cache/`` (and ``vbt_cache/ob/``) and the catalog at ``<out>``.
``import`` reads a real vbt_cache directory (``nautilus_dolphin.data.vbt_cache``) into a catalog.
Both show a per-day progress bar on stderr, are idempotent (completed days are skipped) and
crash-safe (see ``strategies.catalog``). ``ensure_default_catalog()`` is what ``dolphin backtest``
calls to get the default synthetic catalog.
"""

import argparse
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

VBT_SUBDIR: str = "vbt_cache"


class _Progress:
    """Plain-text per-day progress bar on stderr."""

    def __init__(self, total: int, label: str, enabled: bool = True) -> None:
        self.total, self.label, self.enabled = total, label, enabled
        self.t0 = time.perf_counter()
        self.n = 0

    def step(self, what: str) -> None:
        self.n += 1
        if not self.enabled:
            return
        width = 30
        fill = int(width * self.n / max(self.total, 1))
        el = time.perf_counter() - self.t0
        sys.stderr.write(
            f"\r{self.label} [{'#' * fill}{'.' * (width - fill)}] {self.n}/{self.total} {what} {el:6.1f}s"
        )
        if self.n >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def build_synthetic_catalog(
    out: str | Path | None = None,
    days: int | None = None,
    assets: int = 48,
    seed: int = 42,
    start: date | None = None,
    spread_bps: float | None = None,
    ob_every: int | None = None,
    progress: bool = True,
    scans_per_day: int | None = None,
) -> dict[str, Any]:
    """Generate the synthetic market into ``out`` (vbt_cache files + catalog); return figures."""
    from nautilus_dolphin.data.synth import DEFAULT_DAYS
    from nautilus_dolphin.data.synth import DEFAULT_START
    from nautilus_dolphin.data.synth import SynthConfig
    from nautilus_dolphin.data.synth import SyntheticMarket
    from nautilus_dolphin.data.synth import write_vbt_day
    from strategies.catalog import DEFAULT_SPREAD_BPS
    from strategies.catalog import DolphinCatalogWriter
    from strategies.catalog import default_root

    root = Path(out) if out is not None else default_root()
    kw: dict[str, Any] = dict(
        start=start or DEFAULT_START, days=days or DEFAULT_DAYS, n_assets=assets, seed=seed,
    )
    if ob_every is not None:
        kw["ob_every"] = ob_every
    if scans_per_day is not None:
        kw["scans_per_day"] = scans_per_day
        kw["scans_jitter"] = min(60, scans_per_day // 10)
    cfg = SynthConfig(**kw)
    writer = DolphinCatalogWriter(
        root, cfg.symbols, "synthetic", cfg.fingerprint(),
        DEFAULT_SPREAD_BPS if spread_bps is None else spread_bps,
    )
    writer.remove_incomplete()
    writer.write_instruments()
    vbt_dir = root / VBT_SUBDIR
    market = SyntheticMarket(cfg)
    bar = _Progress(cfg.days, "synth", progress)
    t0 = time.perf_counter()
    figs = {"days_written": 0, "days_skipped": 0, "scans": 0, "quotes": 0, "ob_rows": 0, "mr_triggers": 0}
    for day in market.days():
        figs["scans"] += len(day.frame)
        figs["mr_triggers"] += day.mr_triggers
        done = day.date in writer.days and (vbt_dir / f"{day.date}.parquet").is_file()
        if not done:
            write_vbt_day(day, vbt_dir)
        st = writer.write_day(day.date, day.frame, day.ob)
        figs["days_skipped" if st.skipped else "days_written"] += 1
        figs["quotes"] += st.quotes
        figs["ob_rows"] += st.ob_rows
        bar.step(day.date)
    figs["wall_s"] = time.perf_counter() - t0
    figs["root"] = str(root)
    return figs


def import_vbt_cache(
    vbt_dir: str | Path, out: str | Path | None = None, spread_bps: float | None = None, progress: bool = True
) -> dict[str, Any]:
    """Import a vbt_cache directory (and its ``ob/`` snapshots) into a catalog; return figures."""
    import numpy as np

    from nautilus_dolphin.data.vbt_cache import VbtCache
    from strategies.catalog import DEFAULT_SPREAD_BPS
    from strategies.catalog import DolphinCatalogWriter
    from strategies.catalog import default_root

    cache = VbtCache(vbt_dir)
    if not cache.dates:
        raise FileNotFoundError(f"{vbt_dir}: no YYYY-MM-DD.parquet files")
    root = Path(out) if out is not None else default_root()
    first = cache.load(cache.dates[0])
    assets = first.asset_columns
    writer = DolphinCatalogWriter(
        root, assets, f"vbt_cache:{Path(vbt_dir).resolve()}", {"importer": 1},
        DEFAULT_SPREAD_BPS if spread_bps is None else spread_bps,
    )
    writer.remove_incomplete()
    writer.write_instruments()
    bar = _Progress(len(cache.dates), "import", progress)
    t0 = time.perf_counter()
    figs = {"days_written": 0, "days_skipped": 0, "scans": 0, "quotes": 0, "ob_rows": 0, "extra_columns_dropped": 0}
    for d in cache.dates:
        if d in writer.days:
            figs["days_skipped"] += 1
            bar.step(d)
            continue
        day = first if d == first.date else cache.load(d)
        df = day.df
        for a in assets:
            if a not in df.columns:
                df[a] = np.nan  # asset absent that day: missing prices
        extra = [c for c in day.asset_columns if c not in assets]
        figs["extra_columns_dropped"] += len(extra)
        st = writer.write_day(d, df, cache.load_ob_day(d))
        figs["days_written"] += 1
        figs["scans"] += st.scans
        figs["quotes"] += st.quotes
        figs["ob_rows"] += st.ob_rows
        bar.step(d)
    figs["wall_s"] = time.perf_counter() - t0
    figs["root"] = str(root)
    return figs


def ensure_default_catalog(path: str | Path | None = None, progress: bool = True) -> Path:
    """Build the default synthetic catalog (full gold window) if missing or incomplete; return its root."""
    from nautilus_dolphin.data.synth import SynthConfig
    from strategies.catalog import default_root
    from strategies.catalog import read_meta

    root = Path(path) if path is not None else default_root()
    cfg = SynthConfig()
    meta = read_meta(root)
    if meta is not None and meta.get("fingerprint") == cfg.fingerprint() and set(cfg.dates) <= set(meta.get("days", [])):
        return root
    build_synthetic_catalog(out=root, progress=progress)
    return root


def _run_synth(args: argparse.Namespace) -> int:
    from strategies.catalog import CatalogMismatchError

    try:
        start = date.fromisoformat(args.start) if args.start else None
    except ValueError:
        print(f"--start must be YYYY-MM-DD, got {args.start!r}", file=sys.stderr)
        return 2
    try:
        figs = build_synthetic_catalog(
            args.out, args.days, args.assets, args.seed, start, args.spread_bps, args.ob_every, not args.quiet,
            args.scans_per_day,
        )
    except (CatalogMismatchError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"catalog {figs['root']}: {figs['days_written']} days written, {figs['days_skipped']} skipped, "
        f"{figs['scans']} scans, {figs['quotes']} quotes, {figs['ob_rows']} OB snapshots in {figs['wall_s']:.1f}s"
    )
    return 0


def _run_import(args: argparse.Namespace) -> int:
    from nautilus_dolphin.data.vbt_cache import VbtCacheError
    from strategies.catalog import CatalogMismatchError

    try:
        figs = import_vbt_cache(args.vbt_cache_dir, args.out, args.spread_bps, not args.quiet)
    except (VbtCacheError, CatalogMismatchError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"catalog {figs['root']}: {figs['days_written']} days imported, {figs['days_skipped']} skipped, "
        f"{figs['scans']} scans, {figs['quotes']} quotes, {figs['ob_rows']} OB snapshots in {figs['wall_s']:.1f}s"
    )
    return 0


def register(subparsers: Any) -> None:
    """Add ``dolphin catalog {synth,import}``."""
    p = subparsers.add_parser("catalog", help="build the Nautilus data catalog (synthetic or from vbt_cache)")
    sub = p.add_subparsers(dest="catalog_command", metavar="{synth,import}")
    s = sub.add_parser("synth", help="generate the synthetic market into a catalog")
    s.add_argument("--days", type=int, default=None, help="days (default 56: the gold window)")
    s.add_argument("--assets", type=int, default=48, help="assets (default 48)")
    s.add_argument("--seed", type=int, default=42, help="seed (default 42)")
    s.add_argument("--start", default=None, help="first day YYYY-MM-DD (default 2025-12-31)")
    s.add_argument("--out", default=None, help="catalog root (default $DOLPHIN_CATALOG or ./catalog)")
    s.add_argument("--spread-bps", type=float, default=None, help="quote spread around the scan price (default 1)")
    s.add_argument("--ob-every", type=int, default=None, help="OB snapshot cadence in scans (default 12)")
    s.add_argument("--scans-per-day", type=int, default=None, help="scans per day (default 6200)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=_run_synth)
    i = sub.add_parser("import", help="import a DOLPHIN vbt_cache directory into a catalog")
    i.add_argument("vbt_cache_dir", help="directory of YYYY-MM-DD.parquet files (optional ob/ subfolder)")
    i.add_argument("--out", default=None, help="catalog root (default $DOLPHIN_CATALOG or ./catalog)")
    i.add_argument("--spread-bps", type=float, default=None, help="quote spread around the scan price (default 1)")
    i.add_argument("--quiet", action="store_true", help="no progress bar")
    i.set_defaults(func=_run_import)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
