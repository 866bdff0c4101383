"""WebSocket side of the loopback Binance USDT-M venue (a TEST STAND-IN).

- Combined streams: ``/stream?streams=a/b/c`` (and ``/ws/<stream>``); more streams arrive as
  ``{"method": "SUBSCRIBE", "params": [...], "id": n}`` (also UNSUBSCRIBE, LIST_SUBSCRIPTIONS),
  answered ``{"result": null, "id": n}``. Every push uses ``{"stream": name, "data": {...}}``.
- User-data stream: a stream name equal to a live listen key; events are ORDER_TRADE_UPDATE,
  TRADE_LITE, ACCOUNT_UPDATE and listenKeyExpired, subject to the drop/delay faults.
"""

import asyncio
import json
import secrets
import time
from dataclasses import dataclass
from dataclasses import field

from aiohttp import WSMsgType
from aiohttp import web

from adapters.loopback.binance_futures.errors import VenueError
from adapters.loopback.binance_futures.faults import Faults


class ListenKeys:
    """Listen-key lifecycle (create returns the live key if there is one, as Binance does)."""

    def __init__(self) -> None:
        self.active: dict[str, float] = {}
        self.created = 0
        self.keepalives = 0
        self.expired: list[str] = []

    def create(self) -> str:
        """Return the active key or a new one."""
        if self.active:
            key = next(iter(self.active))
        else:
            key = secrets.token_hex(32)
            self.created += 1
        self.active[key] = time.monotonic()
        return key

    def keepalive(self, key: str | None) -> None:
        """Extend a key; -1125 if it does not exist (expired or never issued)."""
        if not key or key not in self.active:
            raise VenueError(-1125, "This listenKey does not exist.")
        self.active[key] = time.monotonic()
        self.keepalives += 1

    def delete(self, key: str | None) -> None:
        """Close a key (idempotent)."""
        if key:
            self.active.pop(key, None)

    def expire(self) -> list[str]:
        """Expire every active key; return them."""
        keys = list(self.active)
        self.expired += keys
        self.active.clear()
        return keys


@dataclass(eq=False)
class _Conn:
    ws: web.WebSocketResponse
    streams: set[str] = field(default_factory=set)
    listen_keys: set[str] = field(default_factory=set)


class StreamHub:
    """Tracks WebSocket connections and fans out market and user-data messages."""

    def __init__(self, listen_keys: ListenKeys, faults: Faults) -> None:
        self.listen_keys = listen_keys
        self.faults = faults
        self.conns: set[_Conn] = set()
        self.user_events_sent = 0
        self.user_events_log: list[dict] = []
        self._queue: asyncio.Queue[dict] = asyncio.Queue()
        self._sender: asyncio.Task | None = None
        self._timers: set[asyncio.TimerHandle] = set()

    # -- connection handling ----------------------------------------------------------------------

    def _add_streams(self, conn: _Conn, names: list[str]) -> None:
        for name in names:
            if not name:
                continue
            if name in self.listen_keys.active or name in self.listen_keys.expired:
                conn.listen_keys.add(name)
            else:
                conn.streams.add(name)

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """aiohttp handler for ``/stream`` and ``/ws/<stream>``."""
        ws = web.WebSocketResponse(heartbeat=None, autoping=True)
        await ws.prepare(request)
        conn = _Conn(ws=ws)
        initial = request.query.get("streams", "")
        names = initial.split("/") if initial else []
        if "stream" in request.match_info:
            names.append(request.match_info["stream"])
        self._add_streams(conn, names)
        self.conns.add(conn)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                await self._on_text(conn, msg.data)
        finally:
            self.conns.discard(conn)
        return ws

    async def _on_text(self, conn: _Conn, text: str) -> None:
        try:
            req = json.loads(text)
            method, params, rid = req.get("method"), req.get("params") or [], req.get("id")
        except (ValueError, AttributeError):
            await conn.ws.send_str(json.dumps({"error": {"code": 3, "msg": "Invalid JSON"}}))
            return
        if method == "SUBSCRIBE":
            self._add_streams(conn, list(params))
            await conn.ws.send_str(json.dumps({"result": None, "id": rid}))
        elif method == "UNSUBSCRIBE":
            for name in params:
                conn.streams.discard(name)
                conn.listen_keys.discard(name)
            await conn.ws.send_str(json.dumps({"result": None, "id": rid}))
        elif method == "LIST_SUBSCRIPTIONS":
            await conn.ws.send_str(json.dumps({"result": sorted(conn.streams | conn.listen_keys), "id": rid}))
        else:
            await conn.ws.send_str(
                json.dumps({"error": {"code": 2, "msg": f"Invalid request: {method}"}, "id": rid})
            )

    # -- market data ------------------------------------------------------------------------------

    def subscribed(self) -> set[str]:
        """All market streams someone listens to."""
        out: set[str] = set()
        for conn in self.conns:
            out |= conn.streams
        return out

    async def publish(self, messages: list[tuple[str, dict]]) -> None:
        """Send market messages to the connections subscribed to their stream."""
        wanted = self.subscribed()
        if not wanted:
            return
        for name, data in messages:
            if name not in wanted:
                continue
            text = json.dumps({"stream": name, "data": data})
            for conn in list(self.conns):
                if name in conn.streams and not conn.ws.closed:
                    try:
                        await conn.ws.send_str(text)
                    except (ConnectionError, RuntimeError):
                        self.conns.discard(conn)

    # -- user data --------------------------------------------------------------------------------

    def emit_user(self, events: list[dict]) -> None:
        """Queue user-data events (sent in order by one sender task), applying drop/delay faults."""
        loop = asyncio.get_running_loop()
        if self._sender is None or self._sender.done():
            self._sender = loop.create_task(self._drain())
        for event in events:
            if self.faults.take_drop(event):
                continue
            delay = self.faults.take_delay(event)
            if delay > 0:
                handle = loop.call_later(delay, self._queue.put_nowait, event)
                self._timers.add(handle)
            else:
                self._queue.put_nowait(event)

    async def _drain(self) -> None:
        while True:
            event = await self._queue.get()
            await self._send_user(event)

    async def _send_user(self, event: dict, keys: list[str] | None = None) -> None:
        targets = keys if keys is not None else list(self.listen_keys.active)
        sent = False
        for conn in list(self.conns):
            for key in conn.listen_keys:
                if key in targets and not conn.ws.closed:
                    try:
                        await conn.ws.send_str(json.dumps({"stream": key, "data": event}))
                        sent = True
                    except (ConnectionError, RuntimeError):
                        self.conns.discard(conn)
        if sent:
            self.user_events_sent += 1
        self.user_events_log.append({"sent": sent, "event": event})
        del self.user_events_log[:-500]

    async def expire_listen_keys(self, now_ms: int) -> list[str]:
        """Expire the live keys and push ``listenKeyExpired`` on their streams."""
        keys = self.listen_keys.expire()
        for key in keys:
            await self._send_user({"e": "listenKeyExpired", "E": now_ms, "listenKey": key}, keys=[key])
        return keys

    async def close(self, which: str = "all") -> int:
        """Close WebSockets: ``user`` (listen-key streams), ``market`` or ``all``; return the count."""
        closed = 0
        for conn in list(self.conns):
            is_user = bool(conn.listen_keys)
            if which == "all" or (which == "user" and is_user) or (which == "market" and not is_user):
                await conn.ws.close()
                closed += 1
        return closed

    async def shutdown(self) -> None:
        """Cancel pending sends and close every connection."""
        for handle in self._timers:
            handle.cancel()
        if self._sender is not None:
            self._sender.cancel()
        await self.close("all")
