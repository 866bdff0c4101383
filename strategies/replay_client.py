"""``ReplayScanDataClient``: a Nautilus live data client that replays recorded DOLPHIN scans.

What it is for: running the live ``DolphinStrategy`` in a real ``TradingNode`` on a recorded
window, i.e. a **demo, soak and SHADOW/paper rehearsal tool** (and the scan source of the
loopback-venue tests). It is not a production scan source: live scans come from the DOLPHIN
scanner (Hazelcast). The rows of a vbt_cache-layout file (``frame_path``: one row per 5-second
scan, a ``timestamp`` column, the signal columns and one price column per asset) or a window of a
DOLPHIN catalog (``catalog_path`` with ``start``/``end``) become
``CustomData(DataType(DolphinScan), scan)`` on the node's loop, at ``speed`` times real time,
timestamped by the node clock (``timestamps="node"``) so the strategy sees them as live scans.

Bad inputs fail early and name what is wrong: the config checks its own fields when it is built
(``ValueError``), and the client loads and checks the rows when the node builds it (missing file:
``FileNotFoundError``; missing or non-finite column, empty window, asset order: ``ValueError``),
so a bad file stops ``node.build()`` instead of leaving a client that never connects.

Lock-step with a loopback venue (``venue_control_url``)
-------------------------------------------------------
The loopback Binance venue (``adapters/loopback/binance_futures``, a test stand-in) can replay the
same file (``dolphin venue --replay FILE --step-interval 0``: paused, it moves only when told).
One side must drive both, or a scan can reach the strategy before the venue shows its prices. The
client is that driver: for each scan it calls ``POST /_control/step`` until the venue's market time
reaches the scan's source timestamp (the venue publishes the step's quotes before it answers),
then waits until the node's cache holds a quote at least that recent for every traded instrument
(``await_quotes``), and only then emits the scan. So an order sent from ``on_data`` meets the
scan's prices at the venue, and the sandbox (paper) execution client, which fills from the quotes
it has seen, has them too. The venue consumes its first row when it starts and the node's quote
subscriptions need a moment to go live: ``preroll_rows`` rows at the start only step the venue
(no scan is emitted for them), so the first emitted scan already has its quotes in the node.
Without ``venue_control_url`` the client just replays at ``speed``.

Counters (``counters``) say what happened: rows, emitted, venue_steps, quote_waits (steps whose
quotes were not yet in the node when the venue answered), quote_timeouts (a scan emitted without
its quotes after ``quote_timeout_secs``), preroll_misses, venue_ahead, errors.
``finished`` is set once the last row was handed to the node (the live data engine queues data, so
the last scans may reach the strategy a moment later); ``failure`` holds the reason when the
replay stopped early.
"""

import asyncio
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.config import LiveDataClientConfig
from nautilus_trader.data.messages import RequestData
from nautilus_trader.data.messages import SubscribeData
from nautilus_trader.data.messages import UnsubscribeData
from nautilus_trader.live.data_client import LiveDataClient
from nautilus_trader.live.factories import LiveDataClientFactory
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.data import DataType
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_dolphin.data.schema import INSTABILITY_COLS
from nautilus_dolphin.data.schema import SCAN_NUMBER_COL
from nautilus_dolphin.data.schema import TIMESTAMP_COL
from nautilus_dolphin.data.schema import VEL_DIV_COL
from nautilus_dolphin.data.schema import VELOCITY_COLS
from nautilus_dolphin.data.schema import asset_columns
from nautilus_dolphin.data.schema import timestamps_ns
from strategies.data_types import DolphinScan

REPLAY_CLIENT_ID: str = "SCAN"
"""Default client id (the strategy's ``scan_client_id``)."""
TIMESTAMP_MODES: tuple[str, ...] = ("node", "source")
SIGNAL_FIELDS: tuple[str, ...] = (VEL_DIV_COL, *VELOCITY_COLS, *INSTABILITY_COLS)
REQUIRED_SIGNALS: tuple[str, ...] = (VEL_DIV_COL, "v750_lambda_max_velocity", "instability_50")
"""Signal columns the strategy reads; the other signal columns default to NaN when absent."""
PREROLL_WAIT_SECS: float = 0.5


def _ts_ns(value: str | None, what: str = "timestamp") -> int | None:
    """UTC nanoseconds of ``value`` (naive = UTC); ValueError naming ``what`` when unparseable."""
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what}: cannot parse {value!r} as a timestamp ({exc})") from None
    if ts is pd.NaT:
        raise ValueError(f"{what}: cannot parse {value!r} as a timestamp")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.value)


class ReplayScanDataClientConfig(LiveDataClientConfig, frozen=True):
    """Configuration of ``ReplayScanDataClient``.

    Parameters
    ----------
    frame_path : str, optional
        vbt_cache-layout ``.parquet`` or ``.csv`` file to replay (one row per scan).
    catalog_path : str, optional
        DOLPHIN catalog root (``dolphin_catalog.json`` gives the asset order) to replay
        ``DolphinScan`` rows from, between ``start`` and ``end``.
    start, end : str, optional
        Window bounds (anything ``pandas.Timestamp`` parses, UTC); both inclusive.
    assets : tuple[str, ...], optional
        Price columns in ``DolphinScan.prices`` order (must equal the strategy's ``assets``).
        Default: the file's asset columns, or the catalog's asset order.
    speed : float
        Replay speed as a multiple of real time (100 = a 5-second scan every 0.05 s), paced
        from one scan to the next (a slow step delays the rest, never bursts); 0 = as fast as
        lock-step allows.
    timestamps : str
        ``node``: ``ts_event = ts_init =`` the node clock at emission (a live scan); ``source``:
        the recorded timestamps.
    venue : str
        Venue of the ``{ASSET}-PERP.{venue}`` instruments whose quotes are awaited.
    venue_control_url : str, optional
        Base URL of a loopback venue replaying the same rows (``http://127.0.0.1:PORT``):
        enables lock-step (see the module docstring).
    await_quotes : bool
        In lock-step, wait until the node has the stepped quotes before emitting a scan.
    quote_timeout_secs : float
        Longest wait for those quotes; the scan is then emitted anyway and counted.
    preroll_rows : int
        Leading rows that only step the venue (no scan emitted).
    """

    frame_path: str | None = None
    catalog_path: str | None = None
    start: str | None = None
    end: str | None = None
    assets: tuple[str, ...] | None = None
    speed: float = 1.0
    timestamps: str = "node"
    venue: str = "BINANCE"
    venue_control_url: str | None = None
    await_quotes: bool = True
    quote_timeout_secs: float = 5.0
    preroll_rows: int = 0

    def __post_init__(self) -> None:
        name = type(self).__name__
        if (self.frame_path is None) == (self.catalog_path is None):
            raise ValueError(f"{name} needs exactly one of frame_path or catalog_path")
        if self.frame_path is not None:
            if not self.frame_path.endswith((".parquet", ".csv")):
                raise ValueError(f"{name}.frame_path must be a .parquet or .csv file, was {self.frame_path!r}")
            if self.start is not None or self.end is not None:
                raise ValueError(f"{name}: start/end select a catalog window; a frame_path is replayed whole")
        bounds = {k: _ts_ns(getattr(self, k), f"{name}.{k}") for k in ("start", "end")}
        if None not in bounds.values() and bounds["start"] > bounds["end"]:
            raise ValueError(f"{name}: start {self.start!r} is after end {self.end!r}")
        if self.assets is not None and (not self.assets or len(set(self.assets)) != len(self.assets)):
            raise ValueError(f"{name}.assets must be non-empty and without repeats, was {self.assets!r}")
        if not (isinstance(self.speed, int | float) and math.isfinite(self.speed) and self.speed >= 0):
            raise ValueError(f"{name}.speed must be finite and >= 0, was {self.speed!r}")
        if self.timestamps not in TIMESTAMP_MODES:
            raise ValueError(f"{name}.timestamps must be one of {TIMESTAMP_MODES}, was {self.timestamps!r}")
        if self.venue_control_url is not None and not self.venue_control_url.startswith(
            ("http://", "https://")
        ):
            raise ValueError(
                f"{name}.venue_control_url must be an http(s) URL like http://127.0.0.1:PORT, "
                f"was {self.venue_control_url!r}"
            )
        if not (math.isfinite(self.quote_timeout_secs) and self.quote_timeout_secs > 0):
            raise ValueError(f"{name}.quote_timeout_secs must be > 0, was {self.quote_timeout_secs!r}")
        if self.preroll_rows < 0:
            raise ValueError(f"{name}.preroll_rows must be >= 0, was {self.preroll_rows!r}")


class ScanRows:
    """Recorded scans as arrays: source timestamps (ns), scan numbers, signals, prices (n x assets)."""

    def __init__(
        self,
        ts_ns: np.ndarray,
        scan_number: np.ndarray,
        signals: dict[str, np.ndarray],
        prices: np.ndarray,
        assets: tuple[str, ...],
        source: str,
    ) -> None:
        self.ts_ns = ts_ns
        self.scan_number = scan_number
        self.signals = signals
        self.prices = prices
        self.assets = assets
        self.source = source

    def __len__(self) -> int:
        return len(self.ts_ns)

    def scan(self, i: int, ts_event: int, ts_init: int) -> DolphinScan:
        """Build row ``i`` as a ``DolphinScan`` with the given timestamps."""
        return DolphinScan(
            ts_event=ts_event,
            ts_init=ts_init,
            scan_number=int(self.scan_number[i]),
            prices=self.prices[i].copy(),
            **{name: float(self.signals[name][i]) for name in SIGNAL_FIELDS},
        )


def rows_from_frame(
    frame: pd.DataFrame, assets: tuple[str, ...] | None = None, source: str = "<frame>"
) -> ScanRows:
    """Turn a vbt_cache-layout frame into ``ScanRows`` (sorted by timestamp).

    Raises ValueError naming ``source`` and the column when a timestamp, a required signal
    (``REQUIRED_SIGNALS``) or an asset column is missing or when a required signal is not finite.
    """
    if TIMESTAMP_COL not in frame.columns:
        raise ValueError(f"{source}: no '{TIMESTAMP_COL}' column")
    missing = [c for c in REQUIRED_SIGNALS if c not in frame.columns]
    if missing:
        raise ValueError(f"{source}: missing signal column(s) {missing}")
    chosen = tuple(assets) if assets else tuple(asset_columns(list(frame.columns)))
    absent = [a for a in chosen if a not in frame.columns]
    if absent or not chosen:
        raise ValueError(f"{source}: missing asset column(s) {absent or '(none found)'}")
    frame = frame.reset_index(drop=True)
    ts = timestamps_ns(frame[TIMESTAMP_COL], source)
    order = np.argsort(ts, kind="stable")
    signals: dict[str, np.ndarray] = {}
    for name in SIGNAL_FIELDS:
        if name in frame.columns:
            col = frame[name].to_numpy(np.float64)[order]
            if name in REQUIRED_SIGNALS and not np.all(np.isfinite(col)):
                bad = int(np.flatnonzero(~np.isfinite(col))[0])
                raise ValueError(f"{source}: column {name!r}, row {int(order[bad])}: not finite")
            signals[name] = col
        else:
            signals[name] = np.full(len(frame), np.nan)
    if SCAN_NUMBER_COL in frame.columns:
        numbers = frame[SCAN_NUMBER_COL].to_numpy(np.int64)[order]
    else:
        numbers = np.arange(len(frame), dtype=np.int64)
    prices = frame[list(chosen)].to_numpy(np.float64)[order]
    return ScanRows(ts[order], numbers, signals, prices, chosen, source)


def load_frame_file(path: str) -> pd.DataFrame:
    """Read a vbt_cache-layout ``.parquet`` or ``.csv`` file (FileNotFoundError naming it if absent)."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"scan replay file not found: {path}")
    if path.endswith(".parquet"):
        return pd.read_parquet(path)
    if path.endswith(".csv"):
        return pd.read_csv(path, parse_dates=[TIMESTAMP_COL])
    raise ValueError(f"frame_path must be a .parquet or .csv file, got {path!r}")


def rows_from_catalog(
    root: str, start: str | None, end: str | None, assets: tuple[str, ...] | None = None
) -> ScanRows:
    """Load the ``DolphinScan`` rows of a catalog window as ``ScanRows``.

    The asset order is the catalog's (``dolphin_catalog.json``); ``assets``, when given, must
    equal it, since the prices arrays follow that order.
    """
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    if not Path(root).is_dir():
        raise FileNotFoundError(f"scan replay catalog not found: {root}")
    meta_path = Path(root) / "dolphin_catalog.json"
    catalog_assets: tuple[str, ...] | None = None
    if meta_path.exists():
        catalog_assets = tuple(json.loads(meta_path.read_text())["assets"])
    if assets and catalog_assets and tuple(assets) != catalog_assets:
        raise ValueError(
            f"{root}: assets {list(assets)} differ from the catalog's order {list(catalog_assets)}"
        )
    chosen = tuple(assets) if assets else catalog_assets
    if not chosen:
        raise ValueError(f"{root}: no dolphin_catalog.json and no assets given: the price order is unknown")
    rows = ParquetDataCatalog(str(root)).query(
        DolphinScan, start=_ts_ns(start, "start"), end=_ts_ns(end, "end")
    )
    scans = sorted((r.data if isinstance(r, CustomData) else r for r in rows), key=lambda s: s.ts_init)
    if not scans:
        raise ValueError(f"{root}: no DolphinScan rows between {start} and {end}")
    width = {len(s.prices) for s in scans}
    if width != {len(chosen)}:
        raise ValueError(f"{root}: scans carry {sorted(width)} prices for {len(chosen)} assets")
    return ScanRows(
        ts_ns=np.array([s.ts_event for s in scans], dtype=np.int64),
        scan_number=np.array([s.scan_number for s in scans], dtype=np.int64),
        signals={
            name: np.array([getattr(s, name) for s in scans], dtype=np.float64) for name in SIGNAL_FIELDS
        },
        prices=np.vstack([s.prices for s in scans]),
        assets=chosen,
        source=f"{root}[{start}..{end}]",
    )


def load_rows(config: ReplayScanDataClientConfig) -> ScanRows:
    """Load the rows ``config`` names (its file, or its catalog window)."""
    if config.frame_path is not None:
        return rows_from_frame(load_frame_file(config.frame_path), config.assets, config.frame_path)
    return rows_from_catalog(config.catalog_path, config.start, config.end, config.assets)


class ReplayScanDataClient(LiveDataClient):
    """Replays recorded ``DolphinScan`` rows into a live node: a demo/soak/shadow tool.

    Emits the rows once the strategy subscribes to ``DolphinScan`` (optionally in lock-step with a
    loopback venue, see the module docstring); ``counters``, ``finished`` and ``failure`` say how
    the replay went. Raises at construction when the config's file or catalog window is unusable.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        client_id: ClientId,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
        config: ReplayScanDataClientConfig,
    ) -> None:
        super().__init__(
            loop=loop, client_id=client_id, venue=None, msgbus=msgbus, cache=cache, clock=clock, config=config
        )
        self._config = config
        # loaded now (node.build), not in _connect: a bad file then stops the build with its name
        # and column, where a failing _connect would only log and leave the node idle
        self.rows: ScanRows = load_rows(config)
        if config.preroll_rows >= len(self.rows):
            raise ValueError(
                f"preroll_rows ({config.preroll_rows}) leaves no scan of the {len(self.rows)} "
                f"rows of {self.rows.source} to emit"
            )
        self.counters: dict[str, int] = {
            "rows": len(self.rows),
            "emitted": 0,
            "venue_steps": 0,
            "quote_waits": 0,
            "quote_timeouts": 0,
            "preroll_misses": 0,
            "venue_ahead": 0,
            "errors": 0,
        }
        self.finished = False
        self.failure: str | None = None
        self._replay_task: asyncio.Task | None = None
        self._session: Any = None
        self._venue_ms: int | None = None
        self._warned_no_instruments = False
        self._iids = [InstrumentId.from_str(f"{a}-PERP.{config.venue}") for a in self.rows.assets]

    # -- lifecycle --------------------------------------------------------------------------------

    async def _connect(self) -> None:
        self._log.info(
            f"loaded {len(self.rows)} scan rows of {len(self.rows.assets)} assets from {self.rows.source}"
        )

    async def _disconnect(self) -> None:
        if self._replay_task is not None and not self._replay_task.done():
            self._replay_task.cancel()
            try:
                await self._replay_task
            except (asyncio.CancelledError, Exception):  # the replay's own errors are already logged
                pass
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _subscribe(self, command: SubscribeData) -> None:
        if command.data_type.type is not DolphinScan:
            self._log.warning(
                f"cannot subscribe to {command.data_type}: this client replays DolphinScan only"
            )
            return
        if self._replay_task is None:
            self._replay_task = self.create_task(self._replay(), log_msg="scan_replay")

    async def _unsubscribe(self, command: UnsubscribeData) -> None:
        if command.data_type.type is DolphinScan and self._replay_task is not None:
            self._replay_task.cancel()

    async def _request(self, request: RequestData) -> None:
        self._log.warning(f"requests are not supported ({request.data_type})")

    # -- venue control (lock-step) ----------------------------------------------------------------

    async def _control(self, path: str, body: dict | None = None) -> dict:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        url = f"{self._config.venue_control_url.rstrip('/')}/_control/{path}"
        method = "POST" if body is not None else "GET"
        async with self._session.request(method, url, json=body) as resp:
            data = await resp.json()
            if resp.status != 200:
                raise RuntimeError(f"venue control {path}: HTTP {resp.status} {data}")
            return data

    async def _step_venue(self) -> int:
        market = await self._control("step", {"n": 1})
        self.counters["venue_steps"] += 1
        if market.get("exhausted"):
            raise RuntimeError("the venue's replay ended before this scan's prices")
        self._venue_ms = int(market["ts_ms"])
        return self._venue_ms

    def _awaited(self) -> list[InstrumentId]:
        out = [iid for iid in self._iids if self._cache.instrument(iid) is not None]
        if not out and not self._warned_no_instruments:
            # a wrong ``venue`` or no loaded instruments: lock-step cannot wait for any quote
            self._warned_no_instruments = True
            self._log.warning(
                f"none of {list(self.rows.assets)} is a {self._config.venue} instrument in the cache: "
                "scans are emitted without waiting for quotes"
            )
        return out

    async def _quotes_reached(self, ts_ms: int, timeout: float) -> bool:
        """Wait until every awaited instrument's latest quote is at least ``ts_ms`` (market time)."""
        ts_ns = ts_ms * 1_000_000
        iids = self._awaited()
        deadline = self._loop.time() + timeout
        waited = False
        while True:
            if all((q := self._cache.quote_tick(i)) is not None and q.ts_event >= ts_ns for i in iids):
                return True
            if self._loop.time() >= deadline:
                return False
            if not waited:
                waited = True
                self.counters["quote_waits"] += 1
            await asyncio.sleep(0.002)

    async def _sync_venue(self, source_ns: int, final: bool) -> None:
        """Step the venue up to ``source_ns`` and (optionally) wait for its quotes in the node."""
        target_ms = source_ns // 1_000_000
        if self._venue_ms is None:
            self._venue_ms = int((await self._control("state"))["market"]["ts_ms"])
        stepped = False
        while self._venue_ms < target_ms:
            await self._step_venue()
            stepped = True
        if self._venue_ms > target_ms:
            self.counters["venue_ahead"] += 1
        if not (stepped and self._config.await_quotes):
            return
        timeout = (
            self._config.quote_timeout_secs
            if final
            else min(PREROLL_WAIT_SECS, self._config.quote_timeout_secs)
        )
        if await self._quotes_reached(self._venue_ms, timeout):
            return
        if final:
            self.counters["quote_timeouts"] += 1
            self._log.warning(f"quotes for venue time {self._venue_ms} did not reach the node in {timeout}s")
        else:
            self.counters["preroll_misses"] += 1

    # -- replay -----------------------------------------------------------------------------------

    async def _replay(self) -> None:
        cfg, rows = self._config, self.rows
        lock_step = cfg.venue_control_url is not None
        last_wall: float | None = None  # wall time of the previous emission
        last_src = 0
        try:
            for i in range(len(rows)):
                src = int(rows.ts_ns[i])
                emit = i >= cfg.preroll_rows
                if lock_step:
                    await self._sync_venue(src, final=emit)  # prices first, then the scan
                if not emit:
                    continue
                if cfg.speed > 0 and last_wall is not None:
                    # pace relative to the previous scan: a slow step never causes a burst later
                    delay = last_wall + (src - last_src) / 1e9 / cfg.speed - self._loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                ts = self._clock.timestamp_ns() if cfg.timestamps == "node" else src
                self._handle_data(CustomData(DataType(DolphinScan), rows.scan(i, ts, ts)))
                self.counters["emitted"] += 1
                last_wall, last_src = self._loop.time(), src
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.counters["errors"] += 1
            self.failure = f"{type(exc).__name__}: {exc}"
            self._log.error(f"scan replay stopped after {self.counters['emitted']} scans: {self.failure}")
            return
        self.finished = True
        self._log.info(f"scan replay finished: {self.counters}")


class ReplayScanDataClientFactory(LiveDataClientFactory):
    """Factory for ``ReplayScanDataClient``: recorded scans (file or catalog window) into a live node.

    For demos, soaks and SHADOW/paper rehearsals, never a production scan source. Register it
    under the strategy's ``scan_client_id`` (the client id is the name in ``data_clients``);
    ``create`` loads the rows, so a missing file or a bad column fails ``node.build()``.
    """

    @staticmethod
    def create(  # type: ignore[override]
        loop: asyncio.AbstractEventLoop,
        name: str,
        config: ReplayScanDataClientConfig,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
    ) -> ReplayScanDataClient:
        """Create the client for the node's loop and components."""
        return ReplayScanDataClient(
            loop=loop, client_id=ClientId(name), msgbus=msgbus, cache=cache, clock=clock, config=config
        )


__all__ = [
    "REPLAY_CLIENT_ID",
    "ReplayScanDataClient",
    "ReplayScanDataClientConfig",
    "ReplayScanDataClientFactory",
    "ScanRows",
    "load_frame_file",
    "load_rows",
    "rows_from_catalog",
    "rows_from_frame",
]
