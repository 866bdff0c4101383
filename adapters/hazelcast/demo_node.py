"""A small demo node: ``DolphinStrategy`` in SHADOW mode fed by ``HazelcastDataClient`` (scans + OB snapshots).

``python -m adapters.hazelcast.demo_node [--hz-members 127.0.0.1:5701] [--duration 60]``

The third command of the local demo (member + ``dolphin replay`` + this node): the strategy decides
on every scan the replay publishes, runs ``OBFeatureEngine.step_live`` on the books the data client
delivers, and records its decisions without sending orders (SHADOW). Instruments come from the
universe definitions (``strategies.instruments.make_universe``) since no venue is connected. Every
``--report-every`` seconds, and at the end, it prints one JSON line: strategy counters, the last
decisions, the OB state of BTCUSDT and the data client's counters.

PAPER (sandbox fills) needs market quotes for the sandbox, i.e. a Binance data client (real or the
loopback venue); that wiring belongs to the live node (``dolphin live``), not to this demo.
"""

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from adapters.hazelcast.publisher_cli import add_hazelcast_arguments
from adapters.hazelcast.publisher_cli import hazelcast_settings
from strategies.node_runner import run_node_until_stopped


def build_demo_node(args: argparse.Namespace, loop: Any) -> tuple[Any, Any, Any]:
    """Build (not run) the demo ``TradingNode``; return (node, strategy, data client)."""
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.config import TradingNodeConfig
    from nautilus_trader.live.node import TradingNode

    from adapters.hazelcast.config import HZ_CLIENT_ID
    from adapters.hazelcast.config import HazelcastDataClientConfig
    from adapters.hazelcast.factories import HazelcastLiveDataClientFactory
    from strategies.config import DolphinStrategyConfig
    from strategies.dolphin_strategy import DolphinStrategy
    from strategies.instruments import make_universe

    assets = tuple(args.assets)
    hz = hazelcast_settings(args, assets, scan_map=args.scan_map or args.map_name, scan_key=args.scan_key)
    config = TradingNodeConfig(
        trader_id="DOLPHIN-DEMO-001",
        logging=LoggingConfig(log_level=args.log_level),
        data_clients={HZ_CLIENT_ID: HazelcastDataClientConfig(hazelcast=hz)},
        timeout_connection=10.0,
        timeout_disconnection=5.0,
        timeout_post_stop=0.5,
    )
    node = TradingNode(config=config, loop=loop)
    node.add_data_client_factory(HZ_CLIENT_ID, HazelcastLiveDataClientFactory)
    node.build()
    for inst in make_universe(list(assets)):
        node.cache.add_instrument(inst)
    strategy = DolphinStrategy(
        DolphinStrategyConfig(
            assets=assets,
            mode="SHADOW",
            ob_mode="live",
            scan_client_id=HZ_CLIENT_ID,
            ob_client_id=HZ_CLIENT_ID,
            subscribe_quotes=False,
        )
    )
    node.trader.add_strategy(strategy)
    client = next(c for c in node.kernel.data_engine._clients.values() if str(c.id) == HZ_CLIENT_ID)
    return node, strategy, client


def report(strategy: Any, client: Any) -> dict[str, Any]:
    """One status record: strategy counters, last decisions, BTCUSDT OB placement, feed counters."""
    placement = None
    ob = strategy.ob_engine
    if ob is not None and strategy._bar > 0 and "BTCUSDT" in strategy.assets:
        try:
            p = ob.get_placement("BTCUSDT", strategy._bar - 1)
            placement = {"fill_probability": p.fill_probability, "depth_1pct_usd": p.depth_1pct_usd}
        except Exception as exc:  # a status line must never take the node down
            placement = {"error": repr(exc)}
    c = client.counters()
    return {
        "strategy": dict(strategy.counters),
        "bars": strategy._bar,
        "decisions": list(strategy.decisions)[-3:],
        "btc_placement": placement,
        "feed": {k: c.get(k) for k in ("connected", "published_scans", "published_ob", "rejected_total",
                                      "reconnects", "resyncs")},
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo node until Ctrl-C or ``--duration``; returns the exit code."""
    import asyncio

    from nautilus_dolphin.data.universe import ASSETS

    p = argparse.ArgumentParser(prog="python -m adapters.hazelcast.demo_node",
                                description="DolphinStrategy (SHADOW) fed by Hazelcast scans and OB snapshots")
    p.add_argument("--assets", nargs="+", default=list(ASSETS),
                   help="symbols, in the order of the scans' prices (default: the 48-asset universe)")
    p.add_argument("--scan-map", default=None, help="map of the scan key (default: the OB map)")
    p.add_argument("--scan-key", default="latest_eigen_scan", help="key of the latest scan")
    p.add_argument("--duration", type=float, default=0.0, help="stop after this many seconds (0 = Ctrl-C)")
    p.add_argument("--report-every", type=float, default=10.0, help="seconds between status lines")
    p.add_argument("--log-level", default="WARNING", help="Nautilus log level (default WARNING)")
    add_hazelcast_arguments(p)
    args = p.parse_args(argv)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    node, strategy, client = build_demo_node(args, loop)

    def tick() -> None:
        print(json.dumps({"demo": report(strategy, client)}, default=str), flush=True)
        loop.call_later(args.report_every, tick)

    loop.call_later(args.report_every, tick)
    try:
        run_node_until_stopped(node, loop, args.duration)
    finally:
        final = report(strategy, client)
        node.dispose()
    print(json.dumps({"demo_final": final}, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
