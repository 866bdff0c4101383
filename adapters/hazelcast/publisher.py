"""The OB publisher (``dolphin obf-publish``): Binance USDT-M L2 books -> seed-000 payloads in Hazelcast.

``OBPublisherActor`` runs in a ``TradingNode`` whose only client is the real Nautilus Binance data
client. For every asset it subscribes to order-book deltas (REST snapshot + ``@depth@<speed>``
diff stream, or Binance's partial-depth stream when ``book_depth`` is 5/10/20); the node's
DataEngine maintains the book (``managed=True``). Every ``interval_ms`` a timer reads the top 5
levels of each book from the cache and writes, in one ``put_all``, one payload per asset to map
``DOLPHIN_FEATURES`` key ``asset_{SYMBOL}_ob``::

    timestamp     the book's time, ISO-8601 UTC (``book_time``, see below)
    bid/ask_notional[5]   price * size per level (USDT), bid/ask_depth[5] size (base)
    _pushed_at    wall clock at publication (readers measure freshness from it)
    _push_seq     ``PushSequencer``: monotonic, >= unix ms, so a restart never goes backwards

encoded by ``OBPayloadCodec.encode`` (which refuses anything a reader would reject).

``timestamp`` must never go backwards for an asset: readers keep the payload with the newest
``timestamp`` and drop older ones (``older_than_kept``). ``OrderBook.ts_last`` cannot be used as
is: the REST depth snapshot that (re)starts a book carries no exchange time, so Nautilus stamps it
with the local clock (``ts_event == ts_init``), while the diffs after it carry Binance's event time
``E``/``T``. A book resynchronised mid-run would publish a local-clock time, then older exchange
times, and readers would freeze that asset. So the actor follows the deltas itself:

- ``book_time="event"`` (default, seed 000 §2): the exchange event time of the newest delta batch
  that has one (``ts_event != ts_init``); batches without one (REST snapshots) do not move it. An
  asset is published once its first exchange-stamped update arrived (``no_event_time`` before).
- ``book_time="local"``: the wall clock when the publisher first saw the book's current version
  (within one ``interval_ms`` of its arrival). For venues whose clock is not wall time, e.g. the
  loopback test venue, whose market clock runs hours behind, or a skewed exchange clock.

Books that
did not change since the last tick are re-sent with a new ``_pushed_at``/``_push_seq`` (the
payload says "this is still the book now"), without re-reading their levels.

The Hazelcast side is ``HazelcastWriter``: nothing on the node's loop waits for the network; when
Hazelcast is down or slow, ticks are dropped and counted, and the newest book wins when it is
back. ``counters()`` says what happened; a summary is logged every ``log_every_s``.

Binance credentials are read from the environment variables *named* in ``OBPublishNodeConfig``
(``api_key_env`` / ``api_secret_env``), never from arguments, and never logged.
"""

import os
import time
from collections import Counter
from typing import Any

from nautilus_trader.common.actor import Actor
from nautilus_trader.common.config import NautilusConfig
from nautilus_trader.config import ActorConfig

from adapters.hazelcast.config import HazelcastClientSettings
from adapters.hazelcast.writer import HazelcastWriter
from adapters.hazelcast.writer import PushSequencer
from adapters.hazelcast.writer import book_levels
from nautilus_dolphin.data.universe import ASSETS
from nautilus_dolphin.obf.codec import OBPayloadCodec
from nautilus_dolphin.obf.types import N_LEVELS
from nautilus_dolphin.obf.types import OBSnapshot

BOOK_DEPTHS: tuple[int, ...] = (0, 5, 10, 20)
BOOK_TIMES: tuple[str, ...] = ("event", "local")
UPDATE_SPEEDS_MS: tuple[int, ...] = (0, 100, 250, 500)


class OBPublisherConfig(ActorConfig, frozen=True):
    """Configuration of ``OBPublisherActor``.

    Parameters
    ----------
    hazelcast : HazelcastClientSettings
        Where to write (cluster, members, ``map_name``, ``key_pattern``) and the client timeouts.
    assets : tuple[str, ...]
        Symbols to publish (``{SYMBOL}-PERP.{venue}`` instruments).
    venue : str
        Nautilus venue of the instruments.
    interval_ms : int
        Publication cadence (default 100 ms, seed 000 §1).
    book_depth : int
        0 = full book from the diff stream (REST snapshot + ``@depth@<speed>``); 5/10/20 =
        Binance partial-depth snapshots (lighter; not served by the loopback venue).
    update_speed_ms : int
        Binance stream speed: 0 (real time), 100, 250 or 500.
    book_time : str
        ``event`` (exchange event time of the last update) or ``local`` (wall clock when the
        publisher saw it); see the module docstring.
    max_in_flight : int
        Outstanding ``put_all`` batches before ticks are dropped (a slow or hung member).
    log_every_s : float
        Period of the summary log line (0 = never).
    """

    hazelcast: HazelcastClientSettings = HazelcastClientSettings()
    assets: tuple[str, ...] = tuple(ASSETS)
    venue: str = "BINANCE"
    interval_ms: int = 100
    book_depth: int = 0
    update_speed_ms: int = 100
    book_time: str = "event"
    max_in_flight: int = 8
    log_every_s: float = 30.0

    def __post_init__(self) -> None:
        if self.interval_ms < 1:
            raise ValueError(f"OBPublisherConfig.interval_ms must be >= 1, was {self.interval_ms}")
        if self.book_depth not in BOOK_DEPTHS:
            raise ValueError(f"OBPublisherConfig.book_depth must be one of {BOOK_DEPTHS}, was {self.book_depth}")
        if self.update_speed_ms not in UPDATE_SPEEDS_MS:
            raise ValueError(
                f"OBPublisherConfig.update_speed_ms must be one of {UPDATE_SPEEDS_MS}, was {self.update_speed_ms}"
            )
        if self.book_time not in BOOK_TIMES:
            raise ValueError(f"OBPublisherConfig.book_time must be one of {BOOK_TIMES}, was {self.book_time!r}")
        if not self.assets:
            raise ValueError("OBPublisherConfig.assets is empty")


class OBPublisherActor(Actor):
    """Keeps each asset's L2 book (Nautilus-managed) and publishes seed-000 payloads to Hazelcast."""

    def __init__(self, config: OBPublisherConfig) -> None:
        super().__init__(config)
        from nautilus_trader.model.identifiers import InstrumentId

        self.assets: tuple[str, ...] = tuple(config.assets)
        self.instrument_ids = {a: InstrumentId.from_str(f"{a}-PERP.{config.venue}") for a in self.assets}
        self._asset_of = {iid: a for a, iid in self.instrument_ids.items()}
        self._event_ns: dict[str, int] = {}  # asset -> newest exchange event time seen (ns)
        self.keys = {a: config.hazelcast.key_for(a) for a in self.assets}
        self.codec = OBPayloadCodec()
        self.sequencer = PushSequencer()
        self.writer = HazelcastWriter(config.hazelcast, max_in_flight=config.max_in_flight, name="obf-publisher")
        self._stats: Counter[str] = Counter()
        self._levels: dict[str, tuple[int, float, Any]] = {}  # asset -> (update_count, ts_s, arrays)
        self._last_log = 0.0

    # ------------------------------------------------------------------ lifecycle
    def on_start(self) -> None:
        from datetime import timedelta

        from nautilus_trader.model.enums import BookType

        self.writer.start()
        params = {"update_speed": self.config.update_speed_ms}
        for asset, iid in self.instrument_ids.items():
            if self.cache.instrument(iid) is None:
                self._stats["missing_instruments"] += 1
                self.log.warning(f"instrument {iid} not loaded: {asset} will not be published")
                continue
            self.subscribe_order_book_deltas(
                iid, book_type=BookType.L2_MBP, depth=self.config.book_depth, managed=True, params=params
            )
        self.clock.set_timer(
            "obf-publish", timedelta(milliseconds=self.config.interval_ms), callback=self._on_tick
        )
        self._last_log = time.monotonic()
        hz = self.config.hazelcast
        self.log.info(
            f"OB publisher: {len(self.assets)} assets every {self.config.interval_ms} ms -> Hazelcast "
            f"cluster {hz.cluster_name!r} at {list(hz.members)}, map {hz.map_name!r}, key {hz.key_pattern!r}"
        )

    def on_stop(self) -> None:
        if "obf-publish" in self.clock.timer_names:
            self.clock.cancel_timer("obf-publish")
        self.writer.close()
        self.log.info(f"OB publisher stopped: {self._summary()}")

    def on_order_book_deltas(self, deltas: Any) -> None:
        """Track the exchange event time per asset (the DataEngine maintains the book itself)."""
        if deltas.ts_event == deltas.ts_init:  # REST snapshot: stamped with the local clock, no exchange time
            self._stats["untimed_updates"] += 1
            return
        asset = self._asset_of.get(deltas.instrument_id)
        if asset is not None and deltas.ts_event > self._event_ns.get(asset, 0):
            self._event_ns[asset] = deltas.ts_event

    # ------------------------------------------------------------------ publication (node loop)
    def _on_tick(self, event: Any = None) -> None:
        now = time.time()
        seq = self.sequencer.next()
        entries: dict[str, str] = {}
        for asset in self.assets:
            payload = self._payload(asset, now, seq)
            if payload is not None:
                entries[self.keys[asset]] = payload
        self._stats["ticks"] += 1
        if entries:
            if self.writer.put_all(entries):
                self._stats["payloads_sent"] += len(entries)
                self._stats["last_push_seq"] = seq
            else:
                self._stats["ticks_dropped"] += 1
        if self.config.log_every_s > 0 and time.monotonic() - self._last_log >= self.config.log_every_s:
            self._last_log = time.monotonic()
            self.log.info(f"OB publisher: {self._summary()}")

    def _payload(self, asset: str, now: float, seq: int) -> str | None:
        book = self.cache.order_book(self.instrument_ids[asset])
        if book is None or book.update_count == 0:
            self._stats["no_book"] += 1
            return None
        cached = self._levels.get(asset)
        count = book.update_count
        if cached is None or cached[0] != count:
            levels = book_levels(
                [(lv.price.as_double(), lv.size()) for lv in book.bids()[:N_LEVELS]],
                [(lv.price.as_double(), lv.size()) for lv in book.asks()[:N_LEVELS]],
            )
            if levels is None:
                self._stats["empty_or_bad_book"] += 1
                return None
            if self.config.book_time == "local":
                ts = now
            else:
                event_ns = self._event_ns.get(asset)
                if event_ns is None:
                    self._stats["no_event_time"] += 1
                    return None
                ts = event_ns / 1e9
            cached = (count, ts, levels)
            self._levels[asset] = cached
            self._stats["book_reads"] += 1
        _, ts, (bn, an, bd, ad) = cached
        snap = OBSnapshot(asset=asset, timestamp=ts, bid_notional=bn, ask_notional=an, bid_depth=bd,
                          ask_depth=ad, pushed_at=now, push_seq=seq)
        try:
            return self.codec.encode(snap)
        except ValueError as exc:
            self._stats["encode_refused"] += 1
            if self._stats["encode_refused"] == 1:
                self.log.warning(f"payload of {asset} refused by the codec: {exc}")
            return None

    # ------------------------------------------------------------------ introspection
    def counters(self) -> dict[str, Any]:
        """Publisher counters (ticks, payloads_sent, no_book, ...) plus ``writer.*`` counters."""
        out: dict[str, Any] = dict(self._stats)
        out.update({f"writer.{k}": v for k, v in self.writer.counters().items()})
        return out

    def _summary(self) -> str:
        c = self.counters()
        return (
            f"ticks={c.get('ticks', 0)} payloads_sent={c.get('payloads_sent', 0)} "
            f"ticks_dropped={c.get('ticks_dropped', 0)} no_book={c.get('no_book', 0)} "
            f"acked={c.get('writer.batches_ok', 0)} failed={c.get('writer.batches_failed', 0)} "
            f"hz_ready={c.get('writer.ready')}"
        )


class OBPublishNodeConfig(NautilusConfig, frozen=True):
    """Everything ``dolphin obf-publish`` needs to build its node.

    Parameters
    ----------
    publisher : OBPublisherConfig
        The actor's settings (Hazelcast target, assets, cadence).
    api_key_env, api_secret_env : str
        Names of the environment variables holding the Binance key and secret (the values are
        read at build time and never logged or stored in this config).
    testnet : bool
        Binance USDT-M testnet instead of mainnet.
    base_url_http, base_url_ws : str, optional
        URL overrides (e.g. the loopback venue); None = Binance's own.
    trader_id : str
        Nautilus trader id of the publisher node.
    timeout_connection_s : float
        How long the node waits for the Binance client to connect.
    log_level : str
        Nautilus log level.
    """

    publisher: OBPublisherConfig = OBPublisherConfig()
    api_key_env: str = "BINANCE_API_KEY"
    api_secret_env: str = "BINANCE_API_SECRET"
    testnet: bool = False
    base_url_http: str | None = None
    base_url_ws: str | None = None
    trader_id: str = "OBF-PUBLISHER-001"
    timeout_connection_s: float = 20.0
    log_level: str = "INFO"


def read_credentials(config: OBPublishNodeConfig) -> tuple[str, str]:
    """Return (key, secret) from the environment variables named in ``config``.

    Raises
    ------
    ValueError
        Naming the missing variable (never its value).
    """
    missing = [name for name in (config.api_key_env, config.api_secret_env) if not os.environ.get(name)]
    if missing:
        raise ValueError(f"Binance credentials: environment variable(s) {', '.join(missing)} not set or empty")
    return os.environ[config.api_key_env], os.environ[config.api_secret_env]


def build_publisher_node(config: OBPublishNodeConfig, loop: Any = None) -> tuple[Any, OBPublisherActor]:
    """Build (not run) a ``TradingNode`` with the Binance USDT-M data client and the publisher actor.

    Returns
    -------
    (TradingNode, OBPublisherActor)
    """
    import asyncio

    from nautilus_trader.adapters.binance import BINANCE
    from nautilus_trader.adapters.binance import BinanceAccountType
    from nautilus_trader.adapters.binance import BinanceDataClientConfig
    from nautilus_trader.adapters.binance import BinanceLiveDataClientFactory
    from nautilus_trader.config import InstrumentProviderConfig
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.config import TradingNodeConfig
    from nautilus_trader.live.node import TradingNode

    key, secret = read_credentials(config)
    pub = config.publisher
    ids = frozenset(f"{a}-PERP.{pub.venue}" for a in pub.assets)
    data = BinanceDataClientConfig(
        api_key=key,
        api_secret=secret,
        account_type=BinanceAccountType.USDT_FUTURES,
        testnet=config.testnet,
        base_url_http=config.base_url_http,
        base_url_ws=config.base_url_ws,
        instrument_provider=InstrumentProviderConfig(load_ids=ids),
    )
    node_config = TradingNodeConfig(
        trader_id=config.trader_id,
        logging=LoggingConfig(log_level=config.log_level),
        data_clients={BINANCE: data},
        timeout_connection=config.timeout_connection_s,
        timeout_disconnection=5.0,
        timeout_post_stop=0.5,
    )
    node = TradingNode(config=node_config, loop=loop or asyncio.new_event_loop())
    node.add_data_client_factory(BINANCE, BinanceLiveDataClientFactory)
    node.build()
    actor = OBPublisherActor(pub)
    node.trader.add_actor(actor)
    return node, actor
