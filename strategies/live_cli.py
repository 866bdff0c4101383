"""``dolphin live``: run the DOLPHIN strategy in a live ``TradingNode`` from a deployment file.

::

    dolphin live --config examples/live.toml                  # mode from the file
    dolphin live --config live.toml --mode PAPER --duration 3600
    dolphin live --config live.toml --print-config            # every field, defaults filled in

The node stops on SIGINT/SIGTERM (Ctrl-C) or after ``--duration`` seconds; stopping runs the
strategy's ``on_stop`` (state saved) and disconnects the clients. Open positions are left as they
are: a restart adopts them (see docs/live.md).
"""

import argparse
import logging
import sys
from typing import Any

from strategies.live_config import LIVE_MODES


def register(subparsers: Any) -> None:
    """Add the ``live`` sub-command."""
    p = subparsers.add_parser("live", help="run the strategy live (OFF/SHADOW/PAPER/LIVE) from a config file")
    p.add_argument("--config", required=False, help="deployment file (.toml, .yaml or .yml)")
    p.add_argument("--mode", choices=LIVE_MODES, help="override the file's mode")
    p.add_argument("--duration", type=float, default=None, help="stop after SECS (default or 0: run until Ctrl-C)")
    p.add_argument("--print-config", action="store_true", help="print the fully defaulted config and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the config, build the node, run it until a signal or ``--duration``; return 0 on a clean stop."""
    from strategies.live_config import LiveConfig
    from strategies.live_config import format_config
    from strategies.live_config import load_live_config

    try:
        cfg = load_live_config(args.config) if args.config else LiveConfig()
    except (OSError, ValueError) as exc:
        print(f"dolphin live: {exc}", file=sys.stderr)
        return 2
    if args.mode:
        cfg = cfg.replace(mode=args.mode)
    if args.print_config:
        sys.stdout.write(format_config(cfg))
        return 0
    if not args.config:
        print("dolphin live: --config FILE is required (or --print-config)", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from strategies.live_node import build_live_node

    try:
        node = build_live_node(cfg)
    except KeyError as exc:  # a missing secret: the variable is named, never its value
        print(f"dolphin live: {exc.args[0]}", file=sys.stderr)
        return 2
    from strategies.node_runner import run_node_until_stopped

    try:  # SIGINT/SIGTERM and --duration call node.stop, as for obf-publish and the demo node
        run_node_until_stopped(node, node.get_event_loop(), args.duration or 0.0)
    finally:
        node.dispose()
    return 0
