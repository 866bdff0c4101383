"""Record the regression pins of the default synthetic catalog (tests/e2e/regression_pins.json).

Runs the standalone harness over the whole default window for the D_LIQ, boost (adaptive_beta)
and baseline (BRONZE) engines with the gold wiring (mock OB, ACB, the shipped MC-Forewarner) and
writes trades, ROI, max DD and final capital. Re-run it only when a change is MEANT to alter
results, and say so in the commit; tests/e2e/test_regression.py fails on any other drift.

Usage: python benchmarks/pin_regression.py [--catalog catalog]
"""

import argparse
import json
import sys
from pathlib import Path

from nautilus_dolphin.backtest.harness import run_gold
from strategies.catalog_cli import ensure_default_catalog

PINS = Path(__file__).resolve().parents[1] / "tests" / "e2e" / "regression_pins.json"
ENGINES = ("d_liq", "boost", "baseline")


def measure(root: Path, engine: str) -> dict:
    """Run one engine over the default window and return the pinned figures."""
    r = run_gold(root, engine=engine)
    m = r.metrics
    return {
        "trades": m.trades,
        "roi_pct": m.roi_pct,
        "max_dd_pct": m.max_dd_pct,
        "final_capital": r.final_capital,
        "liq_stops": m.liq_stops,
        "exit_reasons": dict(m.exit_reasons),
        "first_trade": list(r.trades[0].key()) if r.trades else None,
        "last_trade": list(r.trades[-1].key()) if r.trades else None,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--catalog", default=None)
    args = ap.parse_args()
    root = Path(args.catalog) if args.catalog else ensure_default_catalog(Path("catalog"))
    pins = {e: measure(root, e) for e in ENGINES}
    PINS.write_text(json.dumps(pins, indent=1, sort_keys=True) + "\n")
    for e, p in pins.items():
        print(f"{e:9s} T={p['trades']} ROI={p['roi_pct']:.4f}% DD={p['max_dd_pct']:.4f}% liq={p['liq_stops']}")
    print(f"wrote {PINS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
