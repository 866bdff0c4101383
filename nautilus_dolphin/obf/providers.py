"""Order-book providers for backtests: the spec's mock and recorded parquet snapshots.

Both implement ``obf.types.OBProvider`` (``get_snapshot``, ``get_all_timestamps``) plus two
optional, duck-typed extensions that ``OBFeatureEngine.preload_date`` uses when present:

- ``load_date(date_str)``: select the UTC day that ``get_all_timestamps`` enumerates.
- ``get_arrays(asset)``: ``(timestamps[n], bid_notional[n,5], ask_notional[n,5], bid_depth[n,5],
  ask_depth[n,5])`` for that day, so a day is preloaded without building one object per snapshot.

The live Hazelcast provider lives in ``adapters/hazelcast/providers.py`` and returns ``[]`` from
``get_all_timestamps`` (seed 000 §1).
"""

import logging
import zlib
from collections.abc import Iterable
from collections.abc import Mapping
from datetime import UTC
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from nautilus_dolphin.data.universe import ASSETS
from nautilus_dolphin.data.universe import UNIVERSE
from nautilus_dolphin.obf.types import N_LEVELS
from nautilus_dolphin.obf.types import OBSnapshot

log = logging.getLogger(__name__)

SECONDS_PER_DAY: int = 86_400
GOLD_IMBALANCE_BIASES: dict[str, float] = {
    "BTCUSDT": -0.086,
    "ETHUSDT": -0.092,
    "BNBUSDT": +0.05,
    "SOLUSDT": +0.05,
}
"""Per-asset imbalance biases of the gold harness (seed 001 §6)."""



def _splitmix64(x: np.ndarray) -> np.ndarray:
    """Return SplitMix64 of each uint64 (a counter-based hash: same input, same output)."""
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _uniform(keys: np.ndarray, streams: np.ndarray) -> np.ndarray:
    """Return uniforms in [0, 1) hashed from ``keys`` and pre-hashed ``streams`` (uint64, broadcast)."""
    h = _splitmix64(keys ^ streams)
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


_STREAMS = _splitmix64(np.arange(1, 3 + 2 * N_LEVELS, dtype=np.uint64) * np.uint64(0x632BE59BD9B4E019))
_LEVELS = np.arange(N_LEVELS, dtype=np.float64)
_LEVEL_SHAPE = 1.0 + 0.25 * _LEVELS


def day_start(date_str: str) -> float:
    """Return the unix seconds of 00:00 UTC of ``YYYY-MM-DD``."""
    return datetime.strptime(date_str, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()


def date_of(ts: float) -> str:
    """Return the UTC ``YYYY-MM-DD`` of unix seconds ``ts``."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d")


class MockOBProvider:
    """Deterministic synthetic 5-level books with a fixed imbalance bias per asset (seed 001 §6).

    Each snapshot is a pure function of ``(seed, asset, round(timestamp * 1000))`` (a counter-based
    hash), so ``get_snapshot`` and the vectorised ``get_arrays`` agree and any order of calls gives
    the same books. Book model, per asset with reference price ``p`` (``UNIVERSE`` or 100):

    - best bid/ask one tick (``max(tick, p * 1e-5)``) apart, levels one tick further each;
    - total notional ``base * depth_scale * (1 + U(-0.05, 0.05))`` with ``base`` 250k USD
      (1M for the majors), split between sides so the imbalance is
      ``bias + U(-0.02, 0.02)``, and across levels with weights ``(1 + 0.25 i)(1 + U(-0.1, 0.1))``.

    The total moves at most 5 % around its mean, so withdrawal velocity stays within about
    [-0.095, +0.105] and no cascade or tail-exit threshold is ever crossed, as the spec says of
    the mock (OB_TAIL_AVOIDANCE never fires with it).
    """

    TOTAL_JITTER: float = 0.05
    IMBALANCE_JITTER: float = 0.02
    LEVEL_JITTER: float = 0.10
    BASE_NOTIONAL: float = 250_000.0
    MAJOR_MULT: float = 4.0

    def __init__(
        self,
        imbalance_bias: float = -0.09,
        depth_scale: float = 1.0,
        assets: Iterable[str] | None = None,
        imbalance_biases: Mapping[str, float] | None = None,
        seed: int = 42,
        interval_s: float = 5.0,
    ) -> None:
        if not np.isfinite(depth_scale) or depth_scale <= 0.0:
            raise ValueError(f"depth_scale must be positive and finite, got {depth_scale!r}")
        if not -0.9 <= imbalance_bias <= 0.9:
            raise ValueError(f"imbalance_bias must be in [-0.9, 0.9], got {imbalance_bias!r}")
        if interval_s <= 0.0:
            raise ValueError(f"interval_s must be positive, got {interval_s!r}")
        self.imbalance_bias = float(imbalance_bias)
        self.depth_scale = float(depth_scale)
        self.assets: tuple[str, ...] = tuple(assets) if assets is not None else ASSETS
        self.imbalance_biases: dict[str, float] = dict(imbalance_biases or {})
        for a, b in self.imbalance_biases.items():
            if not -0.9 <= b <= 0.9:
                raise ValueError(f"imbalance bias of {a} must be in [-0.9, 0.9], got {b!r}")
        self.seed = int(seed)
        self.interval_s = float(interval_s)
        self._date: str | None = None
        self._grid: np.ndarray = np.empty(0, dtype=np.float64)
        self._param_cache: dict[str, tuple[float, float, float, np.uint64]] = {}

    def bias(self, asset: str) -> float:
        """Return the imbalance bias of ``asset`` (its own or the default)."""
        return self.imbalance_biases.get(asset, self.imbalance_bias)

    def load_date(self, date_str: str) -> None:
        """Select the UTC day enumerated by ``get_all_timestamps`` (one snapshot per ``interval_s``)."""
        start = day_start(date_str)
        n = round(SECONDS_PER_DAY / self.interval_s)
        self._date = date_str
        self._grid = start + np.arange(n, dtype=np.float64) * self.interval_s

    def load_timestamps(self, date_str: str, timestamps: np.ndarray) -> None:
        """Generate the day's books exactly at ``timestamps`` (the backtest's bar times) only.

        The times are snapped down to the ``interval_s`` grid, so each bar sees the same
        newest-at-or-before book as with the full-day grid of ``load_date``; only the grid points
        a bar can select are generated (2.8x fewer books on a 6,200-bar day, identical features).
        """
        start = day_start(date_str)
        ts = np.asarray(timestamps, dtype=np.float64)
        ts = ts[np.isfinite(ts)]
        snapped = start + np.floor((ts - start) / self.interval_s) * self.interval_s
        self._date = date_str
        self._grid = np.unique(snapped)

    def get_all_timestamps(self, asset: str) -> list[float]:
        """Return the loaded day's grid (``[]`` before ``load_date`` or for an unknown asset)."""
        if asset not in self.assets:
            return []
        return self._grid.tolist()

    def _params(self, asset: str) -> tuple[float, float, float, np.uint64]:
        """Return (price, tick, base notional, hash key) of ``asset`` (cached)."""
        par = self._param_cache.get(asset)
        if par is None:
            spec = UNIVERSE.get(asset)
            price = spec.ref_price if spec is not None else 100.0
            tick = max(spec.tick_size if spec is not None else 0.01, price * 1e-5)
            base = self.BASE_NOTIONAL * (self.MAJOR_MULT if spec is not None and spec.sector == "major" else 1.0)
            akey = np.uint64(zlib.crc32(asset.encode()) ^ ((self.seed & 0xFFFFFFFF) << 32))
            par = (price, tick, base * self.depth_scale, _splitmix64(np.array([akey]))[0])
            self._param_cache[asset] = par
        return par

    def _books(self, asset: str, ts: np.ndarray) -> tuple[np.ndarray, ...]:
        price, tick, base, akey = self._params(asset)
        keys = np.round(ts * 1000.0).astype(np.int64).astype(np.uint64) ^ akey
        u = _uniform(keys[:, None], _STREAMS[None, :])  # (n, 2 + 2 * levels)
        total = base * (1.0 + self.TOTAL_JITTER * (2.0 * u[:, 0] - 1.0))
        imb = np.clip(self.bias(asset) + self.IMBALANCE_JITTER * (2.0 * u[:, 1] - 1.0), -0.95, 0.95)
        jit = 1.0 + self.LEVEL_JITTER * (2.0 * u[:, 2:] - 1.0)
        wb = _LEVEL_SHAPE * jit[:, :N_LEVELS]
        wa = _LEVEL_SHAPE * jit[:, N_LEVELS:]
        wb /= wb.sum(axis=1, keepdims=True)
        wa /= wa.sum(axis=1, keepdims=True)
        bn = (total * (1.0 + imb) / 2.0)[:, None] * wb
        an = (total * (1.0 - imb) / 2.0)[:, None] * wa
        bid_px = price - 0.5 * tick - tick * _LEVELS
        ask_px = price + 0.5 * tick + tick * _LEVELS
        return bn, an, bn / bid_px, an / ask_px

    def get_arrays(self, asset: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return the loaded day's books of ``asset`` as arrays (empty before ``load_date``)."""
        ts = self._grid if asset in self.assets else np.empty(0, dtype=np.float64)
        bn, an, bd, ad = self._books(asset, ts)
        return ts.copy(), bn, an, bd, ad

    def get_snapshot(self, asset: str, timestamp: float) -> OBSnapshot | None:
        """Return the book of ``asset`` at ``timestamp`` (None for an asset outside ``assets``)."""
        if asset not in self.assets or not np.isfinite(timestamp):
            return None
        bn, an, bd, ad = self._books(asset, np.array([float(timestamp)]))
        return OBSnapshot(asset, float(timestamp), bn[0].copy(), an[0].copy(), bd[0].copy(), ad[0].copy())


OB_COLUMNS: tuple[str, ...] = tuple(
    f"{side}_{kind}_{i}" for kind in ("notional", "depth") for side in ("bid", "ask") for i in range(N_LEVELS)
)


class _Day:
    """One day of recorded snapshots, split per asset (arrays sorted by timestamp)."""

    def __init__(self, frames: dict[str, tuple[np.ndarray, ...]]) -> None:
        self.frames = frames


class ParquetOBProvider:
    """Recorded 5-level snapshots from ``<root>/ob/YYYY-MM-DD.parquet`` (contracts §1).

    ``root`` is the vbt_cache folder (``catalog/vbt_cache``). Days are loaded one at a time:
    ``load_date`` selects one explicitly (``preload_date`` calls it); ``get_snapshot`` for a
    timestamp on another day loads that day lazily (the two most recent days stay in memory).
    Rows with a negative or non-finite value are dropped and counted in ``dropped_rows``; a file
    missing a column raises ``ValueError`` naming the file and the column. A missing day file is
    an empty day (logged once), not an error.
    """

    KEEP_DAYS: int = 2

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.dropped_rows: int = 0
        self.loaded_rows: int = 0
        self._days: dict[str, _Day] = {}
        self._current: str | None = None
        self._missing: set[str] = set()

    def path_for(self, date_str: str) -> Path:
        """Return the file of ``date_str``."""
        return self.root / "ob" / f"{date_str}.parquet"

    def load_date(self, date_str: str) -> None:
        """Load ``date_str`` (if not already) and make it the day ``get_all_timestamps`` serves."""
        self._day(date_str)
        self._current = date_str

    def _day(self, date_str: str) -> _Day:
        day = self._days.get(date_str)
        if day is not None:
            return day
        day = self._read(date_str)
        self._days[date_str] = day
        while len(self._days) > self.KEEP_DAYS:
            oldest = next(iter(self._days))
            if oldest == date_str:
                break
            del self._days[oldest]
        return day

    def _read(self, date_str: str) -> _Day:
        path = self.path_for(date_str)
        if not path.exists():
            if date_str not in self._missing:
                log.warning("ParquetOBProvider: no order-book file %s", path)
                self._missing.add(date_str)
            return _Day({})
        df = pd.read_parquet(path)
        for col in ("timestamp", "asset", *OB_COLUMNS):
            if col not in df.columns:
                raise ValueError(f"{path}: missing column {col!r}")
        ts_col = df["timestamp"]
        if pd.api.types.is_datetime64_any_dtype(ts_col):
            if ts_col.dt.tz is not None:
                ts_col = ts_col.dt.tz_convert("UTC").dt.tz_localize(None)
            ts_ns = ts_col.to_numpy(dtype="datetime64[ns]").astype(np.int64)
        elif pd.api.types.is_integer_dtype(ts_col):
            ts_ns = ts_col.to_numpy(dtype=np.int64)
        else:
            raise ValueError(f"{path}: column 'timestamp' must be int64 ns or datetime64, got {ts_col.dtype}")
        ts = ts_ns.astype(np.float64) / 1e9
        vals = df.loc[:, list(OB_COLUMNS)].to_numpy(dtype=np.float64)
        ok = np.all(np.isfinite(vals), axis=1) & np.all(vals >= 0.0, axis=1) & (ts_ns > 0)
        bad = int((~ok).sum())
        if bad:
            log.warning("ParquetOBProvider: %s: dropped %d rows with negative/non-finite values", path, bad)
            self.dropped_rows += bad
        codes, names = pd.factorize(df["asset"].astype(str))
        codes = codes[ok]
        ts = ts[ok]
        vals = vals[ok]
        self.loaded_rows += int(ok.sum())
        order = np.lexsort((ts, codes))  # by asset, then time (stable)
        codes, ts, vals = codes[order], ts[order], vals[order]
        frames: dict[str, tuple[np.ndarray, ...]] = {}
        if codes.size:
            cuts = np.flatnonzero(codes[1:] != codes[:-1]) + 1
            starts = np.concatenate(([0], cuts))
            ends = np.concatenate((cuts, [codes.size]))
            L = N_LEVELS
            for s, e in zip(starts.tolist(), ends.tolist()):
                v = vals[s:e]
                frames[str(names[codes[s]])] = (
                    ts[s:e].copy(),
                    np.ascontiguousarray(v[:, 0:L]),
                    np.ascontiguousarray(v[:, L : 2 * L]),
                    np.ascontiguousarray(v[:, 2 * L : 3 * L]),
                    np.ascontiguousarray(v[:, 3 * L : 4 * L]),
                )
        return _Day(frames)

    def _frames_current(self, asset: str) -> tuple[np.ndarray, ...] | None:
        if self._current is None:
            return None
        return self._day(self._current).frames.get(asset)

    def get_all_timestamps(self, asset: str) -> list[float]:
        """Return the current day's timestamps of ``asset`` (``[]`` before ``load_date``)."""
        fr = self._frames_current(asset)
        return [] if fr is None else fr[0].tolist()

    def get_arrays(self, asset: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return the current day's snapshots of ``asset`` as arrays (empty when none)."""
        fr = self._frames_current(asset)
        if fr is None:
            e = np.empty(0, dtype=np.float64)
            z = np.empty((0, N_LEVELS), dtype=np.float64)
            return e, z, z, z, z
        return fr  # type: ignore[return-value]

    def get_snapshot(self, asset: str, timestamp: float) -> OBSnapshot | None:
        """Return the newest snapshot of ``asset`` at or before ``timestamp`` within its UTC day."""
        if not np.isfinite(timestamp):
            return None
        fr = self._day(date_of(timestamp)).frames.get(asset)
        if fr is None:
            return None
        i = int(np.searchsorted(fr[0], timestamp, side="right")) - 1
        if i < 0:
            return None
        return OBSnapshot(asset, float(fr[0][i]), fr[1][i].copy(), fr[2][i].copy(), fr[3][i].copy(), fr[4][i].copy())
