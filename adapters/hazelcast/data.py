"""``HazelcastDataClient``: DOLPHIN order-book snapshots (and scans) from Hazelcast into a Nautilus node.

On ``subscribe_data(DataType(DolphinOBSnapshot), client_id=ClientId("HAZELCAST"))`` the client
publishes the latest snapshot of every asset (read with ``get_all``), then every update the
entry listener (or the poller) delivers, each validated by ``OBPayloadCodec``, as
``CustomData(DataType(DolphinOBSnapshot), ...)``. With ``scan_map``/``scan_key`` configured, a
``DolphinScan`` subscription gets the upstream scanner's scans the same way.

Threads: Hazelcast callbacks run on the client's own threads; they only decode and hand the
result to the node's event loop with ``loop.call_soon_threadsafe``. Nothing touches the node
from a foreign thread, and nothing on the loop waits for the network: connecting is
``async_start`` and the feed's supervisor thread does every blocking call (see providers.py).
The node therefore starts and keeps running whatever Hazelcast does; ``counters()`` says what
happened.
"""

import asyncio
import json
import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.core.data import Data
from nautilus_trader.data.messages import SubscribeData
from nautilus_trader.data.messages import UnsubscribeData
from nautilus_trader.live.data_client import LiveDataClient
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.data import DataType
from nautilus_trader.model.identifiers import ClientId

from adapters.hazelcast.config import HazelcastDataClientConfig
from adapters.hazelcast.providers import HazelcastFeed
from nautilus_dolphin.obf.codec import parse_timestamp
from nautilus_dolphin.obf.types import OBSnapshot
from strategies.data_types import DolphinOBSnapshot
from strategies.data_types import DolphinScan

SCAN_FIELDS: tuple[str, ...] = (
    "vel_div",
    "v50_lambda_max_velocity",
    "v150_lambda_max_velocity",
    "v300_lambda_max_velocity",
    "v750_lambda_max_velocity",
    "instability_50",
    "instability_150",
)


def decode_scan(payload: Any, assets: tuple[str, ...], ts_init: int) -> DolphinScan | None:
    """Decode an upstream scan payload (JSON object) into a ``DolphinScan``; None when unusable.

    Expected fields: ``scan_number`` (int), the seven ``SCAN_FIELDS`` (finite floats), ``prices``
    (a list in ``assets`` order, or an object symbol -> price; missing = NaN) and optionally
    ``timestamp`` (ISO-8601 or unix s; default ``ts_init``). Never raises.
    """
    try:
        if hasattr(payload, "to_string") and not isinstance(payload, str | bytes | Mapping):
            payload = payload.to_string()
        obj = json.loads(payload) if isinstance(payload, str | bytes | bytearray) else payload
        if not isinstance(obj, Mapping):
            return None
        values = {name: float(obj[name]) for name in SCAN_FIELDS}
        if not all(math.isfinite(v) for v in values.values()):
            return None
        raw_prices = obj.get("prices", [])
        if isinstance(raw_prices, Mapping):
            prices = np.array([float(raw_prices.get(a, math.nan)) for a in assets], dtype=np.float64)
        else:
            prices = np.asarray(raw_prices, dtype=np.float64).reshape(-1)
        ts_event = ts_init
        if obj.get("timestamp") is not None:
            ts_event = round(parse_timestamp(obj["timestamp"]) * 1e9)
        return DolphinScan(
            ts_event=ts_event, ts_init=ts_init, scan_number=int(obj["scan_number"]), prices=prices, **values
        )
    except Exception:
        return None


class HazelcastDataClient(LiveDataClient):
    """Nautilus live data client publishing ``DolphinOBSnapshot`` (and ``DolphinScan``) from Hazelcast.

    Parameters
    ----------
    loop : asyncio.AbstractEventLoop
        The node's event loop (the only place data is handed to the node).
    client_id : ClientId
        E.g. ``ClientId("HAZELCAST")``; strategies pass it to ``subscribe_data``.
    msgbus, cache, clock
        The node's components.
    config : HazelcastDataClientConfig
        Cluster, map, keys, assets, mode and timeouts.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        client_id: ClientId,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
        config: HazelcastDataClientConfig,
    ) -> None:
        super().__init__(
            loop=loop, client_id=client_id, venue=None, msgbus=msgbus, cache=cache, clock=clock, config=config
        )
        self._hz = config.hazelcast
        self._publish_stale = config.publish_stale
        self._ob_on = False
        self._scans_on = False
        self._stats: Counter[str] = Counter()
        self._feed = HazelcastFeed(self._hz, on_snapshot=self._from_feed, on_scan=self._scan_from_feed)

    # ------------------------------------------------------------------ introspection
    @property
    def feed(self) -> HazelcastFeed:
        """The underlying feed (for status and tests)."""
        return self._feed

    def counters(self) -> dict[str, Any]:
        """Feed counters (events, resyncs, reconnects, rejects by reason ...) plus publish counts."""
        out = self._feed.counters()
        out.update(self._stats)
        return out

    # ------------------------------------------------------------------ lifecycle
    async def _connect(self) -> None:
        # returns at once: the feed connects in the background, so a dead member never delays the node
        self._feed.start()
        self._log.info(
            f"Hazelcast feed started: cluster {self._hz.cluster_name!r} at {list(self._hz.members)}, "
            f"map {self._hz.map_name!r}, {len(self._hz.assets)} assets, mode {self._hz.mode}"
        )

    async def _disconnect(self) -> None:
        await self._loop.run_in_executor(None, self._feed.close)
        self._log.info(f"Hazelcast feed stopped: {self._summary()}")

    async def _subscribe(self, command: SubscribeData) -> None:
        data_cls = command.data_type.type
        if data_cls is DolphinOBSnapshot:
            self._ob_on = True
            for snap in self._feed.latest_all().values():  # what the feed already holds
                self._publish_snapshot(snap)
            self._feed.request_resync()
        elif data_cls is DolphinScan:
            if self._hz.scan_key is None:
                self._log.warning("DolphinScan subscription ignored: no scan_map/scan_key configured")
                return
            self._scans_on = True
            self._feed.request_resync()
        else:
            self._log.warning(f"Cannot subscribe to {command.data_type}: only DolphinOBSnapshot/DolphinScan")

    async def _unsubscribe(self, command: UnsubscribeData) -> None:
        if command.data_type.type is DolphinOBSnapshot:
            self._ob_on = False
        elif command.data_type.type is DolphinScan:
            self._scans_on = False

    # ------------------------------------------------------------------ Hazelcast threads -> loop
    def _from_feed(self, snap: OBSnapshot) -> None:
        """Runs on a Hazelcast/feed thread: only hand over to the node's loop."""
        if not self._ob_on:
            return
        self._handoff(self._publish_snapshot, snap)

    def _scan_from_feed(self, key: str, value: Any) -> None:
        if not self._scans_on:
            return
        self._handoff(self._publish_scan, value)

    def _handoff(self, fn: Any, arg: Any) -> None:
        try:
            self._loop.call_soon_threadsafe(fn, arg)
        except RuntimeError:  # loop closed during shutdown
            self._stats["handoff_failures"] += 1

    # ------------------------------------------------------------------ on the node's loop
    def _publish_snapshot(self, snap: OBSnapshot) -> None:
        if not self._ob_on:
            return
        if not self._publish_stale and self._feed.age_s(snap) > self._hz.max_snapshot_age_s:
            self._stats["dropped_stale"] += 1
            return
        data = DolphinOBSnapshot.from_ob_snapshot(snap, ts_init=self._clock.timestamp_ns())
        self._publish(DataType(DolphinOBSnapshot), data)
        self._stats["published_ob"] += 1

    def _publish_scan(self, value: Any) -> None:
        scan = decode_scan(value, self._hz.assets, self._clock.timestamp_ns())
        if scan is None:
            self._stats["scan_rejected"] += 1
            return
        self._publish(DataType(DolphinScan), scan)
        self._stats["published_scans"] += 1

    def _publish(self, data_type: DataType, data: Data) -> None:
        self._handle_data(CustomData(data_type, data))

    def _summary(self) -> str:
        c = self.counters()
        return (
            f"published_ob={c.get('published_ob', 0)} events={c.get('events', 0)} "
            f"resyncs={c.get('resyncs', 0)} reconnects={c.get('reconnects', 0)} "
            f"rejected={c.get('rejected_total', 0)} {c.get('rejected', {})}"
        )
