"""Live order-book snapshots from Hazelcast: ``HazelcastFeed`` and ``HZOBProvider`` (seed 000 §3-§5).

``HazelcastFeed`` owns one ``hazelcast.HazelcastClient`` and keeps the newest valid snapshot per
asset from entry-listener events, plus a ``get_all`` at start and on every (re)connect (events
sent while disconnected are never replayed). It is built to degrade, never to die or block:

- the client is created with ``async_start=True`` and ``reconnect_mode=ASYNC`` (see config.py),
  so neither construction nor calls wait on a dead or hung member;
- all blocking work (get_map, add_entry_listener, get_all, client rebuilds) runs on one
  supervisor thread owned by the feed, driven by lifecycle events; Hazelcast's own threads only
  decode payloads and enqueue notifications;
- when the client shuts itself down (cluster-connect timeout, e.g. a wrong cluster name or a
  long outage) the supervisor builds a new one after ``rebuild_backoff_s``;
- every outcome is counted (``counters()``).

``HZOBProvider`` is the ``obf.types.OBProvider`` for ``OBFeatureEngine.step_live``: its
``get_snapshot`` returns the newest snapshot, or None when missing or older than
``max_snapshot_age_s``; ``get_all_timestamps`` returns ``[]`` (a live feed has no history).
"""

import logging
import math
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from adapters.hazelcast.config import HazelcastClientSettings
from adapters.hazelcast.lifecycle import build_client
from adapters.hazelcast.lifecycle import shutdown_client
from nautilus_dolphin.obf.codec import OBPayloadCodec
from nautilus_dolphin.obf.types import OBSnapshot

log = logging.getLogger(__name__)

SnapshotSink = Callable[[OBSnapshot], None]
"""Called with every accepted, newest snapshot, on a Hazelcast or feed thread (hand off at once)."""
RawSink = Callable[[str, Any], None]
"""Called with (key, raw value) of the scan key, on a Hazelcast or feed thread."""

_STOP = "stop"
_RESYNC = "resync"


class HazelcastFeed:
    """Newest valid order-book snapshot per asset from a Hazelcast map, resilient to member failures.

    Parameters
    ----------
    settings : HazelcastClientSettings
        Cluster, map, keys, assets, mode and timeouts.
    on_snapshot : SnapshotSink, optional
        Called with each snapshot that became the newest of its asset (events, resyncs, polls).
    on_scan : RawSink, optional
        Called with (key, value) when the configured scan key changes.
    clock : Callable[[], float]
        Wall clock (unix s) used for snapshot ages.
    """

    def __init__(
        self,
        settings: HazelcastClientSettings,
        on_snapshot: SnapshotSink | None = None,
        on_scan: RawSink | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._on_snapshot = on_snapshot
        self._on_scan = on_scan
        self._clock = clock
        self._key_to_asset = {settings.key_for(a): a for a in settings.assets}
        self._keys = list(self._key_to_asset)
        self._codec = OBPayloadCodec()
        self._lock = threading.Lock()
        self._latest: dict[str, OBSnapshot] = {}
        self._counters: Counter[str] = Counter()
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._client: Any = None
        self._map: Any = None
        self._scan_map: Any = None
        self._connected = threading.Event()
        self._closing = threading.Event()
        self._ever_connected = False
        self._generation = 0

    # ------------------------------------------------------------------ public API
    def start(self) -> "HazelcastFeed":
        """Start the supervisor thread (returns at once; connecting happens in the background)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._supervise, name="hz-feed-supervisor", daemon=True)
            self._thread.start()
        return self

    def close(self, timeout: float = 10.0) -> None:
        """Shut the client down and stop the supervisor (bounded by ``timeout``)."""
        self._closing.set()
        self._queue.put((_STOP, None))
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("Hazelcast feed supervisor did not stop within %.1fs", timeout)
            self._thread = None

    def request_resync(self) -> None:
        """Ask the supervisor for a get_all of every key (non-blocking)."""
        self._queue.put((_RESYNC, "request"))

    @property
    def connected(self) -> bool:
        """True while the client is connected to the cluster."""
        return self._connected.is_set()

    def latest(self, asset: str) -> OBSnapshot | None:
        """Newest accepted snapshot of ``asset`` regardless of age (None when none yet)."""
        with self._lock:
            return self._latest.get(asset)

    def latest_all(self) -> dict[str, OBSnapshot]:
        """Copy of the newest snapshot per asset."""
        with self._lock:
            return dict(self._latest)

    def age_s(self, snap: OBSnapshot, now: float | None = None) -> float:
        """Seconds since ``_pushed_at`` (or ``timestamp`` when no push time was sent)."""
        ref = snap.pushed_at if math.isfinite(snap.pushed_at) else snap.timestamp
        return (self._clock() if now is None else now) - ref

    def counters(self) -> dict[str, Any]:
        """Events, resyncs, polls, reconnects, rebuilds, codec outcomes and rejects by reason."""
        with self._lock:
            out: dict[str, Any] = dict(self._counters)
            out["accepted"] = self._codec.accepted
            out["duplicates"] = self._codec.duplicates
            out["rejected"] = dict(self._codec.rejected)
            out["rejected_total"] = self._codec.total_rejected
            out["assets_known"] = len(self._latest)
        out["connected"] = self.connected
        return out

    def count(self, name: str, n: int = 1) -> None:
        """Add ``n`` to counter ``name`` (thread-safe; used by wrappers too)."""
        with self._lock:
            self._counters[name] += n

    # ------------------------------------------------------------------ payload path (any thread)
    def ingest(self, key: Any, value: Any, source: str) -> OBSnapshot | None:
        """Decode one (key, value) and keep it when it is the newest of its asset; never raises."""
        if self._scan_key_matches(key):
            self.count("scan_updates")
            if self._on_scan is not None and value is not None:
                try:
                    self._on_scan(str(key), value)
                except Exception:
                    log.exception("Hazelcast feed: scan sink failed")
            return None
        asset = self._key_to_asset.get(key) if isinstance(key, str) else None
        if asset is None:
            self.count("unknown_keys")
            return None
        if value is None:
            self.count("null_values")
            return None
        with self._lock:
            snap = self._codec.decode(asset, value)
            if snap is None:
                return None
            current = self._latest.get(asset)
            if current is not None and snap.timestamp < current.timestamp:
                self._counters["older_than_kept"] += 1
                return None
            if source == "poll" and current is not None and snap.timestamp == current.timestamp:
                self._counters["poll_unchanged"] += 1
                return None
            self._latest[asset] = snap
            self._counters[f"from_{source}"] += 1
        if self._on_snapshot is not None:
            try:
                self._on_snapshot(snap)
            except Exception:
                log.exception("Hazelcast feed: snapshot sink failed")
        return snap

    def _scan_key_matches(self, key: Any) -> bool:
        return (
            self.settings.scan_key is not None
            and key == self.settings.scan_key
            and (self.settings.scan_map == self.settings.map_name)
        )

    def _on_entry(self, event: Any) -> None:
        self.count("events")
        self.ingest(event.key, event.value, "event")

    def _on_scan_entry(self, event: Any) -> None:
        if event.key == self.settings.scan_key:
            self.count("scan_updates")
            if self._on_scan is not None and event.value is not None:
                try:
                    self._on_scan(str(event.key), event.value)
                except Exception:
                    log.exception("Hazelcast feed: scan sink failed")

    # ------------------------------------------------------------------ supervisor thread
    def _supervise(self) -> None:
        try:
            while not self._closing.is_set():
                try:
                    self._supervise_loop()
                    return
                except Exception:  # never let the feed die: log, count, carry on
                    self.count("supervisor_errors")
                    log.exception("Hazelcast feed supervisor error; continuing")
                    time.sleep(0.5)
        finally:
            self._drop_client(shutdown=True)

    def _supervise_loop(self) -> None:
        s = self.settings
        next_build = 0.0
        next_poll = 0.0
        while not self._closing.is_set():
            now = time.monotonic()
            if self._client is None and now >= next_build:
                self._build_client()
                if self._client is None:
                    next_build = now + s.rebuild_backoff_s
            if self._client is not None and self.connected and self._map is None:
                self._setup_map()
            if s.mode == "poll" and self.connected and now >= next_poll:
                next_poll = now + s.poll_interval_s
                self._resync("poll")
            timeout = s.poll_interval_s if s.mode == "poll" else 0.5
            try:
                kind, arg = self._queue.get(timeout=timeout)
            except queue.Empty:
                continue
            if kind == _STOP:
                break
            if kind == _RESYNC:
                if self.connected and self._map is not None:
                    self._resync(arg)
                continue
            generation, state = arg
            if generation != self._generation:
                continue  # a lifecycle event of an older, replaced client
            if state == "CONNECTED":
                self._connected.set()
                if self._ever_connected:
                    self.count("reconnects")
                    log.info("Hazelcast feed: reconnected to %s, resynchronising", list(s.members))
                else:
                    log.info("Hazelcast feed: connected to cluster %r at %s", s.cluster_name, list(s.members))
                self._ever_connected = True
                if self._map is None:
                    self._setup_map()
                else:
                    with self._lock:
                        self._codec.forget()
                    self._resync("reconnect")
            elif state == "DISCONNECTED":
                self._connected.clear()
                self.count("disconnects")
                log.warning(
                    "Hazelcast feed: disconnected from %s; keeping last snapshots, will resync",
                    list(s.members),
                )
            elif state == "SHUTDOWN":
                self._connected.clear()
                self.count("client_shutdowns")
                log.warning(
                    "Hazelcast feed: client for cluster %r at %s shut down (unreachable for %.0fs, "
                    "wrong cluster name or member down); rebuilding in %.1fs",
                    s.cluster_name,
                    list(s.members),
                    s.cluster_connect_timeout_s,
                    s.rebuild_backoff_s,
                )
                self._drop_client(shutdown=False)
                next_build = time.monotonic() + s.rebuild_backoff_s

    def _build_client(self) -> None:
        self._generation += 1
        self._client = build_client(self.settings, self._queue, self._generation, self.count, "Hazelcast feed")

    def _setup_map(self) -> None:
        """get_map + listeners + first get_all; retried on the next CONNECTED when offline."""
        from hazelcast.errors import HazelcastError

        s = self.settings
        try:
            m = self._client.get_map(s.map_name)
            if s.mode == "listen":
                m.add_entry_listener(
                    include_value=True, added_func=self._on_entry, updated_func=self._on_entry
                ).result()
                self.count("listener_registrations")
            if s.scan_map is not None and s.scan_map != s.map_name:
                self._scan_map = self._client.get_map(s.scan_map)
                if s.mode == "listen":
                    self._scan_map.add_entry_listener(
                        include_value=True, added_func=self._on_scan_entry, updated_func=self._on_scan_entry
                    ).result()
            self._map = m
        except (HazelcastError, TimeoutError, OSError) as exc:  # ClientOfflineError and friends
            self.count("setup_retries")
            log.info("Hazelcast feed: map setup deferred (%s); retrying on reconnect", type(exc).__name__)
            return
        self._resync("start")

    def _resync(self, reason: str) -> None:
        from hazelcast.errors import HazelcastError

        s = self.settings
        try:
            entries = self._map.get_all(self._keys).result()
            scan_value = None
            if s.scan_key is not None:
                source = self._scan_map if self._scan_map is not None else self._map
                scan_value = source.get(s.scan_key).result()
        except (HazelcastError, TimeoutError, OSError) as exc:
            self.count("resync_failures")
            log.info("Hazelcast feed: get_all (%s) failed: %s", reason, type(exc).__name__)
            return
        self.count("polls" if reason == "poll" else "resyncs")
        for key, value in entries.items():
            self.ingest(key, value, "poll" if reason == "poll" else "resync")
        if scan_value is not None and self._on_scan is not None:
            try:
                self._on_scan(s.scan_key, scan_value)
            except Exception:
                log.exception("Hazelcast feed: scan sink failed")

    def _drop_client(self, shutdown: bool) -> None:
        client, self._client = self._client, None
        self._map = None
        self._scan_map = None
        self._connected.clear()
        if shutdown:
            shutdown_client(client, "Hazelcast feed")


class HZOBProvider:
    """``OBProvider`` over a live Hazelcast map (seed 000 §3.4): newest snapshot per asset, or None.

    Parameters
    ----------
    hz_cluster : str
        Cluster name ("dev" on a stock member).
    hz_host : str | list[str] | tuple[str, ...]
        One ``host:port`` (or several, comma-separated or as a sequence).
    assets : list[str]
        Symbols to follow.
    **options
        Any other ``HazelcastClientSettings`` field (``map_name``, ``key_pattern``, ``mode``,
        ``max_snapshot_age_s``, timeouts ...), plus ``start=False`` to not start at once and
        ``clock`` (unix-s wall clock, for ages).
    """

    def __init__(
        self,
        hz_cluster: str = "dev",
        hz_host: str | list[str] | tuple[str, ...] = "127.0.0.1:5701",
        assets: list[str] | tuple[str, ...] | None = None,
        **options: Any,
    ) -> None:
        start = bool(options.pop("start", True))
        clock = options.pop("clock", time.time)
        members = tuple(h.strip() for h in hz_host.split(",")) if isinstance(hz_host, str) else tuple(hz_host)
        fields: dict[str, Any] = {"cluster_name": hz_cluster, "members": members}
        if assets is not None:
            fields["assets"] = tuple(assets)
        fields.update(options)
        self.settings = HazelcastClientSettings(**fields)
        self.assets: tuple[str, ...] = self.settings.assets
        self.feed = HazelcastFeed(self.settings, clock=clock)
        if start:
            self.feed.start()

    def get_snapshot(self, asset: str, timestamp: float) -> OBSnapshot | None:
        """Newest snapshot of ``asset``; None when none arrived or it is older than the max age.

        Never blocks on the network: it reads what the feed already holds. ``timestamp`` (the
        bar time) is not used for lookup since a live feed has only "now".
        """
        snap = self.feed.latest(asset)
        if snap is None:
            self.feed.count("get_missing")
            return None
        if self.feed.age_s(snap) > self.settings.max_snapshot_age_s:
            self.feed.count("get_stale")
            return None
        self.feed.count("get_fresh")
        return snap

    def get_all_timestamps(self, asset: str) -> list[float]:
        """Always ``[]``: a live provider has no history (seed 000 §1)."""
        return []

    def counters(self) -> dict[str, Any]:
        """The feed's counters plus get_snapshot outcomes (fresh / stale / missing)."""
        return self.feed.counters()

    def wait_connected(self, timeout: float) -> bool:
        """Block up to ``timeout`` s for the first connection (for scripts and tests only)."""
        return self.feed._connected.wait(timeout)

    def close(self) -> None:
        """Shut the Hazelcast client down (bounded)."""
        self.feed.close()

    def __enter__(self) -> "HZOBProvider":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
