"""``python -m adapters.loopback.binance_futures``: run the loopback venue (a TEST STAND-IN).

Prints one JSON line ``{"port": ..., "http": ..., "ws": ...}`` on stdout once it listens, then
serves until ``--duration`` elapses or it receives SIGINT/SIGTERM.
"""

import sys

from adapters.loopback.binance_futures.cli import build_arg_parser
from adapters.loopback.binance_futures.cli import run

if __name__ == "__main__":
    sys.exit(run(build_arg_parser().parse_args()))
