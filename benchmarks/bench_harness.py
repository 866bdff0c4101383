"""Bars/second of the standalone harness on a 48-asset, 56-day DOLPHIN-format dataset.

Usage: ``python benchmarks/bench_harness.py [--days N] [--assets N] [--data DIR]`` (the same as
``dolphin bench harness``). Generates the synthetic window (``data.synth``) into a temporary
directory unless ``--data`` names a vbt_cache directory, then prints the timings excluding and
including data loading. Figures are recorded in ``docs/performance.md`` ("Standalone harness").
"""

import argparse
import sys

from nautilus_dolphin.backtest.bench_cli import main


def _parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--days", type=int, default=56)
    p.add_argument("--assets", type=int, default=48)
    p.add_argument("--data", default=None)
    p.add_argument("--engine", default="d_liq")
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main(_parse()))
