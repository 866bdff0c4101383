"""``dolphin obf-publish``: run the OB publisher node (Binance USDT-M L2 books -> Hazelcast).

Also runnable as ``python -m adapters.hazelcast.publisher_cli`` with the same options.
Binance credentials come only from the environment variables named by ``--api-key-env`` /
``--api-secret-env`` (default ``BINANCE_API_KEY`` / ``BINANCE_API_SECRET``); they are never
printed or logged.
"""

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from strategies.node_runner import run_node_until_stopped

if TYPE_CHECKING:
    from adapters.hazelcast.config import HazelcastClientSettings


def add_hazelcast_arguments(parser: argparse.ArgumentParser) -> None:
    """Hazelcast target options shared by ``obf-publish`` and ``replay``."""
    g = parser.add_argument_group("Hazelcast")
    g.add_argument("--hz-cluster", default="dev", help="cluster name (default dev)")
    g.add_argument("--hz-members", default="127.0.0.1:5701",
                   help="comma-separated host:port list (default 127.0.0.1:5701)")
    g.add_argument("--map", dest="map_name", default="DOLPHIN_FEATURES", help="IMap of the OB payloads")
    g.add_argument("--key-pattern", default="asset_{symbol}_ob", help="key of one asset (needs {symbol})")


def hazelcast_settings(args: argparse.Namespace, assets: tuple[str, ...], **extra: Any) -> "HazelcastClientSettings":
    """``HazelcastClientSettings`` from the shared options (short connect timeouts for a CLI).

    ``extra`` are further ``HazelcastClientSettings`` fields (e.g. ``scan_map``, ``scan_key``).
    """
    from adapters.hazelcast.config import HazelcastClientSettings

    return HazelcastClientSettings(
        cluster_name=args.hz_cluster,
        members=tuple(m.strip() for m in args.hz_members.split(",") if m.strip()),
        map_name=args.map_name,
        key_pattern=args.key_pattern,
        assets=assets,
        rebuild_backoff_s=2.0,
        **extra,
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``obf-publish`` sub-command."""
    p = subparsers.add_parser(
        "obf-publish",
        help="publish Binance USDT-M L2 books to Hazelcast as DOLPHIN OB snapshots (~100 ms)",
        description="Run a Nautilus node with the Binance USDT-M data client that keeps each asset's L2 "
        "book and writes the seed-000 payload to Hazelcast map DOLPHIN_FEATURES, key asset_{SYMBOL}_ob.",
    )
    configure_parser(p)
    p.set_defaults(func=run)


def configure_parser(p: argparse.ArgumentParser) -> None:
    """Add the ``obf-publish`` options to ``p``."""
    p.add_argument("--assets", nargs="+", default=None, help="symbols (default: the 48-asset universe)")
    p.add_argument("--interval-ms", type=int, default=100, help="publication cadence (default 100)")
    p.add_argument("--book-depth", type=int, default=0, choices=(0, 5, 10, 20),
                   help="0 = diff stream full book (default); 5/10/20 = Binance partial-depth stream")
    p.add_argument("--update-speed-ms", type=int, default=100, choices=(0, 100, 250, 500),
                   help="Binance depth stream speed (default 100)")
    p.add_argument("--book-time", choices=("event", "local"), default="event",
                   help="payload timestamp: exchange event time of the last update (default) or the local "
                   "clock when the publisher saw it (venues whose clock is not wall time, e.g. the loopback venue)")
    add_hazelcast_arguments(p)
    b = p.add_argument_group("Binance")
    b.add_argument("--api-key-env", default="BINANCE_API_KEY", help="env var holding the API key")
    b.add_argument("--api-secret-env", default="BINANCE_API_SECRET", help="env var holding the API secret")
    b.add_argument("--testnet", action="store_true", help="use the Binance USDT-M testnet")
    b.add_argument("--base-url-http", default=None, help="REST base URL override (e.g. a loopback venue)")
    b.add_argument("--base-url-ws", default=None, help="WebSocket base URL override")
    p.add_argument("--duration", type=float, default=0.0, help="stop after this many seconds (0 = until Ctrl-C)")
    p.add_argument("--log-level", default="INFO", help="Nautilus log level (default INFO)")
    p.add_argument("--log-every", type=float, default=30.0, help="seconds between summary lines (default 30)")


def run(args: argparse.Namespace) -> int:
    """Build and run the publisher node; returns the exit code."""
    import json

    from adapters.hazelcast.publisher import OBPublisherConfig
    from adapters.hazelcast.publisher import OBPublishNodeConfig
    from adapters.hazelcast.publisher import build_publisher_node
    from nautilus_dolphin.data.universe import ASSETS

    assets = tuple(args.assets) if args.assets else tuple(ASSETS)
    unknown = [a for a in assets if a not in ASSETS]
    if unknown:
        print(f"obf-publish: unknown asset(s) {unknown}; expected symbols of the DOLPHIN universe", file=sys.stderr)
        return 2
    try:
        config = OBPublishNodeConfig(
            publisher=OBPublisherConfig(
                hazelcast=hazelcast_settings(args, assets),
                assets=assets,
                interval_ms=args.interval_ms,
                book_depth=args.book_depth,
                update_speed_ms=args.update_speed_ms,
                book_time=args.book_time,
                log_every_s=args.log_every,
            ),
            api_key_env=args.api_key_env,
            api_secret_env=args.api_secret_env,
            testnet=args.testnet,
            base_url_http=args.base_url_http,
            base_url_ws=args.base_url_ws,
            log_level=args.log_level,
        )
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        node, actor = build_publisher_node(config, loop=loop)
    except ValueError as exc:
        print(f"obf-publish: {exc}", file=sys.stderr)
        return 2
    try:
        run_node_until_stopped(node, loop, args.duration)
    finally:
        counters = actor.counters()
        node.dispose()
    print(json.dumps({"obf_publish": counters}, default=str), flush=True)
    return 0 if counters.get("payloads_sent", 0) > 0 or args.duration == 0 else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m adapters.hazelcast.publisher_cli``."""
    parser = argparse.ArgumentParser(prog="obf-publish", description="DOLPHIN OB publisher")
    configure_parser(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
