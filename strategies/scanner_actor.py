"""``ScannerActor``: DOLPHIN scans computed inside the node from live quotes.

Used when no upstream scanner publishes scans (``[scans] source = "scanner"`` in ``dolphin live``).
Every ``interval_secs`` it takes the newest mid price of each asset from the node's cache (NaN when
an asset has no quote yet), feeds the row to ``nautilus_dolphin.kernels.eigen.EigenScanner`` (the
same incremental kernel the synthetic market uses to build its scan columns) and publishes a
``DolphinScan`` on the message bus; ``DolphinStrategy`` receives it with ``scan_client_id`` unset.

The scanner needs the longest window (750 scans, about an hour at 5 s) of history before its
long-window velocity, hence ``vel_div``, is defined; until then it publishes NaN signals, which the
strategy treats as low quality (no entries). ``warmup_prices`` (a (T, N) array, e.g. the recorded
tail of the previous session) can be fed at start to skip that wait.

Threads: Nautilus 1.221's ``LiveClock`` runs timer callbacks on its own (Rust) thread, outside the
event loop; the scanner therefore hands each tick to the node's loop (``loop``) with
``call_soon_threadsafe`` and builds/publishes the scan there, never from the timer thread.
"""

import asyncio
from datetime import timedelta
from typing import Any

import numpy as np
from nautilus_trader.common.actor import Actor
from nautilus_trader.config import ActorConfig
from nautilus_trader.model.data import DataType
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_dolphin.kernels.eigen import DEFAULT_WINDOWS
from nautilus_dolphin.kernels.eigen import EigenScanner
from nautilus_dolphin.kernels.eigen import features_from_output
from strategies.data_types import DolphinScan


class ScannerActorConfig(ActorConfig, frozen=True):
    """Configuration of ``ScannerActor``.

    Parameters
    ----------
    assets : tuple[str, ...]
        Symbols in scan price order (the strategy's ``assets``).
    venue : str
        Venue of the ``{SYMBOL}-PERP.{venue}`` instruments.
    interval_secs : float
        Seconds between scans.
    windows : tuple[int, ...]
        Four eigenvalue windows, ascending; they fill the v50/v150/v300/v750 fields in order.
    """

    assets: tuple[str, ...] = ()
    venue: str = "BINANCE"
    interval_secs: float = 5.0
    windows: tuple[int, ...] = DEFAULT_WINDOWS


class ScannerActor(Actor):
    """Publish ``DolphinScan`` every ``interval_secs`` from the node's newest quotes (see module)."""

    def __init__(self, config: ScannerActorConfig, loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config)
        self._loop = loop
        if len(config.windows) != 4:
            raise ValueError(f"ScannerActor needs 4 windows (v50..v750 fields), got {config.windows}")
        if config.interval_secs <= 0:
            raise ValueError(f"interval_secs must be > 0, was {config.interval_secs}")
        self.assets = tuple(config.assets)
        self.iids = [InstrumentId.from_str(f"{a}-PERP.{config.venue}") for a in self.assets]
        self.scanner = EigenScanner(len(self.assets), tuple(config.windows))
        self.scans_published = 0
        self.missing_prices = 0
        self._names = [f"v{w}_lambda_max_velocity" for w in config.windows]

    def warm_up(self, prices: np.ndarray) -> None:
        """Feed recorded (T, N) prices before the first live scan (nothing is published)."""
        self.scanner.update_batch(np.asarray(prices, dtype=np.float64))

    def on_start(self) -> None:
        for iid in self.iids:
            if self.cache.instrument(iid) is not None:
                self.subscribe_quote_ticks(iid)
            else:
                self.log.warning(f"scanner: {iid} not in cache, its price stays NaN")
        self.clock.set_timer("dolphin-scanner", timedelta(seconds=self.config.interval_secs), callback=self._on_timer)

    def on_stop(self) -> None:
        if "dolphin-scanner" in self.clock.timer_names:
            self.clock.cancel_timer("dolphin-scanner")

    def current_prices(self) -> np.ndarray:
        """Newest mid price per asset (NaN without a quote)."""
        out = np.full(len(self.iids), np.nan)
        for i, iid in enumerate(self.iids):
            q = self.cache.quote_tick(iid)
            if q is not None:
                out[i] = (float(q.bid_price) + float(q.ask_price)) / 2.0
        return out

    def _on_timer(self, event: Any) -> None:
        if self._loop is None:  # test clock: already on the caller's thread
            self.scan_now()
            return
        try:
            self._loop.call_soon_threadsafe(self.scan_now)
        except RuntimeError:  # loop closed during shutdown
            pass

    def scan_now(self) -> None:
        """Compute one scan from the newest quotes and publish it (on the node's loop)."""
        if not self.is_running:
            return
        prices = self.current_prices()
        self.missing_prices += int(np.count_nonzero(~np.isfinite(prices)))
        feats = features_from_output(self.scanner.update(prices)[None, :], tuple(self.config.windows))
        w = self.config.windows
        now = self.clock.timestamp_ns()
        scan = DolphinScan(
            ts_event=now,
            ts_init=now,
            scan_number=self.scans_published,
            vel_div=float(feats["vel_div"][0]),
            v50_lambda_max_velocity=float(feats[self._names[0]][0]),
            v150_lambda_max_velocity=float(feats[self._names[1]][0]),
            v300_lambda_max_velocity=float(feats[self._names[2]][0]),
            v750_lambda_max_velocity=float(feats[self._names[3]][0]),
            instability_50=float(feats[f"instability_{w[0]}"][0]),
            instability_150=float(feats[f"instability_{w[1]}"][0]),
            prices=prices,
        )
        self.scans_published += 1
        self.publish_data(DataType(DolphinScan), scan)
