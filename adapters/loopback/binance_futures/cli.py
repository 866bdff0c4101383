"""``dolphin venue``: run the loopback Binance USDT-M venue (a TEST STAND-IN) for tests and demos.

Prints the base URLs to put in ``BinanceDataClientConfig`` / ``BinanceExecClientConfig``
(``base_url_http``, ``base_url_ws``) as one JSON line, then serves until ``--duration`` elapses
or the process is interrupted. The API secret is never printed.
"""

import argparse
import asyncio
import json
import os
import signal
import sys
from typing import Any

ENV_KEY = "DOLPHIN_VENUE_API_KEY"
ENV_SECRET = "DOLPHIN_VENUE_API_SECRET"


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: chosen by the OS)")
    parser.add_argument("--symbols", nargs="*", default=None, help="universe subset (default: all 48)")
    parser.add_argument("--api-key", default=None, help=f"accepted API key (or env {ENV_KEY})")
    parser.add_argument("--api-secret", default=None, help=f"accepted API secret (or env {ENV_SECRET})")
    parser.add_argument("--duration", type=float, default=None, help="stop after SECS (bounded lifetime)")
    parser.add_argument("--wallet", type=float, default=10_000.0, help="starting USDT wallet balance")
    parser.add_argument("--leverage", type=int, default=20, help="default leverage per symbol")
    parser.add_argument("--step-interval", type=float, default=0.1, help="wall seconds per market step")
    parser.add_argument("--step-ms", type=int, default=1000, help="market milliseconds per random-walk step")
    parser.add_argument("--vol", type=float, default=0.0003, help="random-walk log-return stdev per step")
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    parser.add_argument(
        "--replay",
        default=None,
        help="vbt_cache-layout parquet/csv file to replay instead of the random walk",
    )


def build_arg_parser() -> argparse.ArgumentParser:
    """Parser for ``python -m adapters.loopback.binance_futures``."""
    parser = argparse.ArgumentParser(
        prog="python -m adapters.loopback.binance_futures",
        description="Loopback Binance USDT-M venue (test stand-in)",
    )
    _add_arguments(parser)
    return parser


def register(subparsers: Any) -> None:
    """Add the ``venue`` sub-command to the ``dolphin`` CLI."""
    parser = subparsers.add_parser(
        "venue", help="run the loopback Binance USDT-M venue (test stand-in)", description=__doc__
    )
    _add_arguments(parser)
    parser.set_defaults(func=run)


def _load_frame(path: str) -> Any:
    import pandas as pd

    if path.endswith(".parquet"):
        return pd.read_parquet(path)
    if path.endswith(".csv"):
        return pd.read_csv(path, parse_dates=["timestamp"])
    raise ValueError(f"--replay must be a .parquet or .csv file, got {path!r}")


async def _serve(args: argparse.Namespace) -> int:
    from adapters.loopback.binance_futures.server import DEFAULT_API_KEY
    from adapters.loopback.binance_futures.server import DEFAULT_API_SECRET
    from adapters.loopback.binance_futures.server import LoopbackBinanceVenue
    from adapters.loopback.binance_futures.server import VenueConfig

    config = VenueConfig(
        host=args.host,
        port=args.port,
        symbols=args.symbols or None,
        api_key=args.api_key or os.environ.get(ENV_KEY) or DEFAULT_API_KEY,
        api_secret=args.api_secret or os.environ.get(ENV_SECRET) or DEFAULT_API_SECRET,
        wallet=args.wallet,
        leverage=args.leverage,
        step_interval_secs=args.step_interval,
        step_ms=args.step_ms,
        vol=args.vol,
        seed=args.seed,
        duration_secs=args.duration,
        replay_frame=_load_frame(args.replay) if args.replay else None,
    )
    venue = LoopbackBinanceVenue(config)
    await venue.start()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, venue.stopped.set)
    print(
        json.dumps(
            {
                "port": venue.port,
                "http": venue.http_url,
                "ws": venue.ws_url,
                "api_key": config.api_key,
                "symbols": list(venue.specs),
            }
        ),
        flush=True,
    )
    try:
        await venue.stopped.wait()
    finally:
        await venue.stop()
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the venue until its lifetime ends; return an exit code."""
    try:
        return asyncio.run(_serve(args))
    except ValueError as exc:
        print(f"dolphin venue: {exc}", file=sys.stderr)
        return 2
