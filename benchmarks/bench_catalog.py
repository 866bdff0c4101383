"""Benchmark: `dolphin catalog synth` for the full default window, then the import of its vbt_cache.

Each phase runs in its own subprocess so its peak RSS (ru_maxrss) is its own. Prints the figures;
record them in docs/performance.md ("Data"). Usage:
    /work/venv/bin/python benchmarks/bench_catalog.py [--days 56] [--keep DIR]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_PHASE = r"""
import json, resource, sys, time
from strategies.catalog_cli import build_synthetic_catalog, import_vbt_cache
mode, a, b, days = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
t0 = time.perf_counter()
if mode == "synth":
    figs = build_synthetic_catalog(a, days=days, progress=True)
else:
    figs = import_vbt_cache(a, b, progress=True)
figs["process_wall_s"] = time.perf_counter() - t0
figs["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(figs))
"""


def _phase(mode: str, a: str, b: str, days: int) -> dict:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", _PHASE, mode, a, b, str(days)], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{r.stderr}")
    figs = json.loads(r.stdout.strip().splitlines()[-1])
    figs["subprocess_wall_s"] = time.perf_counter() - t0
    return figs


def _du(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=56)
    ap.add_argument("--keep", default=None, help="build here instead of a temp dir (kept)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-catalog-") as tmp:
        base = Path(args.keep) if args.keep else Path(tmp)
        synth_root, import_root = base / "synth", base / "imported"
        s = _phase("synth", str(synth_root), "", args.days)
        i = _phase("import", str(synth_root / "vbt_cache"), str(import_root), args.days)
        out = {
            "days": args.days,
            "synth": {k: s[k] for k in ("wall_s", "subprocess_wall_s", "peak_rss_mb", "scans", "quotes", "ob_rows",
                                        "mr_triggers")},
            "import": {k: i[k] for k in ("wall_s", "subprocess_wall_s", "peak_rss_mb", "scans", "quotes", "ob_rows")},
            "size_mb": {"vbt_cache": _du(synth_root / "vbt_cache"), "catalog_data": _du(synth_root / "data")},
        }
        print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
