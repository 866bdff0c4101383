"""``dolphin replay``: publish a catalog window's scans and OB snapshots to Hazelcast in (accelerated) real time.

Also runnable as ``python -m adapters.hazelcast.replay_cli``. See ``adapters.hazelcast.replay``.
"""

import argparse
import sys
from collections.abc import Sequence

from adapters.hazelcast.publisher_cli import add_hazelcast_arguments
from adapters.hazelcast.publisher_cli import hazelcast_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``replay`` sub-command."""
    p = subparsers.add_parser(
        "replay",
        help="replay a catalog window's scans and OB snapshots into Hazelcast (demos, soak tests)",
        description="Publish a DOLPHIN catalog window to Hazelcast in (accelerated) real time: OB snapshots "
        "as seed-000 payloads (asset_{SYMBOL}_ob) and scans as JSON at the scan key.",
    )
    configure_parser(p)
    p.set_defaults(func=run)


def configure_parser(p: argparse.ArgumentParser) -> None:
    """Add the ``replay`` options to ``p``."""
    p.add_argument("--catalog", default=None, help="catalog root (default: the project catalog/)")
    p.add_argument("--start", default=None, help="first day YYYY-MM-DD (default: the catalog's first)")
    p.add_argument("--end", default=None, help="last day YYYY-MM-DD (default: --start, else the catalog's last)")
    p.add_argument("--speed", type=float, default=1.0,
                   help="catalog seconds per wall second (default 1; 0 = as fast as possible)")
    p.add_argument("--max-gap", type=float, default=30.0,
                   help="longest catalog-time pause replayed, in catalog seconds (default 30)")
    p.add_argument("--max-scans", type=int, default=None, help="stop after this many scans")
    p.add_argument("--no-scans", action="store_true", help="publish OB snapshots only")
    p.add_argument("--no-books", action="store_true", help="publish scans only")
    p.add_argument("--timestamps", choices=("now", "original"), default="now",
                   help="payload timestamps: wall clock (default) or the catalog's own")
    p.add_argument("--scan-map", default=None, help="map of the scan key (default: the OB map)")
    p.add_argument("--scan-key", default="latest_eigen_scan", help="key of the latest scan")
    add_hazelcast_arguments(p)


def run(args: argparse.Namespace) -> int:
    """Replay; print a JSON summary; returns the exit code."""
    import json
    import signal
    import threading

    from adapters.hazelcast.replay import CatalogReplayer
    from adapters.hazelcast.replay import ReplayConfig
    from strategies.catalog import DolphinCatalog

    try:
        catalog = DolphinCatalog(args.catalog)
        config = ReplayConfig(
            start=args.start,
            end=args.end or args.start,
            speed=args.speed,
            max_scans=args.max_scans,
            scans=not args.no_scans,
            books=not args.no_books,
            scan_map=args.scan_map,
            scan_key=args.scan_key,
            timestamps=args.timestamps,
            max_gap_s=args.max_gap,
        )
        replayer = CatalogReplayer(catalog, hazelcast_settings(args, tuple(catalog.assets)), config)
    except (FileNotFoundError, ValueError) as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"replay: {replayer.days[0]}..{replayer.days[-1]} at speed {config.speed:g} -> Hazelcast "
          f"{args.hz_cluster!r} at {args.hz_members}", file=sys.stderr, flush=True)
    try:
        counters = replayer.run(stop=stop)
    except TimeoutError as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"replay": counters}), flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m adapters.hazelcast.replay_cli``."""
    parser = argparse.ArgumentParser(prog="replay", description="DOLPHIN catalog replay into Hazelcast")
    configure_parser(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
