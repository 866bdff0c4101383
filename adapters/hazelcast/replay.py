"""``dolphin replay``: publish a catalog window's scans and OB snapshots to Hazelcast in (accelerated) real time.

For demos and soak tests: a node with ``HazelcastDataClient`` (or an ``HZOBProvider``) sees the
catalog's market as if a scanner and ``dolphin obf-publish`` were running.

What is written, in catalog time order (at equal times the books first, then the scan, so a scan's
``step_live`` sees the books of its instant):

- each ``DolphinOBSnapshot`` as the seed-000 payload (``OBPayloadCodec.encode``) to
  ``map_name`` / ``key_pattern`` (``DOLPHIN_FEATURES`` / ``asset_{SYMBOL}_ob``); the snapshots of one
  instant go in one ``put_all``;
- each ``DolphinScan`` as JSON to ``scan_map`` / ``scan_key`` (default ``DOLPHIN_FEATURES`` /
  ``latest_eigen_scan``), the format ``HazelcastDataClient`` decodes (``adapters.hazelcast.data.
  decode_scan``): ``scan_number``, the seven signal fields, ``prices`` as ``{symbol: price}``
  (non-finite prices omitted, i.e. NaN for the reader) and ``timestamp``.

Time: event ``i`` is written ``(t_i - t_0) / speed`` seconds after the start (``speed=0``: as fast
as possible). ``_pushed_at`` is always the wall clock at writing (``HZOBProvider`` and the data
client measure freshness from it) and ``_push_seq`` comes from ``PushSequencer``. ``timestamp`` is
the wall clock too (``timestamps="now"``, default: consumers that compare book or scan times with
their own clock, like ``DolphinStrategy``'s live OB provider, see fresh data) or the catalog's own
time (``timestamps="original"``, for comparing with a backtest of the same window).
"""

import json
import logging
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import replace
from typing import Any

from adapters.hazelcast.config import HazelcastClientSettings
from adapters.hazelcast.data import SCAN_FIELDS
from adapters.hazelcast.writer import HazelcastWriter
from adapters.hazelcast.writer import PushSequencer
from nautilus_dolphin.obf.codec import OBPayloadCodec
from nautilus_dolphin.obf.codec import format_timestamp

log = logging.getLogger(__name__)

DEFAULT_SCAN_KEY: str = "latest_eigen_scan"
TIMESTAMP_MODES: tuple[str, ...] = ("now", "original")


@dataclass
class ReplayConfig:
    """What to replay and how fast.

    Parameters
    ----------
    start, end : str, optional
        First and last catalog day (``YYYY-MM-DD``, inclusive); None = the catalog's first/last.
    speed : float
        Catalog seconds per wall second (1 = real time, 60 = a 5 s scan every 83 ms); 0 = no pacing.
    max_scans : int, optional
        Stop after this many scans.
    scans, books : bool
        Publish scans / OB snapshots.
    scan_map, scan_key : str
        Where scans go (``scan_map`` None = the OB map).
    timestamps : str
        ``now`` or ``original`` (see the module docstring).
    assets : tuple[str, ...], optional
        Books of these assets only (default: every catalog asset).
    max_gap_s : float
        Longest catalog-time pause replayed between two events (catalog seconds); longer gaps
        (nights, outages in the recording) are cut to this and counted in ``gaps_cut``.
    """

    start: str | None = None
    end: str | None = None
    speed: float = 1.0
    max_scans: int | None = None
    scans: bool = True
    books: bool = True
    scan_map: str | None = None
    scan_key: str = DEFAULT_SCAN_KEY
    timestamps: str = "now"
    assets: tuple[str, ...] | None = None
    max_gap_s: float = 30.0

    def __post_init__(self) -> None:
        if not self.speed >= 0.0 or not math.isfinite(self.speed):
            raise ValueError(f"ReplayConfig.speed must be a finite number >= 0, was {self.speed!r}")
        if self.timestamps not in TIMESTAMP_MODES:
            raise ValueError(f"ReplayConfig.timestamps must be one of {TIMESTAMP_MODES}, was {self.timestamps!r}")
        if not self.max_gap_s > 0.0:
            raise ValueError(f"ReplayConfig.max_gap_s must be > 0, was {self.max_gap_s!r}")
        if not (self.scans or self.books):
            raise ValueError("ReplayConfig: nothing to replay (scans and books both off)")
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError(f"ReplayConfig.{name} must be a day YYYY-MM-DD, was {value!r}")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"ReplayConfig: end {self.end} is before start {self.start}")
        if self.max_scans is not None and self.max_scans < 1:
            raise ValueError(f"ReplayConfig.max_scans must be >= 1, was {self.max_scans}")


def scan_payload(scan: Any, assets: list[str], ts: float) -> str:
    """JSON of one scan in the format ``HazelcastDataClient`` reads (``decode_scan``)."""
    prices = {a: float(p) for a, p in zip(assets, scan.prices, strict=False) if math.isfinite(p) and p > 0}
    obj: dict[str, Any] = {"scan_number": int(scan.scan_number), "timestamp": format_timestamp(ts), "prices": prices}
    for name in SCAN_FIELDS:
        obj[name] = float(getattr(scan, name))
    return json.dumps(obj, allow_nan=False)


class CatalogReplayer:
    """Replays a ``DolphinCatalog`` window into Hazelcast (see the module docstring).

    Parameters
    ----------
    catalog : strategies.catalog.DolphinCatalog
        The catalog to read (one day in memory at a time).
    settings : HazelcastClientSettings
        Target cluster, OB map and key pattern.
    config : ReplayConfig
        Window, speed and options.
    """

    def __init__(self, catalog: Any, settings: HazelcastClientSettings, config: ReplayConfig) -> None:
        self.catalog = catalog
        self.settings = settings
        self.config = config
        self.scan_map = config.scan_map or settings.map_name
        self.codec = OBPayloadCodec()
        self.sequencer = PushSequencer()
        self.counters: Counter[str] = Counter()
        self.wall_s = 0.0
        days = catalog.days
        start = config.start or (days[0] if days else None)
        end = config.end or (days[-1] if days else None)
        self.days = [d for d in days if start is not None and start <= d <= end]
        if not self.days:
            raise ValueError(
                f"{catalog.root}: no catalog day in [{config.start}, {config.end}] (days: {days[:3]}..{days[-3:]})"
            )
        self.assets = list(catalog.assets)

    def events(self) -> Iterator[tuple[int, str, Any]]:
        """``(ts_ns, "books" | "scan", payload objects)`` in replay order, one day loaded at a time."""
        wanted = set(self.config.assets) if self.config.assets else None
        n_scans = 0
        for day in self.days:
            merged: list[tuple[int, int, Any]] = []
            if self.config.books:
                for snap in self.catalog.load_ob_snapshots(day):
                    if wanted is None or snap.asset in wanted:
                        merged.append((snap.ts_init, 0, snap))
            if self.config.scans:
                merged.extend((s.ts_init, 1, s) for s in self.catalog.load_scans(day))
            merged.sort(key=lambda e: (e[0], e[1]))
            i = 0
            while i < len(merged):
                ts, kind, obj = merged[i]
                if kind == 1:
                    if self.config.max_scans is not None and n_scans >= self.config.max_scans:
                        return
                    n_scans += 1
                    yield ts, "scan", obj
                    i += 1
                    continue
                group = [obj]
                i += 1
                while i < len(merged) and merged[i][0] == ts and merged[i][1] == 0:
                    group.append(merged[i][2])
                    i += 1
                yield ts, "books", group

    def run(self, stop: threading.Event | None = None, ready_timeout: float = 30.0) -> dict[str, Any]:
        """Replay the window; return the counters. Blocks until done, ``stop`` is set or Hazelcast fails.

        Raises
        ------
        TimeoutError
            When Hazelcast is not reachable within ``ready_timeout``.
        """
        writer = HazelcastWriter(self.settings, name="dolphin-replay").start(extra_maps=(self.scan_map,))
        try:
            if not writer.wait_ready(ready_timeout):
                raise TimeoutError(
                    f"Hazelcast cluster {self.settings.cluster_name!r} at {list(self.settings.members)} "
                    f"not reachable within {ready_timeout:.0f}s"
                )
            self._loop(writer, stop)
        finally:
            self.counters["writer_batches_ok"] = writer.counters().get("batches_ok", 0)
            writer.close()
        out: dict[str, Any] = dict(self.counters)
        out["wall_s"] = round(self.wall_s, 3)
        return out

    def _loop(self, writer: HazelcastWriter, stop: threading.Event | None) -> None:
        if stop is None:
            stop = threading.Event()  # never set: one code path for the pacing wait
        speed = self.config.speed
        max_gap_ns = round(self.config.max_gap_s * 1e9)
        elapsed_ns = 0  # catalog time since the first event, gaps cut to max_gap_s
        prev_ns: int | None = None
        t0_wall = time.monotonic()
        first_scan = last_scan = None
        for ts_ns, kind, obj in self.events():
            if stop.is_set():
                self.counters["stopped_early"] = 1
                break
            if prev_ns is not None:
                step = ts_ns - prev_ns
                if step > max_gap_ns:
                    self.counters["gaps_cut"] += 1
                    step = max_gap_ns
                elapsed_ns += step
            prev_ns = ts_ns
            if speed > 0:
                due = t0_wall + elapsed_ns / 1e9 / speed
                delay = due - time.monotonic()
                if delay > 0:
                    if stop.wait(delay):
                        self.counters["stopped_early"] = 1
                        break
                elif delay < -0.05:
                    self.counters["late_events"] += 1
            now = time.time()
            ts = now if self.config.timestamps == "now" else ts_ns / 1e9
            if kind == "books":
                seq = self.sequencer.next()
                entries: dict[str, str] = {}
                for snap in obj:
                    ob = replace(snap.to_ob_snapshot(), timestamp=ts, pushed_at=now, push_seq=seq)
                    try:
                        entries[self.settings.key_for(ob.asset)] = self.codec.encode(ob)
                    except ValueError as exc:
                        self.counters["books_refused"] += 1
                        log.warning("replay: snapshot refused by the codec: %s", exc)
                writer.put_all_blocking(entries, self.settings.map_name)
                self.counters["books"] += len(entries)
                self.counters["book_batches"] += 1
            else:
                writer.put_all_blocking({self.config.scan_key: scan_payload(obj, self.assets, ts)}, self.scan_map)
                self.counters["scans"] += 1
                first_scan = obj.scan_number if first_scan is None else first_scan
                last_scan = obj.scan_number
        self.wall_s = time.monotonic() - t0_wall
        if first_scan is not None:
            self.counters["first_scan_number"] = first_scan
            self.counters["last_scan_number"] = last_scan
