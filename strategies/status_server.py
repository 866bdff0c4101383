"""A read-only live-status JSON endpoint for ``dolphin live`` (``status_port`` in the config).

Serves, on ``127.0.0.1`` by default, what ``LiveMonitor`` knows:

- ``GET /status``: the status record the status line prints (mode, counters, guard, positions,
  capital, latency, data-client counters);
- ``GET /decisions?n=50``: the strategy's newest decisions (ENTRY, EXIT_INTENT, EXIT, BLOCKED, ...);
- ``GET /orders?n=50``: the newest order events.

It runs on the node's event loop (aiohttp), never changes anything, and carries no secrets (the
status record holds none). Binding to another interface is the operator's explicit choice
(``status_host``).
"""

import json
from typing import Any

from aiohttp import web

DEFAULT_N: int = 50


class StatusServer:
    """aiohttp server answering ``/status``, ``/decisions`` and ``/orders`` from a ``LiveMonitor``."""

    def __init__(self, monitor: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.monitor = monitor
        self.host = host
        self.port = int(port)
        self.bound_port: int | None = None
        self.requests = 0
        self._runner: web.AppRunner | None = None

    @staticmethod
    def _n(request: web.Request) -> int:
        try:
            return max(1, min(int(request.query.get("n", DEFAULT_N)), 10_000))
        except ValueError as exc:
            raise web.HTTPBadRequest(text="n must be an integer") from exc

    def _json(self, payload: Any) -> web.Response:
        self.requests += 1
        return web.Response(text=json.dumps(payload, default=str), content_type="application/json")

    async def _status(self, request: web.Request) -> web.Response:
        return self._json(self.monitor.status())

    async def _decisions(self, request: web.Request) -> web.Response:
        return self._json(list(self.monitor.strategy.decisions)[-self._n(request) :])

    async def _orders(self, request: web.Request) -> web.Response:
        return self._json(list(self.monitor.recent_orders)[-self._n(request) :])

    async def start(self) -> int:
        """Start listening; return the bound port (``port=0`` picks a free one)."""
        app = web.Application()
        app.router.add_get("/status", self._status)
        app.router.add_get("/decisions", self._decisions)
        app.router.add_get("/orders", self._orders)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.bound_port = site._server.sockets[0].getsockname()[1]  # the real port when port=0
        return self.bound_port

    async def stop(self) -> None:
        """Stop listening and release the port."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
