"""Driving a live ``TradingNode`` from a test: poll helper and the run/stop/dispose scaffold (test helper)."""

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any


async def wait_for(
    cond: Callable[[], Any],
    timeout: float,
    what: str,
    poll: float = 0.05,
    show: Callable[[], Any] | None = None,
) -> Any:
    """Poll ``cond`` on the loop until truthy; fail the test naming ``what`` after ``timeout`` s.

    ``show``, when given, is called on a timeout and its value is put in the message (what the
    awaited quantity was instead).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        await asyncio.sleep(poll)
    seen = f"; last seen: {show()!r}" if show is not None else ""
    raise AssertionError(f"timed out after {timeout}s waiting for: {what}{seen}")


def drive_node(
    node: Any,
    loop: asyncio.AbstractEventLoop,
    scenario: Callable[[], Awaitable[None]],
    started: Callable[[], Any] | None,
    start_timeout: float,
    deadline: float,
    hard_stop_secs: float,
    prepare: Callable[[], None] | None = None,
) -> None:
    """Run ``node`` on ``loop`` until ``scenario()`` returns, then stop and dispose it.

    ``prepare`` runs first (e.g. build the node, add a strategy); the scenario starts once
    ``started()`` is truthy (None: at once) and must finish within ``deadline`` s; the node is
    stopped after ``hard_stop_secs`` whatever happens. The first failure is re-raised here.
    """
    failure: list[BaseException] = []

    async def driver() -> None:
        try:
            if started is not None:
                await wait_for(started, start_timeout, "strategy started")
            await asyncio.wait_for(scenario(), timeout=deadline)
        except BaseException as exc:  # re-raised in the test thread
            failure.append(exc)
        finally:
            node.stop()

    try:
        if prepare is not None:
            prepare()
        task = loop.create_task(driver())
        hard = loop.call_later(hard_stop_secs, node.stop)
        node.run()
        hard.cancel()
        if not task.done():
            task.cancel()
            failure.append(AssertionError("node stopped before the scenario finished"))
    finally:
        with contextlib.suppress(Exception):
            node.dispose()
        asyncio.set_event_loop(asyncio.new_event_loop())
    if failure:
        raise failure[0]
