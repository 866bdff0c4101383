"""Writing DOLPHIN payloads to Hazelcast: ``HazelcastWriter``, ``PushSequencer``, ``book_levels``.

Shared by ``dolphin obf-publish`` (the publisher actor, which writes from the node's event loop and
must never block it) and ``dolphin replay`` (a plain script that may wait).

``HazelcastWriter`` owns one ``hazelcast.HazelcastClient`` built with the same degrade-gracefully
settings as the reading side (``HazelcastClientSettings.client_kwargs``: ``async_start``,
``reconnect_mode=ASYNC``, heartbeat timeout). A supervisor thread does every blocking call
(``get_map``, client rebuilds after a SHUTDOWN); ``put_all`` itself only serialises and hands the
request to the client's reactor, returning at once. While Hazelcast is down or too slow, writes are
dropped and counted instead of queued: the payloads are "newest wins" snapshots, so an old one
delivered late is worth nothing.
"""

import logging
import math
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from adapters.hazelcast.config import HazelcastClientSettings
from adapters.hazelcast.lifecycle import build_client
from adapters.hazelcast.lifecycle import shutdown_client
from nautilus_dolphin.obf.types import N_LEVELS

log = logging.getLogger(__name__)


class PushSequencer:
    """Monotonic ``_push_seq`` values that also survive a publisher restart.

    A value is ``max(previous + 1, now in unix milliseconds)``, the form of seed 000 §2's example
    (``1711453296901``). Readers reject a ``_push_seq`` lower than the last one they accepted
    for the asset, so a restarted publisher must not start again from 1: starting from the wall
    clock in ms keeps it above anything the previous run wrote (unless the clock stepped back by
    more than the previous run's excess over it, which ``+1`` per value keeps tiny at 10 Hz).
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        """Return the next sequence number (thread-safe)."""
        with self._lock:
            self._last = max(self._last + 1, int(self._clock() * 1000.0))
            return self._last

    @property
    def last(self) -> int:
        """The last value handed out (0 before the first)."""
        return self._last


def book_levels(
    bids: list[tuple[float, float]], asks: list[tuple[float, float]], n_levels: int = N_LEVELS
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Turn the top price levels of a book into the payload arrays.

    Parameters
    ----------
    bids, asks : list[tuple[float, float]]
        ``(price, size)`` best first (bids descending, asks ascending); only the first
        ``n_levels`` are used.

    Returns
    -------
    (bid_notional, ask_notional, bid_depth, ask_depth) or None
        ``notional = price * size`` (USDT), ``depth = size`` (base units), missing levels 0.0.
        None when a side is empty, or a price/size is non-finite or negative (never publish
        garbage: the codec's ``encode`` would refuse it anyway).
    """
    if not bids or not asks:
        return None
    out = [np.zeros(n_levels, dtype=np.float64) for _ in range(4)]
    for side, (notional, depth) in ((bids, (out[0], out[2])), (asks, (out[1], out[3]))):
        for i, (price, size) in enumerate(side[:n_levels]):
            if not (math.isfinite(price) and math.isfinite(size)) or price < 0.0 or size < 0.0:
                return None
            notional[i] = price * size
            depth[i] = size
    return out[0], out[1], out[2], out[3]


class HazelcastWriter:
    """Non-blocking writer of string payloads into Hazelcast maps, resilient to member failures.

    Parameters
    ----------
    settings : HazelcastClientSettings
        Cluster, members and timeouts (``map_name`` is the default target map).
    max_in_flight : int
        ``put_all`` calls allowed to be outstanding at once; beyond that a write is dropped and
        counted (``dropped_backpressure``), so a hung member costs memory for at most this many
        batches.
    name : str
        Thread-name prefix (for logs and leak checks).
    """

    def __init__(self, settings: HazelcastClientSettings, max_in_flight: int = 8, name: str = "hz-writer") -> None:
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be >= 1, was {max_in_flight}")
        self.settings = settings
        self.max_in_flight = max_in_flight
        self._name = name
        self._lock = threading.Lock()
        self._counters: Counter[str] = Counter()
        self._maps: dict[str, Any] = {}
        self._wanted_maps: set[str] = {settings.map_name}
        self._client: Any = None
        self._generation = 0
        self._in_flight = 0
        self._connected = False  # supervisor thread only: CONNECTED seen, no DISCONNECTED/SHUTDOWN since
        self._ready = threading.Event()
        self._closing = threading.Event()
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ public API
    def start(self, extra_maps: tuple[str, ...] = ()) -> "HazelcastWriter":
        """Start connecting in the background (returns at once); ``extra_maps`` are set up too."""
        self._wanted_maps.update(m for m in extra_maps if m)
        if self._thread is None:
            self._thread = threading.Thread(target=self._supervise, name=f"{self._name}-supervisor", daemon=True)
            self._thread.start()
        return self

    @property
    def ready(self) -> bool:
        """True while connected with every wanted map proxy created."""
        return self._ready.is_set()

    def wait_ready(self, timeout: float) -> bool:
        """Block up to ``timeout`` s until ``ready`` (scripts and tests; never on an event loop)."""
        return self._ready.wait(timeout)

    def put_all(self, entries: dict[str, str], map_name: str | None = None) -> bool:
        """Send ``entries`` without waiting; False (and counted) when dropped. Never raises.

        Counters: ``batches_sent``/``entries_sent`` on send, ``batches_ok``/``batches_failed`` when
        the member answers, ``dropped_offline``/``dropped_backpressure``/``send_errors`` when not sent.
        """
        if not entries:
            return True
        name = map_name or self.settings.map_name
        with self._lock:
            m = self._maps.get(name) if self._ready.is_set() else None
            if m is None:
                self._counters["dropped_offline"] += 1
                self._counters["entries_dropped"] += len(entries)
                return False
            if self._in_flight >= self.max_in_flight:
                self._counters["dropped_backpressure"] += 1
                self._counters["entries_dropped"] += len(entries)
                return False
            self._in_flight += 1
        try:
            future = m.put_all(entries)
        except Exception as exc:  # ClientOfflineError, serialisation ... : count, never raise
            with self._lock:
                self._in_flight -= 1
                self._counters["send_errors"] += 1
                self._counters["entries_dropped"] += len(entries)
            self._note_error(exc)
            return False
        with self._lock:
            self._counters["batches_sent"] += 1
            self._counters["entries_sent"] += len(entries)
        future.add_done_callback(self._done)
        return True

    def put_all_blocking(self, entries: dict[str, str], map_name: str | None = None, timeout: float = 10.0) -> None:
        """Send ``entries`` and wait for the member's answer (replay, scripts).

        Raises
        ------
        TimeoutError
            When not ready within ``timeout`` (an answer is awaited up to the client's
            ``invocation_timeout_s``).
        hazelcast.errors.HazelcastError
            When the member answers with an error or the connection drops.
        """
        if not entries:
            return
        if not self._ready.wait(timeout):
            raise TimeoutError(f"Hazelcast at {list(self.settings.members)} not ready within {timeout:.1f}s")
        name = map_name or self.settings.map_name
        with self._lock:
            m = self._maps[name]
        m.put_all(entries).result()  # bounded by the client's invocation timeout
        with self._lock:
            self._counters["batches_ok"] += 1
            self._counters["entries_sent"] += len(entries)

    def counters(self) -> dict[str, Any]:
        """What happened: sends, answers, drops by reason, connects, rebuilds."""
        with self._lock:
            out: dict[str, Any] = dict(self._counters)
            out["in_flight"] = self._in_flight
        out["ready"] = self.ready
        return out

    def close(self, timeout: float = 10.0, drain_s: float = 2.0) -> None:
        """Let in-flight writes finish (up to ``drain_s``), then shut the client down and stop the supervisor.

        Draining keeps the last batch, which carries the newest snapshots, from being cut off by the
        shutdown; a hung member costs at most ``drain_s`` more. Bounded by ``drain_s + timeout``.
        """
        end = time.monotonic() + drain_s
        while self._ready.is_set() and self.counters()["in_flight"] > 0 and time.monotonic() < end:
            time.sleep(0.01)
        self._closing.set()
        self._queue.put(("stop", None))
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("%s: supervisor did not stop within %.1fs", self._name, timeout)
            self._thread = None

    def __enter__(self) -> "HazelcastWriter":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _count(self, name: str) -> None:
        with self._lock:
            self._counters[name] += 1

    # ------------------------------------------------------------------ callbacks (client threads)
    def _done(self, future: Any) -> None:
        exc = future.exception()
        with self._lock:
            self._in_flight -= 1
            self._counters["batches_ok" if exc is None else "batches_failed"] += 1
        if exc is not None:
            self._note_error(exc)

    def _note_error(self, exc: BaseException | None) -> None:
        with self._lock:
            self._counters["errors_logged"] += 1
            n = self._counters["errors_logged"]
        if n == 1 or n % 1000 == 0:
            log.warning("%s: write failed (%s); dropping, newest snapshot wins", self._name, type(exc).__name__)

    # ------------------------------------------------------------------ supervisor thread
    def _supervise(self) -> None:
        s = self.settings
        next_build = 0.0
        try:
            while not self._closing.is_set():
                now = time.monotonic()
                if self._client is None and now >= next_build:
                    self._build_client()
                    if self._client is None:
                        next_build = now + s.rebuild_backoff_s
                try:
                    kind, arg = self._queue.get(timeout=0.5)
                except queue.Empty:
                    if self._connected and not self._ready.is_set() and self._client is not None:
                        self._setup_maps()  # a setup that failed while connected: retry, don't wait for an event
                    continue
                if kind == "stop":
                    break
                generation, state = arg
                if generation != self._generation:
                    continue
                if state == "CONNECTED":
                    self._connected = True
                    self._count("connects")
                    self._setup_maps()
                elif state == "DISCONNECTED":
                    self._connected = False
                    self._ready.clear()
                    self._count("disconnects")
                    log.warning("%s: disconnected from %s; dropping writes until reconnected", self._name,
                                list(s.members))
                elif state == "SHUTDOWN":
                    self._connected = False
                    self._ready.clear()
                    self._count("client_shutdowns")
                    log.warning("%s: client for cluster %r at %s shut down; rebuilding in %.1fs", self._name,
                                s.cluster_name, list(s.members), s.rebuild_backoff_s)
                    self._drop_client(shutdown=False)
                    next_build = time.monotonic() + s.rebuild_backoff_s
        except Exception:  # never die silently: log and leave the writer "not ready"
            log.exception("%s: supervisor error", self._name)
        finally:
            self._drop_client(shutdown=True)

    def _build_client(self) -> None:
        self._generation += 1
        self._client = build_client(self.settings, self._queue, self._generation, self._count, self._name)

    def _setup_maps(self) -> None:
        from hazelcast.errors import HazelcastError

        try:
            maps = {name: self._client.get_map(name) for name in sorted(self._wanted_maps)}
        except (HazelcastError, TimeoutError, OSError) as exc:
            self._count("setup_retries")
            log.info("%s: map setup deferred (%s)", self._name, type(exc).__name__)
            return
        with self._lock:
            self._maps = maps
        self._ready.set()
        log.info("%s: connected to cluster %r at %s", self._name, self.settings.cluster_name,
                 list(self.settings.members))

    def _drop_client(self, shutdown: bool) -> None:
        client, self._client = self._client, None
        self._ready.clear()
        with self._lock:
            self._maps = {}
        if shutdown:
            shutdown_client(client, self._name)
