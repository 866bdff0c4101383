"""``ScannerActor``: DOLPHIN scans computed inside the node from live quotes.

Used when no upstream scanner publishes scans (``[scans] source = "scanner"`` in ``dolphin live``).
Every ``interval_secs`` it takes the newest mid price of each asset from the node's cache (NaN when
an asset has no quote yet), feeds the row to ``nautilus_dolphin.kernels.eigen.EigenScanner`` (the
same incremental kernel the synthetic market uses to build its scan columns) and publishes a
``DolphinScan`` on the message bus; ``DolphinStrategy`` receives it with ``scan_client_id`` unset.

The scanner needs the longest window (750 scans, about an hour at 5 s) of history before its
long-window velocity, hence ``vel_div``, means what it means in a backtest (before that the kernel
works on partial windows). Until ``max(windows) + 1`` price rows have been fed, the actor therefore
publishes its scans with NaN signal fields (counted in ``warming_scans``): the strategy treats them as
low quality and does not enter. Two ways skip that wait at start:

- ``tail_path``: the scanner keeps the last ``max(windows) + 1`` price rows it scanned and writes them
  there (``.npz``: assets, prices, saved_at) every ``tail_every`` scans and on stop; the next start
  replays them into the kernel when they are for the same assets and younger than
  ``tail_max_age_secs`` (a restart continues the windows it had);
- ``warmup_path``: otherwise, the last ``max(windows) + 1`` rows of a vbt_cache-layout file (one
  column per asset), e.g. the recorded end of the previous session.

The first live return after a warm-up spans the gap between the warm-up's last row and now; it
enters the windows like any other return.

Threads: Nautilus 1.221's ``LiveClock`` runs timer callbacks on its own (Rust) thread, outside the
event loop; the scanner therefore hands each tick to the node's loop (``loop``) with
``call_soon_threadsafe`` and builds/publishes the scan there, never from the timer thread.
"""

import asyncio
import os
import time
from collections import deque
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
    tail_path : str, optional
        ``.npz`` file of the recent price rows, written every ``tail_every`` scans and on stop, read
        at start when younger than ``tail_max_age_secs``.
    warmup_path : str, optional
        vbt_cache-layout ``.parquet``/``.csv`` whose last rows warm the kernel when no tail is usable.
    """

    assets: tuple[str, ...] = ()
    venue: str = "BINANCE"
    interval_secs: float = 5.0
    windows: tuple[int, ...] = DEFAULT_WINDOWS
    tail_path: str | None = None
    tail_every: int = 60
    tail_max_age_secs: float = 3600.0
    warmup_path: str | None = None


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
        self.warmup_rows = 0
        self.warming_scans = 0
        self.warmup_source: str | None = None
        self._names = [f"v{w}_lambda_max_velocity" for w in config.windows]
        self._tail: deque[np.ndarray] = deque(maxlen=max(config.windows) + 1)

    def warm_up(self, prices: np.ndarray, source: str = "array") -> None:
        """Feed recorded (T, N) prices before the first live scan (nothing is published)."""
        rows = np.asarray(prices, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != len(self.assets):
            raise ValueError(f"warm-up prices must be (T, {len(self.assets)}), got {rows.shape}")
        if len(rows):
            self.scanner.update_batch(rows)
            self._tail.extend(rows)
        self.warmup_rows += len(rows)
        self.warmup_source = source

    def _load_tail(self) -> np.ndarray | None:
        """The saved price tail when it exists, is for these assets and is young enough."""
        path = self.config.tail_path
        if not path or not os.path.exists(path):
            return None
        try:
            with np.load(path, allow_pickle=False) as doc:
                assets = tuple(str(a) for a in doc["assets"])
                prices, saved_at = doc["prices"], float(doc["saved_at"])
        except (OSError, KeyError, ValueError) as exc:
            self.log.warning(f"scanner: unreadable price tail {path} ({exc!r}); not used")
            return None
        age = time.time() - saved_at
        if assets != self.assets:
            self.log.warning(f"scanner: price tail {path} is for other assets; not used")
            return None
        if age > self.config.tail_max_age_secs:
            self.log.warning(f"scanner: price tail {path} is {age:.0f} s old; not used")
            return None
        return prices

    def _load_warmup_file(self) -> np.ndarray | None:
        path = self.config.warmup_path
        if not path:
            return None
        import pandas as pd

        frame = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)
        missing = [a for a in self.assets if a not in frame.columns]
        if missing:
            raise ValueError(f"{path}: warm-up file lacks asset column(s) {missing[:5]}")
        return frame[list(self.assets)].to_numpy(np.float64)[-self._tail.maxlen :]

    def save_tail(self) -> None:
        """Write the recent price rows to ``tail_path`` atomically (no-op without a path)."""
        path = self.config.tail_path
        if not path or not self._tail:
            return
        tmp = f"{path}.tmp.npz"
        np.savez(tmp, assets=np.asarray(self.assets), prices=np.vstack(self._tail), saved_at=time.time())
        os.replace(tmp, path)

    def on_start(self) -> None:
        tail = self._load_tail()
        if tail is not None:
            self.warm_up(tail, source=f"tail {self.config.tail_path}")
        else:
            rows = self._load_warmup_file()
            if rows is not None:
                self.warm_up(rows, source=f"file {self.config.warmup_path}")
        if self.warmup_rows:
            self.log.info(f"scanner warmed with {self.warmup_rows} price rows from {self.warmup_source}")
        for iid in self.iids:
            if self.cache.instrument(iid) is not None:
                self.subscribe_quote_ticks(iid)
            else:
                self.log.warning(f"scanner: {iid} not in cache, its price stays NaN")
        self.clock.set_timer("dolphin-scanner", timedelta(seconds=self.config.interval_secs), callback=self._on_timer)

    def on_stop(self) -> None:
        if "dolphin-scanner" in self.clock.timer_names:
            self.clock.cancel_timer("dolphin-scanner")
        self.save_tail()

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
        self._tail.append(prices)
        if self.warmup_rows + self.scans_published + 1 < self._tail.maxlen:  # windows not full yet
            self.warming_scans += 1
            feats = {k: np.full(1, np.nan) for k in feats}
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
        if self.config.tail_every > 0 and self.scans_published % self.config.tail_every == 0:
            self.save_tail()
