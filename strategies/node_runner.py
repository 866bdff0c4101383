"""Running a live ``TradingNode`` from a command: until a signal, Ctrl-C or a duration.

Shared by ``dolphin live``, ``dolphin obf-publish`` and the Hazelcast demo node.
"""

import asyncio
import signal
from typing import Any


def run_node_until_stopped(node: Any, loop: asyncio.AbstractEventLoop, duration: float) -> None:
    """Run ``node`` until SIGINT/SIGTERM, Ctrl-C or ``duration`` seconds (0 = no limit); the caller disposes it."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, node.stop)
        except (NotImplementedError, RuntimeError):  # not the main thread, or no signals here
            pass
    if duration > 0:
        loop.call_later(duration, node.stop)
    try:
        node.run()
    except KeyboardInterrupt:
        pass
