"""``dolphin hz-member``: run the loopback Hazelcast TEST MEMBER in the foreground for local demos.

A test stand-in for a real Hazelcast cluster (see ``adapters.loopback.hazelcast.member``); it binds
to 127.0.0.1 by default and keeps data only in memory.
"""

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``hz-member`` sub-command."""
    parser = subparsers.add_parser(
        "hz-member",
        help="run a loopback Hazelcast TEST member (a stand-in for a real cluster, for demos/tests)",
        description="Run a loopback Hazelcast TEST member speaking the client-protocol subset the "
        "hazelcast-python-client needs for IMap work. Not a Hazelcast server.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5701, help="TCP port (default 5701)")
    parser.add_argument("--cluster-name", default="dev", help="cluster name clients must use (default dev)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; returns the exit code."""
    import asyncio
    import logging

    from adapters.loopback.hazelcast.member import HazelcastTestMember

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    member = HazelcastTestMember(host=args.host, port=args.port, cluster_name=args.cluster_name)
    print(
        f"Hazelcast TEST member (a loopback stand-in, not a real cluster) on {args.host}:{args.port}, "
        f"cluster name {args.cluster_name!r}; Ctrl-C to stop",
        flush=True,
    )
    try:
        asyncio.run(member.serve_forever())
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"hz-member: cannot listen on {args.host}:{args.port}: {exc}", flush=True)
        return 1
    return 0
