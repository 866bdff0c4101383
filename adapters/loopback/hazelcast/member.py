"""Loopback Hazelcast TEST MEMBER: a test stand-in for a real Hazelcast cluster.

An asyncio TCP server that speaks the subset of Hazelcast's Open Binary Client Protocol the
real ``hazelcast-python-client`` 5.7.0 needs for IMap work (authentication with a cluster-name
check, cluster and partition views, local backup listener, proxies, ping, the map operations
below, entry listeners). Everything else gets error code 61 (``UnsupportedOperationError``),
so a client call fails at once instead of hanging. One member, one process, no persistence, no
backups, no eviction: it exists so tests and local demos can drive the real client library over
a real socket on 127.0.0.1. It is not a Hazelcast server and must never front real data.

Test controls (thread-safe, callable from any thread): ``start``, ``crash`` (close every socket
and the listening port at once, like a killed process), ``stall`` (keep TCP open, stop reading
and replying, like a hung JVM), ``resume``, ``restart`` (same port), ``close``, ``counters`` and
``put_direct``/``get_direct`` (change the store without a client, e.g. during an outage).
"""

import asyncio
import contextlib
import logging
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hazelcast.config import Config
from hazelcast.core import Address
from hazelcast.core import MemberVersion
from hazelcast.protocol.builtin import CodecUtil
from hazelcast.protocol.builtin import DataCodec
from hazelcast.protocol.builtin import EntryListCodec
from hazelcast.protocol.builtin import EntryListUUIDListIntegerCodec
from hazelcast.protocol.builtin import FixSizedTypesCodec
from hazelcast.protocol.builtin import ListMultiFrameCodec
from hazelcast.protocol.builtin import StringCodec
from hazelcast.protocol.client_message import Frame
from hazelcast.protocol.client_message import InboundMessage
from hazelcast.serialization.data import Data
from hazelcast.serialization.service import SerializationServiceV1

from adapters.loopback.hazelcast import protocol as p

log = logging.getLogger(__name__)

DEFAULT_CLUSTER_NAME = "dev"
DEFAULT_PARTITION_COUNT = 271
SERVER_VERSION = MemberVersion(5, 5, 0)
SERVER_VERSION_STRING = "5.5.0"
SERIALIZATION_VERSION = 1
MAX_FRAME = 64 * 1024 * 1024


@dataclass(slots=True)
class _Registration:
    """One entry listener registered on one connection."""

    registration_id: uuid.UUID
    correlation_id: int
    map_name: str
    flags: int
    include_value: bool


class _Connection:
    """One client connection: reads frames, answers requests, carries events."""

    def __init__(
        self, member: "HazelcastTestMember", reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.member = member
        self.reader = reader
        self.writer = writer
        self.authenticated = False
        self.registrations: dict[uuid.UUID, _Registration] = {}
        self.closed = False
        self.pending: list[bytes] = []

    def send(self, message: bytes) -> None:
        """Write one encoded message unless the connection is gone; held back while stalled."""
        if self.closed or self.writer.is_closing():
            return
        if self.member.stalled:
            self.pending.append(message)
            return
        if self.pending:
            for held in self.pending:
                self.writer.write(held)
            self.pending.clear()
        self.writer.write(message)

    def flush(self) -> None:
        """Write messages held back during a stall."""
        if self.pending and not self.closed and not self.writer.is_closing():
            for held in self.pending:
                self.writer.write(held)
        self.pending.clear()

    def abort(self) -> None:
        """Drop the connection at once (crash semantics)."""
        self.closed = True
        with contextlib.suppress(Exception):
            self.writer.transport.abort()

    async def run(self) -> None:
        """Read the ``CP2`` preamble, then messages, until EOF or abort."""
        try:
            preamble = await self.reader.readexactly(3)
            if preamble != p.PROTOCOL_PREAMBLE:
                self.member._count("bad_preamble")
                return
            frames: list[Frame] = []
            while True:
                header = await self.reader.readexactly(p.FRAME_HEADER)
                size, flags = p.parse_header(header)
                if size < p.FRAME_HEADER or size > MAX_FRAME:
                    self.member._count("bad_frame")
                    return
                body = await self.reader.readexactly(size - p.FRAME_HEADER)
                frames.append(Frame(body, flags))
                if flags & p.IS_FINAL_FLAG:
                    message, frames = p.new_inbound(frames), []
                    await self.member._resumed.wait()  # a stalled member stops here, TCP stays open
                    if self.closed:
                        return
                    self.member._dispatch(self, message)
                    await self.writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            self.closed = True
            self.member._forget(self)
            with contextlib.suppress(Exception):
                self.writer.close()


class HazelcastTestMember:
    """A one-member loopback Hazelcast cluster for tests and demos (a test stand-in, see module doc).

    Parameters
    ----------
    host : str
        Interface to bind; 127.0.0.1 by default (loopback only, on purpose).
    port : int
        TCP port; 0 lets the OS choose at the first start, later restarts reuse that port.
    cluster_name : str
        Cluster name clients must present ("dev" as on a stock member); others get status 1.
    partition_count : int
        Partitions announced to clients (all owned by this member).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        cluster_name: str = DEFAULT_CLUSTER_NAME,
        partition_count: int = DEFAULT_PARTITION_COUNT,
    ) -> None:
        self.host = host
        self.port = port
        self.cluster_name = cluster_name
        self.partition_count = partition_count
        self.member_uuid = uuid.uuid4()
        self.cluster_uuid = uuid.uuid4()
        self.maps: dict[str, dict[bytes, bytes]] = {}
        self._counters: Counter[str] = Counter()
        self._counters_lock = threading.Lock()
        self._connections: set[_Connection] = set()
        self._server: asyncio.base_events.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._serialization = SerializationServiceV1(Config())
        self._handlers: dict[int, Callable[[_Connection, int, InboundMessage, Frame], bytes | None]] = {
            p.AUTHENTICATION: self._on_authentication,
            p.ADD_CLUSTER_VIEW_LISTENER: self._on_cluster_view_listener,
            p.CREATE_PROXY: self._on_empty,
            p.PING: self._on_empty,
            p.LOCAL_BACKUP_LISTENER: self._on_backup_listener,
            p.MAP_PUT: self._on_put,
            p.MAP_SET: self._on_put,
            p.MAP_GET: self._on_get,
            p.MAP_REMOVE: self._on_remove,
            p.MAP_DELETE: self._on_remove,
            p.MAP_CONTAINS_KEY: self._on_contains_key,
            p.MAP_SIZE: self._on_size,
            p.MAP_CLEAR: self._on_clear,
            p.MAP_PUT_ALL: self._on_put_all,
            p.MAP_GET_ALL: self._on_get_all,
            p.MAP_KEY_SET: self._on_key_set,
            p.MAP_VALUES: self._on_values,
            p.MAP_ENTRY_SET: self._on_entry_set,
            p.MAP_ADD_ENTRY_LISTENER: self._on_add_listener,
            p.MAP_REMOVE_ENTRY_LISTENER: self._on_remove_listener,
        }

    # ------------------------------------------------------------------ properties
    @property
    def address(self) -> str:
        """``host:port`` as a client's ``cluster_members`` entry."""
        return f"{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        """True while the listening socket is open."""
        return self._server is not None

    @property
    def stalled(self) -> bool:
        """True between ``stall()`` and ``resume()``."""
        return not self._resumed.is_set()

    def counters(self) -> dict[str, int]:
        """A copy of the counters (connections, auth ok/failed, per-request counts, events, errors)."""
        with self._counters_lock:
            out = dict(self._counters)
        out["active_connections"] = len(self._connections)
        out["listeners"] = sum(len(c.registrations) for c in list(self._connections))
        return out

    def _count(self, name: str, n: int = 1) -> None:
        with self._counters_lock:
            self._counters[name] += n

    # ------------------------------------------------------------------ asyncio API
    async def start_async(self) -> None:
        """Bind and start accepting on the running loop (port 0 is resolved and kept)."""
        if self._server is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._server = await asyncio.start_server(self._accept, self.host, self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]
        self._count("starts")
        log.info(
            "Hazelcast TEST member %s listening on %s (cluster %r)",
            self.member_uuid,
            self.address,
            self.cluster_name,
        )

    async def crash_async(self) -> None:
        """Close the listening socket and abort every connection at once."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for conn in list(self._connections):
            conn.abort()
        self._connections.clear()
        self._resumed.set()  # wake stalled readers so they see the abort and exit
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2.0)
            self._count("crashes")

    async def serve_forever(self) -> None:
        """Start and serve until cancelled (the ``dolphin hz-member`` entry point)."""
        await self.start_async()
        try:
            await asyncio.Event().wait()
        finally:
            await self.crash_async()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _Connection(self, reader, writer)
        self._connections.add(conn)
        self._count("connections_accepted")
        await conn.run()

    def _forget(self, conn: _Connection) -> None:
        self._connections.discard(conn)

    # ------------------------------------------------------------------ blocking API (any thread)
    def start(self) -> "HazelcastTestMember":
        """Start the member on its own event-loop thread (created on first use); returns self."""
        if self._thread is None:
            ready = threading.Event()

            def run() -> None:
                self._loop = asyncio.new_event_loop()
                asyncio.set_event_loop(self._loop)
                ready.set()
                self._loop.run_forever()
                self._loop.close()

            self._thread = threading.Thread(target=run, name=f"hz-test-member-{id(self):x}", daemon=True)
            self._thread.start()
            ready.wait(5.0)
        self._call(self.start_async())
        return self

    def crash(self) -> None:
        """Kill the member: every socket closed at once; the store survives in this object."""
        self._call(self.crash_async())

    def stall(self) -> None:
        """Stop reading and replying while keeping every TCP connection open (a hung member)."""
        self._call_soon(self._resumed.clear)
        self._count("stalls")

    def resume(self) -> None:
        """Undo ``stall``: held-back events are written, queued requests processed in order."""

        def run() -> None:
            self._resumed.set()
            for conn in list(self._connections):
                conn.flush()

        self._call_soon(run)

    def restart(self, keep_data: bool = False, new_identity: bool = True) -> None:
        """Crash, then start again on the same port.

        ``keep_data=False`` loses the maps as a real one-member cluster would; ``new_identity``
        gives the member (and cluster) a new UUID, as a restarted process gets.
        """
        self.crash()
        if not keep_data:
            self._call_soon(self.maps.clear)
        if new_identity:
            self.member_uuid = uuid.uuid4()
            self.cluster_uuid = uuid.uuid4()
        self._call(self.start_async())
        self._count("restarts")

    def close(self) -> None:
        """Crash (if running) and stop the event-loop thread; the port is free afterwards."""
        if self._thread is None:
            return
        with contextlib.suppress(Exception):
            self._call(self.crash_async())
        loop = self._loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
        self._thread.join(5.0)
        self._thread = None

    def __enter__(self) -> "HazelcastTestMember":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def put_direct(self, map_name: str, key: Any, value: Any) -> None:
        """Store ``value`` under ``key`` (serialized like the client does) and fire entry events."""
        key_data = self._serialization.to_data(key)
        value_data = self._serialization.to_data(value)
        self._call_soon(lambda: self._store(map_name, bytes(key_data.buffer), bytes(value_data.buffer)))

    def get_direct(self, map_name: str, key: Any) -> Any:
        """Read a value from the store, deserialized (None when absent)."""
        key_bytes = bytes(self._serialization.to_data(key).buffer)
        raw = self.maps.get(map_name, {}).get(key_bytes)
        return None if raw is None else self._serialization.to_object(Data(raw))

    def _call(self, coro: Any, timeout: float = 10.0) -> Any:
        if self._loop is None or self._thread is None:
            raise RuntimeError("member not started with start()")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def _call_soon(self, fn: Callable[[], Any]) -> None:
        if self._loop is None or self._thread is None or threading.current_thread() is self._thread:
            fn()
            return
        done = threading.Event()

        def run() -> None:
            try:
                fn()
            finally:
                done.set()

        self._loop.call_soon_threadsafe(run)
        done.wait(5.0)

    # ------------------------------------------------------------------ dispatch
    def _dispatch(self, conn: _Connection, message: InboundMessage) -> None:
        first = message.next_frame()
        msg_type = p.message_type(first)
        corr = p.correlation_id(first)
        name = p.MESSAGE_NAMES.get(msg_type)
        handler = self._handlers.get(msg_type)
        if handler is None or (not conn.authenticated and msg_type != p.AUTHENTICATION):
            self._count("unsupported")
            self._count(f"unsupported_0x{msg_type:06X}")
            conn.send(
                p.error_message(
                    corr,
                    p.UNSUPPORTED_OPERATION,
                    "java.lang.UnsupportedOperationException",
                    f"Hazelcast TEST member does not support message type 0x{msg_type:06X}",
                )
            )
            return
        self._count(f"req_{name}")
        try:
            response = handler(conn, corr, message, first)
        except Exception as exc:  # malformed request: answer with an error, keep serving
            log.warning("Hazelcast TEST member: bad %s request: %r", name, exc)
            self._count("bad_request")
            conn.send(p.error_message(corr, 5, "java.lang.IllegalArgumentException", f"bad {name}: {exc}"))
            return
        if response is not None:
            conn.send(response)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _empty(msg_type: int, corr: int) -> bytes:
        return p.finalize(p.initial_frame(msg_type + 1, corr, 0))

    def _send_event(
        self,
        conn: _Connection,
        reg: _Registration,
        event_type: int,
        key: bytes | None,
        value: bytes | None,
        old: bytes | None,
        affected: int = 1,
    ) -> None:
        if not reg.flags & event_type:
            return  # the client calls a None callback for types it did not ask for
        buf = p.initial_frame(p.MAP_ENTRY_EVENT, reg.correlation_id, 4 + p.UUID_SIZE + 4, event=True)
        FixSizedTypesCodec.encode_int(buf, p.field_offset(0, event=True), event_type)
        FixSizedTypesCodec.encode_uuid(buf, p.field_offset(4, event=True), self.member_uuid)
        FixSizedTypesCodec.encode_int(buf, p.field_offset(4 + p.UUID_SIZE, event=True), affected)
        DataCodec.encode_nullable(buf, None if key is None else Data(key))
        include = reg.include_value
        DataCodec.encode_nullable(buf, Data(value) if include and value is not None else None)
        DataCodec.encode_nullable(buf, Data(old) if include and old is not None else None)
        DataCodec.encode_nullable(buf, None)  # merging value
        conn.send(p.finalize(buf))
        self._count("events_sent")

    def _fire(
        self,
        map_name: str,
        event_type: int,
        key: bytes | None,
        value: bytes | None,
        old: bytes | None,
        affected: int = 1,
    ) -> None:
        for conn in list(self._connections):
            for reg in list(conn.registrations.values()):
                if reg.map_name == map_name:
                    self._send_event(conn, reg, event_type, key, value, old, affected)

    def _store(self, map_name: str, key: bytes, value: bytes) -> bytes | None:
        entries = self.maps.setdefault(map_name, {})
        old = entries.get(key)
        entries[key] = value
        self._fire(map_name, p.EVENT_ADDED if old is None else p.EVENT_UPDATED, key, value, old)
        return old

    @staticmethod
    def _name_key(message: InboundMessage) -> tuple[str, bytes]:
        name = StringCodec.decode(message)
        key = bytes(DataCodec.decode(message).buffer)
        return name, key

    @staticmethod
    def _nullable_data_response(msg_type: int, corr: int, raw: bytes | None) -> bytes:
        buf = p.initial_frame(msg_type + 1, corr, 0)
        DataCodec.encode_nullable(buf, None if raw is None else Data(raw))
        return p.finalize(buf)

    # ------------------------------------------------------------------ handlers
    def _on_authentication(
        self, conn: _Connection, corr: int, message: InboundMessage, first: Frame
    ) -> bytes:
        cluster_name = StringCodec.decode(message)
        ok = cluster_name == self.cluster_name
        self._count("auth_ok" if ok else "auth_failed")
        buf = p.initial_frame(p.AUTHENTICATION + 1, corr, 1 + p.UUID_SIZE + 1 + 4 + p.UUID_SIZE + 1)
        FixSizedTypesCodec.encode_byte(buf, p.field_offset(0), 0 if ok else 1)
        FixSizedTypesCodec.encode_uuid(buf, p.field_offset(1), self.member_uuid if ok else None)
        FixSizedTypesCodec.encode_byte(buf, p.field_offset(1 + p.UUID_SIZE), SERIALIZATION_VERSION)
        FixSizedTypesCodec.encode_int(
            buf, p.field_offset(2 + p.UUID_SIZE), self.partition_count if ok else -1
        )
        FixSizedTypesCodec.encode_uuid(
            buf, p.field_offset(6 + p.UUID_SIZE), self.cluster_uuid if ok else None
        )
        FixSizedTypesCodec.encode_boolean(buf, p.field_offset(6 + 2 * p.UUID_SIZE), False)
        CodecUtil.encode_nullable(buf, Address(self.host, self.port) if ok else None, _encode_address)
        StringCodec.encode(buf, SERVER_VERSION_STRING)
        conn.authenticated = ok
        if not ok:
            log.info(
                "Hazelcast TEST member: rejected cluster name %r (expected %r)",
                cluster_name,
                self.cluster_name,
            )
        return p.finalize(buf)

    def _on_cluster_view_listener(
        self, conn: _Connection, corr: int, message: InboundMessage, first: Frame
    ) -> bytes:
        conn.send(self._empty(p.ADD_CLUSTER_VIEW_LISTENER, corr))
        address = Address(self.host, self.port)
        members = p.initial_frame(p.MEMBERS_VIEW_EVENT, corr, 4, event=True)
        FixSizedTypesCodec.encode_int(members, p.field_offset(0, event=True), 1)  # member-list version
        ListMultiFrameCodec.encode(
            members, [None], lambda b, _m: p.encode_member_info(b, self.member_uuid, address, SERVER_VERSION)
        )
        conn.send(p.finalize(members))
        parts = p.initial_frame(p.PARTITIONS_VIEW_EVENT, corr, 4, event=True)
        FixSizedTypesCodec.encode_int(parts, p.field_offset(0, event=True), 1)  # partition-table version
        EntryListUUIDListIntegerCodec.encode(parts, [(self.member_uuid, list(range(self.partition_count)))])
        return p.finalize(parts)

    def _on_empty(self, conn: _Connection, corr: int, message: InboundMessage, first: Frame) -> bytes:
        msg_type = p.message_type(first)
        if msg_type == p.PING:
            self._count("pings")
        return self._empty(msg_type, corr)

    def _on_backup_listener(
        self, conn: _Connection, corr: int, message: InboundMessage, first: Frame
    ) -> bytes:
        buf = p.initial_frame(p.LOCAL_BACKUP_LISTENER + 1, corr, p.UUID_SIZE)
        FixSizedTypesCodec.encode_uuid(buf, p.field_offset(0), uuid.uuid4())
        return p.finalize(buf)

    def _on_put(self, conn: _Connection, corr: int, message: InboundMessage, first: Frame) -> bytes:
        msg_type = p.message_type(first)
        name, key = self._name_key(message)
        value = bytes(DataCodec.decode(message).buffer)
        old = self._store(name, key, value)
        if msg_type == p.MAP_SET:
            return self._empty(msg_type, corr)
        return self._nullable_data_response(msg_type, corr, old)

    def _on_get(self, conn: _Connection, corr: int, message: InboundMessage, first: Frame) -> bytes:
        name, key = self._name_key(message)
        return self._nullable_data_response(p.MAP_GET, corr, self.maps.get(name, {}).get(key))

    def _on_remove(self, conn: _Connection, corr: int, message: InboundMessage, first: Frame) -> bytes:
        msg_type = p.message_type(first)
        name, key = self._name_key(message)
        old = self.maps.get(name, {}).pop(key, None)
        if old is not None:
            self._fire(name, p.EVENT_REMOVED, key, None, old)
        if msg_type == p.MAP_DELETE:
            return self._empty(msg_type, corr)
        return self._nullable_data_response(msg_type, corr, old)

    def _on_contains_key(self, conn: _Connection, corr: int, message: InboundMessage, first: Frame) -> bytes:
        name, key = self._name_key(message)
        buf = p.initial_frame(p.MAP_CONTAINS_KEY + 1, corr, 1)
        FixSizedTypesCodec.encode_boolean(buf, p.field_offset(0), key in self.maps.get(name, {}))
        return p.finalize(buf)

    def _on_size(self, conn: _Connection, corr: int, message: InboundMessage, first: Frame) -> bytes:
        name = StringCodec.decode(message)
        buf = p.initial_frame(p.MAP_SIZE + 1, corr, 4)
        FixSizedTypesCodec.encode_int(buf, p.field_offset(0), len(self.maps.get(name, {})))
        return p.finalize(buf)

    def _on_clear(self, conn: _Connection, corr: int, message: InboundMessage, first: Frame) -> bytes:
        name = StringCodec.decode(message)
        entries = self.maps.get(name, {})
        n = len(entries)
        entries.clear()
        if n:
            self._fire(name, p.EVENT_CLEAR_ALL, None, None, None, affected=n)
        return self._empty(p.MAP_CLEAR, corr)

    def _on_put_all(self, conn: _Connection, corr: int, message: InboundMessage, first: Frame) -> bytes:
        name = StringCodec.decode(message)
        for key, value in EntryListCodec.decode(message, DataCodec.decode, DataCodec.decode):
            self._store(name, bytes(key.buffer), bytes(value.buffer))
        return self._empty(p.MAP_PUT_ALL, corr)

    def _on_get_all(self, conn: _Connection, corr: int, message: InboundMessage, first: Frame) -> bytes:
        name = StringCodec.decode(message)
        keys = ListMultiFrameCodec.decode(message, DataCodec.decode)
        entries = self.maps.get(name, {})
        found = [(Data(k), Data(entries[k])) for k in (bytes(d.buffer) for d in keys) if k in entries]
        buf = p.initial_frame(p.MAP_GET_ALL + 1, corr, 0)
        EntryListCodec.encode(buf, found, DataCodec.encode, DataCodec.encode)
        return p.finalize(buf)

    def _on_key_set(self, conn: _Connection, corr: int, message: InboundMessage, first: Frame) -> bytes:
        name = StringCodec.decode(message)
        buf = p.initial_frame(p.MAP_KEY_SET + 1, corr, 0)
        ListMultiFrameCodec.encode(buf, [Data(k) for k in self.maps.get(name, {})], DataCodec.encode)
        return p.finalize(buf)

    def _on_values(self, conn: _Connection, corr: int, message: InboundMessage, first: Frame) -> bytes:
        name = StringCodec.decode(message)
        buf = p.initial_frame(p.MAP_VALUES + 1, corr, 0)
        ListMultiFrameCodec.encode(buf, [Data(v) for v in self.maps.get(name, {}).values()], DataCodec.encode)
        return p.finalize(buf)

    def _on_entry_set(self, conn: _Connection, corr: int, message: InboundMessage, first: Frame) -> bytes:
        name = StringCodec.decode(message)
        buf = p.initial_frame(p.MAP_ENTRY_SET + 1, corr, 0)
        entries = [(Data(k), Data(v)) for k, v in self.maps.get(name, {}).items()]
        EntryListCodec.encode(buf, entries, DataCodec.encode, DataCodec.encode)
        return p.finalize(buf)

    def _on_add_listener(self, conn: _Connection, corr: int, message: InboundMessage, first: Frame) -> bytes:
        include_value = FixSizedTypesCodec.decode_boolean(first.buf, p.REQUEST_FIELDS)
        flags = FixSizedTypesCodec.decode_int(first.buf, p.REQUEST_FIELDS + 1)
        name = StringCodec.decode(message)
        reg = _Registration(uuid.uuid4(), corr, name, flags, include_value)
        conn.registrations[reg.registration_id] = reg
        buf = p.initial_frame(p.MAP_ADD_ENTRY_LISTENER + 1, corr, p.UUID_SIZE)
        FixSizedTypesCodec.encode_uuid(buf, p.field_offset(0), reg.registration_id)
        return p.finalize(buf)

    def _on_remove_listener(
        self, conn: _Connection, corr: int, message: InboundMessage, first: Frame
    ) -> bytes:
        registration_id = FixSizedTypesCodec.decode_uuid(first.buf, p.REQUEST_FIELDS)
        removed = conn.registrations.pop(registration_id, None) is not None
        buf = p.initial_frame(p.MAP_REMOVE_ENTRY_LISTENER + 1, corr, 1)
        FixSizedTypesCodec.encode_boolean(buf, p.field_offset(0), removed)
        return p.finalize(buf)


def _encode_address(buf: bytearray, address: Address, is_final: bool = False) -> None:
    from hazelcast.protocol.codec.custom.address_codec import AddressCodec

    AddressCodec.encode(buf, address, is_final)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (bound, then released, by the OS): for "down at start"."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.01) -> bool:
    """Poll ``predicate`` until true or ``timeout`` seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
