"""The ``dolphin`` command.

Each sub-command lives in the module that owns its subject and is registered here by name, so
``dolphin --help`` stays fast and ``nautilus_dolphin`` imports nothing Nautilus-facing at import
time. A registrar is a function ``register(subparsers) -> None`` that adds one sub-parser whose
``func`` default runs the command and returns an exit code.
"""

import argparse
import importlib
import sys
from collections.abc import Sequence

# name -> "module:function"; the CLI is the application layer, the one place that may reach
# into ``strategies`` and ``adapters`` (lazily, by name).
REGISTRARS: dict[str, str] = {
    "backtest": "nautilus_dolphin.backtest.cli:register",
    "catalog": "strategies.catalog_cli:register",
    "bench": "nautilus_dolphin.backtest.bench_cli:register",
    "mc-train": "nautilus_dolphin.risk.cli:register",
    "venue": "adapters.loopback.binance_futures.cli:register",
    "hz-member": "adapters.loopback.hazelcast.cli:register",
    "obf-publish": "adapters.hazelcast.publisher_cli:register",
    "replay": "adapters.hazelcast.replay_cli:register",
    "live": "strategies.live_cli:register",
}


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every registrar that can be imported."""
    parser = argparse.ArgumentParser(prog="dolphin", description="DOLPHIN NG alpha engine on NautilusTrader")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for target in REGISTRARS.values():
        module_name, func_name = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # sub-command not built yet in this checkout
            raise
        getattr(module, func_name)(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``dolphin`` command and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
