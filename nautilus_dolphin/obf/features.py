"""``OBFeatureEngine``: order-book features for backtests (``preload_date``) and live (``step_live``).

Seed 000 §3-§5 and contracts §4. The engine turns 5-level snapshots into per-asset placement and
signal features and a cross-asset macro view, per bar:

- placement: ``depth_1pct_usd``, ``depth_quality`` (vs the EMA depth reference, alpha 0.01),
  ``fill_probability``, ``spread_proxy_bps``;
- signal: ``imbalance``, ``imbalance_ma5``, ``imbalance_persistence`` (lookback
  ``IMBALANCE_LOOKBACK`` bars), ``depth_asymmetry``, ``withdrawal_velocity`` (lookback
  ``DEPTH_LOOKBACK`` bars);
- macro (over the assets with a snapshot at the bar): ``median_imbalance``, ``agreement_pct``,
  ``depth_pressure``, ``cascade_regime``, ``depth_velocity``, ``acceleration`` of the mean EMA
  depth reference.

Definitions and ranges are in ``nautilus_dolphin.kernels.ob`` and ``docs/obf.md``. Both paths
drive the same kernels over identically ordered histories, so ``preload_date`` with bar
timestamps and ``step_live`` bar by bar give identical features for the same snapshots. The depth
reference is a causal EMA in both (seeded with the first depth), never a median of the whole day,
which would look ahead in a backtest.

Live storage is a ring of ``MAX_LIVE_CACHE`` (500) bar slots of feature arrays, indexed through an
insertion-ordered map ``bar_idx -> slot``: storing a bar and evicting the oldest are O(1); records
are built only when a getter asks. Getters never raise and return the records' defaults when
nothing is known.
"""

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from nautilus_dolphin.kernels.ob import N_FEATURES
from nautilus_dolphin.kernels.ob import N_MACRO
from nautilus_dolphin.kernels.ob import asset_series_nb
from nautilus_dolphin.kernels.ob import known_mean_nb
from nautilus_dolphin.kernels.ob import live_assets_nb
from nautilus_dolphin.kernels.ob import macro_row_nb
from nautilus_dolphin.kernels.ob import macro_series_nb
from nautilus_dolphin.kernels.ob import snapshot_features_nb
from nautilus_dolphin.obf.types import CASCADE_CALM
from nautilus_dolphin.obf.types import OBMacroFeatures
from nautilus_dolphin.obf.types import OBMarketFeatures
from nautilus_dolphin.obf.types import OBPlacementFeatures
from nautilus_dolphin.obf.types import OBProvider
from nautilus_dolphin.obf.types import OBSignalFeatures

logger = logging.getLogger(__name__)

_DEFAULT_PLACEMENT = OBPlacementFeatures()
_DEFAULT_SIGNAL = OBSignalFeatures()
_DEFAULT_MACRO = OBMacroFeatures()
_DEFAULT_MARKET = OBMarketFeatures()
_TS_THRESHOLD: float = 1e9
"""A preload lookup value at or above this is a unix timestamp, below it a step index."""


def _placement(row: np.ndarray) -> OBPlacementFeatures:
    v = row.tolist()
    return OBPlacementFeatures(v[0], v[1], v[2], v[3])


def _signal(row: np.ndarray) -> OBSignalFeatures:
    v = row.tolist()
    return OBSignalFeatures(v[4], v[5], v[6], v[7], v[8])


def _macro(row: np.ndarray) -> OBMacroFeatures:
    v = row.tolist()
    return OBMacroFeatures(v[0], v[1], v[2], int(v[3]), v[4], v[5])


class OBFeatureEngine:
    """Order-book feature engine over an ``OBProvider``.

    Parameters
    ----------
    provider : OBProvider
        Snapshot source: mock or parquet for backtests, Hazelcast for live.
    imbalance_lookback, depth_lookback : int, optional
        Rolling windows in bars (defaults ``IMBALANCE_LOOKBACK``, ``DEPTH_LOOKBACK``).
    cascade_threshold : float, optional
        Per-asset withdrawal velocity at or below which an asset counts as draining.
    max_live_cache : int, optional
        Bars kept in the live caches (default 500, seed 000 §4).
    max_snapshot_age_s : float, optional
        When set, a snapshot older than this (vs the bar's time) counts as missing, live and in
        preload with bar timestamps. None (default) accepts any age, as the spec does.
    """

    IMBALANCE_LOOKBACK: int = 10
    DEPTH_LOOKBACK: int = 10
    CASCADE_THRESHOLD: float = -0.30
    EMA_ALPHA: float = 0.01
    MAX_LIVE_CACHE: int = 500
    STALE_WARN_BARS: int = 3

    def __init__(
        self,
        provider: OBProvider,
        *,
        imbalance_lookback: int | None = None,
        depth_lookback: int | None = None,
        cascade_threshold: float | None = None,
        max_live_cache: int | None = None,
        max_snapshot_age_s: float | None = None,
    ) -> None:
        self.provider = provider
        self.imbalance_lookback = int(imbalance_lookback or self.IMBALANCE_LOOKBACK)
        self.depth_lookback = int(depth_lookback or self.DEPTH_LOOKBACK)
        self.cascade_threshold = float(self.CASCADE_THRESHOLD if cascade_threshold is None else cascade_threshold)
        self.max_live_cache = int(max_live_cache or self.MAX_LIVE_CACHE)
        self.max_snapshot_age_s = max_snapshot_age_s
        if self.imbalance_lookback < 5:
            raise ValueError(f"imbalance_lookback must be >= 5 (imbalance_ma5), got {self.imbalance_lookback}")
        if self.depth_lookback < 1 or self.max_live_cache < 1:
            raise ValueError("depth_lookback and max_live_cache must be >= 1")

        # preload state
        self._pre_rows: dict[str, int] = {}
        self._pre_steps: np.ndarray = np.empty(0, dtype=np.float64)
        self._pre_feat: np.ndarray = np.empty((0, 0, N_FEATURES), dtype=np.float64)
        self._pre_valid: np.ndarray = np.empty((0, 0), dtype=np.bool_)
        self._pre_macro: np.ndarray = np.empty((0, N_MACRO), dtype=np.float64)
        self._pre_macro_valid: np.ndarray = np.empty(0, dtype=np.bool_)
        self._pre_ref: dict[str, float] = {}
        self.preloaded_date: str | None = None
        self.preload_snapshots: int = 0
        self.preload_assets_missing: list[str] = []

        # live state
        self._live_mode: bool = False
        self._live_bar_idx: int = -1
        self._rows: dict[str, int] = {}
        self._row_assets: list[str] = []
        self._cap = 0
        self._alloc_live(64)
        self._slots: OrderedDict[int, int] = OrderedDict()
        self._last_macro_bar: int | None = None
        self._macro_hist = np.zeros(self.depth_lookback + 1, dtype=np.float64)
        self._macro_cnt = 0
        self._macro_prev_vel = 0.0
        self._macro_first = True
        self._live_stale_count = 0

        # operator counters
        self.bars_stepped: int = 0
        self.snapshots_used: int = 0
        self.assets_missing: int = 0
        self.stale_bars: int = 0
        self.provider_errors: int = 0
        self.invalid_snapshots: int = 0
        self.aged_snapshots: int = 0
        self.last_step_snapshots: int = 0

    # ------------------------------------------------------------------ live storage
    def _alloc_live(self, cap: int) -> None:
        old = self._cap
        M = self.max_live_cache

        def grow(arr: np.ndarray | None, shape: tuple[int, ...], dtype: Any, axis: int) -> np.ndarray:
            new = np.zeros(shape, dtype=dtype)
            if arr is not None and old:
                idx = [slice(None)] * len(shape)
                idx[axis] = slice(0, old)
                new[tuple(idx)] = arr
            return new

        g = getattr
        self._imb_hist = grow(g(self, "_imb_hist", None), (cap, self.imbalance_lookback), np.float64, 0)
        self._imb_cnt = grow(g(self, "_imb_cnt", None), (cap,), np.int64, 0)
        self._dep_hist = grow(g(self, "_dep_hist", None), (cap, self.depth_lookback + 1), np.float64, 0)
        self._dep_cnt = grow(g(self, "_dep_cnt", None), (cap,), np.int64, 0)
        self._ema_ref = grow(g(self, "_ema_ref", None), (cap,), np.float64, 0)
        self._has_ref = grow(g(self, "_has_ref", None), (cap,), np.bool_, 0)
        self._last_bar = grow(g(self, "_last_bar", None), (cap,), np.int64, 0)
        self._has_last = grow(g(self, "_has_last", None), (cap,), np.bool_, 0)
        self._live_feat = grow(g(self, "_live_feat", None), (M, cap, N_FEATURES), np.float64, 1)
        self._live_valid = grow(g(self, "_live_valid", None), (M, cap), np.bool_, 1)
        if not old:
            self._live_macro = np.zeros((M, N_MACRO), dtype=np.float64)
            self._live_macro_valid = np.zeros(M, dtype=np.bool_)
        self._cap = cap

    def _add_asset(self, asset: str) -> int:
        row = len(self._row_assets)
        if row >= self._cap:
            self._alloc_live(self._cap * 2)
        self._rows[asset] = row
        self._row_assets.append(asset)
        return row

    def _store_slot(self, bar: int) -> int:
        """Return the ring slot for ``bar``; evict the oldest bar when full (O(1))."""
        slots = self._slots
        slot = slots.get(bar)
        if slot is not None:
            slots.move_to_end(bar)
            return slot
        if len(slots) >= self.max_live_cache:
            _, slot = slots.popitem(last=False)
        else:
            slot = len(slots)
        slots[bar] = slot
        return slot

    # ------------------------------------------------------------------ live
    def step_live(self, assets: Sequence[str], bar_idx: int, timestamp: float | None = None) -> int:
        """Fetch live snapshots and compute the features of bar ``bar_idx``.

        Call once per scan, before ``engine.step_bar``. ``timestamp`` (unix s) is the time asked
        of the provider; default ``time.time()`` (pass the scan time to replay deterministically).
        Assets without a snapshot are skipped (their getters fall back to their latest bar).
        Returns the number of snapshots used. Never raises on provider errors or bad snapshots
        (counted in ``provider_errors`` / ``invalid_snapshots``).
        """
        wall_ts = time.time() if timestamp is None else float(timestamp)
        bar = int(bar_idx)
        get = self.provider.get_snapshot
        rows_map = self._rows
        max_age = self.max_snapshot_age_s
        seen: set[str] = set()
        req_rows: list[int] = []
        rows: list[int] = []
        snaps: list[Any] = []
        missing = 0
        for asset in assets:
            if asset in seen:
                continue
            seen.add(asset)
            row = rows_map.get(asset)
            try:
                snap = get(asset, wall_ts)
            except Exception as exc:
                self.provider_errors += 1
                if self.provider_errors <= 10 or self.provider_errors % 1000 == 0:
                    logger.warning("OBF step_live: provider error for %s (%d so far): %r",
                                   asset, self.provider_errors, exc)
                snap = None
            if snap is not None and max_age is not None and not (wall_ts - snap.timestamp <= max_age):
                self.aged_snapshots += 1
                snap = None
            if snap is None:
                missing += 1
                if row is not None:
                    req_rows.append(row)
                continue
            if row is None:
                row = self._add_asset(asset)
            req_rows.append(row)
            rows.append(row)
            snaps.append(snap)

        bn, an, bd, ad, rows = self._stack(snaps, rows)
        k = len(rows)
        self.bars_stepped += 1
        self.assets_missing += missing
        self.snapshots_used += k
        self.last_step_snapshots = k
        self._live_mode = True
        self._live_bar_idx = bar
        if k == 0:
            self._live_stale_count += 1
            self.stale_bars += 1
            if self._live_stale_count >= self.STALE_WARN_BARS:
                logger.warning("OBF step_live: no snapshots for %d bars — OBF gate degraded to random",
                               self._live_stale_count)
            return 0
        if self._live_stale_count >= self.STALE_WARN_BARS:
            logger.warning("OBF step_live: snapshots back after %d stale bars (%d assets)",
                           self._live_stale_count, k)
        self._live_stale_count = 0

        rows_arr = np.asarray(rows, dtype=np.int64)
        snapf = np.empty((k, 4), dtype=np.float64)
        snapshot_features_nb(bn, an, bd, ad, snapf)
        out = np.empty((k, N_FEATURES), dtype=np.float64)
        live_assets_nb(rows_arr, snapf, self._imb_hist, self._imb_cnt, self._dep_hist, self._dep_cnt,
                       self._ema_ref, self._has_ref, self.EMA_ALPHA, self.imbalance_lookback,
                       self.depth_lookback, out)

        # cross-asset macro: aggregate depth = mean EMA reference of the requested assets known so far
        agg = known_mean_nb(self._ema_ref, np.asarray(req_rows, dtype=np.int64), self._has_ref)
        cap = self._macro_hist.shape[0]
        if self._macro_cnt < cap:
            self._macro_hist[self._macro_cnt] = agg
            self._macro_cnt += 1
        else:
            self._macro_hist[:-1] = self._macro_hist[1:]
            self._macro_hist[-1] = agg
        slot = self._store_slot(bar)
        macro_row = self._live_macro[slot]
        self._macro_prev_vel = macro_row_nb(
            out[:, 4].copy(), out[:, 8].copy(), self._macro_hist[: self._macro_cnt], self.depth_lookback,
            self._macro_prev_vel, self._macro_first, self.cascade_threshold, macro_row,
        )
        self._macro_first = False
        self._live_macro_valid[slot] = True
        self._last_macro_bar = bar
        valid = self._live_valid[slot]
        valid[:] = False
        valid[rows_arr] = True
        self._live_feat[slot, rows_arr] = out
        self._last_bar[rows_arr] = bar
        self._has_last[rows_arr] = True
        return k

    def _stack(self, snaps: list[Any], rows: list[int]) -> tuple[np.ndarray, ...]:
        """Stack the snapshots' side arrays into ``(k, levels)`` matrices; drop malformed ones."""
        if not snaps:
            z = np.empty((0, 5), dtype=np.float64)
            return z, z, z, z, []  # type: ignore[return-value]
        try:
            bn = np.array([s.bid_notional for s in snaps], dtype=np.float64)
            an = np.array([s.ask_notional for s in snaps], dtype=np.float64)
            bd = np.array([s.bid_depth for s in snaps], dtype=np.float64)
            ad = np.array([s.ask_depth for s in snaps], dtype=np.float64)
            if bn.ndim == 2 and bn.shape == an.shape == bd.shape == ad.shape and bn.shape[1] > 0:
                return bn, an, bd, ad, rows  # type: ignore[return-value]
        except (ValueError, TypeError, AttributeError):
            pass
        # slow path: keep the well-formed 5-level snapshots only
        keep_s: list[Any] = []
        keep_r: list[int] = []
        for s, r in zip(snaps, rows):
            try:
                arrs = [np.asarray(getattr(s, f), dtype=np.float64)
                        for f in ("bid_notional", "ask_notional", "bid_depth", "ask_depth")]
            except (ValueError, TypeError, AttributeError):
                arrs = []
            if len(arrs) == 4 and all(a.shape == (5,) for a in arrs):
                keep_s.append(arrs)
                keep_r.append(r)
            else:
                self.invalid_snapshots += 1
        if not keep_s:
            z = np.empty((0, 5), dtype=np.float64)
            return z, z, z, z, []  # type: ignore[return-value]
        mats = [np.array([a[j] for a in keep_s]) for j in range(4)]
        return mats[0], mats[1], mats[2], mats[3], keep_r  # type: ignore[return-value]

    # ------------------------------------------------------------------ preload
    def preload_date(
        self, date_str: str, assets: Sequence[str], bar_timestamps: Sequence[float] | np.ndarray | None = None
    ) -> None:
        """Compute the features of a whole day for backtests.

        Calls ``provider.load_timestamps(date_str, bar_timestamps)`` when the provider generates
        books on demand (the mock) and bar times are given, else ``provider.load_date(date_str)``
        when the provider has it. With ``bar_timestamps``
        (unix s per bar) step ``i`` is bar ``i`` and uses each asset's newest snapshot at or before
        it; without, the steps are the provider's own timestamps (union over the assets). Leaves
        live mode: getters read the preloaded day afterwards.
        """
        t0 = time.perf_counter()
        load_ts = getattr(self.provider, "load_timestamps", None)
        load = getattr(self.provider, "load_date", None)
        if bar_timestamps is not None and callable(load_ts):
            load_ts(date_str, np.asarray(bar_timestamps, dtype=np.float64))
        elif callable(load):
            load(date_str)
        data: dict[str, tuple[np.ndarray, ...]] = {}
        missing: list[str] = []
        for asset in dict.fromkeys(assets):
            arrs = self._day_arrays(asset)
            if arrs is None or arrs[0].shape[0] == 0:
                missing.append(asset)
                continue
            data[asset] = arrs
        if bar_timestamps is not None:
            steps = np.asarray(bar_timestamps, dtype=np.float64).copy()
        elif data:
            grids = [a[0] for a in data.values()]
            first = grids[0]
            if all(g is first or np.array_equal(g, first) for g in grids[1:]) and np.all(np.diff(first) > 0):
                steps = first.copy()  # the usual case: one shared snapshot grid
            else:
                steps = np.unique(np.concatenate(grids))
        else:
            steps = np.empty(0, dtype=np.float64)
        S = steps.shape[0]
        A = len(data)
        feat = np.zeros((A, S, N_FEATURES), dtype=np.float64)
        valid = np.zeros((A, S), dtype=np.bool_)
        ref = np.zeros((A, S), dtype=np.float64)
        rows: dict[str, int] = {}
        pre_ref: dict[str, float] = {}
        n_snap = 0
        max_age = self.max_snapshot_age_s
        for a, (asset, (ts, bn, an, bd, ad)) in enumerate(data.items()):
            rows[asset] = a
            n_snap += ts.shape[0]
            snapf = np.empty((ts.shape[0], 4), dtype=np.float64)
            snapshot_features_nb(bn, an, bd, ad, snapf)
            idx = np.searchsorted(ts, steps, side="right") - 1
            ok = idx >= 0
            if max_age is not None:
                ok &= (steps - ts[np.maximum(idx, 0)]) <= max_age
            m = int(ok.sum())
            if m == 0:
                continue
            sf = np.ascontiguousarray(snapf[idx[ok]])
            out = np.empty((m, N_FEATURES), dtype=np.float64)
            r = np.empty(m, dtype=np.float64)
            asset_series_nb(sf, self.EMA_ALPHA, self.imbalance_lookback, self.depth_lookback, out, r)
            pos = np.flatnonzero(ok)
            sel: slice | np.ndarray = ok
            if pos[-1] - pos[0] + 1 == m:  # contiguous (the usual suffix): cheap slice writes
                sel = slice(int(pos[0]), int(pos[-1]) + 1)
            feat[a, sel] = out
            ref[a, sel] = r
            valid[a, sel] = True
            pre_ref[asset] = float(r[-1])
        macro = np.zeros((S, N_MACRO), dtype=np.float64)
        macro_valid = np.zeros(S, dtype=np.bool_)
        if A and S:
            macro_series_nb(feat, valid, ref, self.depth_lookback, self.cascade_threshold, macro, macro_valid)
        self._pre_rows = rows
        self._pre_steps = steps
        self._pre_feat = feat
        self._pre_valid = valid
        self._pre_macro = macro
        self._pre_macro_valid = macro_valid
        self._pre_ref = pre_ref
        self.preloaded_date = date_str
        self.preload_snapshots = n_snap
        self.preload_assets_missing = missing
        self._live_mode = False
        if missing:
            logger.info("OBF preload %s: no snapshots for %d of %d assets", date_str, len(missing),
                        len(missing) + A)
        logger.debug("OBF preload %s: %d assets, %d steps, %d snapshots in %.3f s", date_str, A, S, n_snap,
                     time.perf_counter() - t0)

    def _day_arrays(self, asset: str) -> tuple[np.ndarray, ...] | None:
        """Return ``(ts, bn, an, bd, ad)`` of the provider's current day for ``asset``, sorted."""
        try:
            get_arrays = getattr(self.provider, "get_arrays", None)
            if callable(get_arrays):
                ts, bn, an, bd, ad = get_arrays(asset)
                ts = np.asarray(ts, dtype=np.float64)
                mats = [np.ascontiguousarray(np.asarray(x, dtype=np.float64)) for x in (bn, an, bd, ad)]
            else:
                stamps = self.provider.get_all_timestamps(asset)
                snaps = [self.provider.get_snapshot(asset, float(t)) for t in stamps]
                snaps = [s for s in snaps if s is not None]
                if not snaps:
                    return None
                ts = np.array([s.timestamp for s in snaps], dtype=np.float64)
                mats = [np.array([np.asarray(getattr(s, f), dtype=np.float64) for s in snaps])
                        for f in ("bid_notional", "ask_notional", "bid_depth", "ask_depth")]
        except (ValueError, TypeError) as exc:
            self.invalid_snapshots += 1
            logger.warning("OBF preload: unusable snapshots for %s: %s", asset, exc)
            return None
        n = ts.shape[0]
        if any(m.ndim != 2 or m.shape[0] != n or m.shape[1] == 0 for m in mats) or \
                len({m.shape[1] for m in mats}) != 1:
            self.invalid_snapshots += 1
            logger.warning("OBF preload: %s: side arrays do not match %d timestamps", asset, n)
            return None
        fin = np.isfinite(ts)
        if not fin.all():
            ts = ts[fin]
            mats = [m[fin] for m in mats]
        if n and np.any(np.diff(ts) < 0):
            order = np.argsort(ts, kind="stable")
            ts = ts[order]
            mats = [m[order] for m in mats]
        return (ts, *mats)

    # ------------------------------------------------------------------ lookups
    def _resolve_idx(self, asset: str, timestamp_or_idx: float) -> int | None:
        """Return the bar (live) or step (preload) whose features answer ``asset`` at the given
        index, or None when nothing is known.

        Live: the bar itself when ``asset`` has features there, else the asset's latest cached
        bar (graceful degradation), but None while the feed is stale (>= ``STALE_WARN_BARS`` bars
        without any snapshot), so the engine sees defaults and its gate degrades to the seeded
        random pass, as seed 000 §5 intends. Preload: a value >= 1e9 is a unix timestamp (newest
        step at or before it), otherwise a step index clamped to the day.
        """
        try:
            v = float(timestamp_or_idx)
        except (TypeError, ValueError):
            return None
        if not math.isfinite(v):
            return None
        if self._live_mode:
            if self._live_stale_count >= self.STALE_WARN_BARS:
                return None
            row = self._rows.get(asset)
            if row is None:
                return None
            bar = int(v)
            slot = self._slots.get(bar)
            if slot is not None and self._live_valid[slot, row]:
                return bar
            if self._has_last[row]:
                last = int(self._last_bar[row])
                slot = self._slots.get(last)
                if slot is not None and self._live_valid[slot, row]:
                    return last
            return None
        if asset not in self._pre_rows:
            return None
        return self._resolve_step(v)

    def _resolve_step(self, v: float) -> int | None:
        S = self._pre_steps.shape[0]
        if S == 0:
            return None
        if v >= _TS_THRESHOLD:
            i = int(np.searchsorted(self._pre_steps, v, side="right")) - 1
            return None if i < 0 else i
        return min(max(int(v), 0), S - 1)

    def _row(self, asset: str, timestamp_or_idx: float) -> np.ndarray | None:
        try:
            idx = self._resolve_idx(asset, timestamp_or_idx)
            if idx is None:
                return None
            if self._live_mode:
                return self._live_feat[self._slots[idx], self._rows[asset]]
            a = self._pre_rows[asset]
            if not self._pre_valid[a, idx]:
                return None
            return self._pre_feat[a, idx]
        except Exception:  # getters never raise
            logger.debug("OBF lookup failed for %s at %r", asset, timestamp_or_idx, exc_info=True)
            return None

    def _macro_row(self, timestamp_or_idx: float) -> np.ndarray | None:
        try:
            v = float(timestamp_or_idx)
            if not math.isfinite(v):
                return None
            if self._live_mode:
                if self._live_stale_count >= self.STALE_WARN_BARS:
                    return None
                slot = self._slots.get(int(v))
                if slot is None or not self._live_macro_valid[slot]:
                    if self._last_macro_bar is None:
                        return None
                    slot = self._slots.get(self._last_macro_bar)
                    if slot is None or not self._live_macro_valid[slot]:
                        return None
                return self._live_macro[slot]
            i = self._resolve_step(v)
            if i is None or not self._pre_macro_valid[i]:
                return None
            return self._pre_macro[i]
        except Exception:
            logger.debug("OBF macro lookup failed at %r", timestamp_or_idx, exc_info=True)
            return None

    def get_placement(self, asset: str, timestamp_or_idx: float) -> OBPlacementFeatures:
        """Return the placement features of ``asset`` at the bar (defaults when unknown)."""
        row = self._row(asset, timestamp_or_idx)
        return _DEFAULT_PLACEMENT if row is None else _placement(row)

    def get_signal(self, asset: str, timestamp_or_idx: float) -> OBSignalFeatures:
        """Return the signal features of ``asset`` at the bar (defaults when unknown)."""
        row = self._row(asset, timestamp_or_idx)
        return _DEFAULT_SIGNAL if row is None else _signal(row)

    def get_macro(self, timestamp_or_idx: float) -> OBMacroFeatures:
        """Return the cross-asset features at the bar (defaults, CALM, when unknown)."""
        row = self._macro_row(timestamp_or_idx)
        return _DEFAULT_MACRO if row is None else _macro(row)

    def get_market(self, asset: str, timestamp_or_idx: float) -> OBMarketFeatures:
        """Return ``asset`` against the market at the bar: its imbalance, the cross-asset median,
        their difference (in [-2, 2]), the agreement fraction and the cascade regime."""
        row = self._row(asset, timestamp_or_idx)
        mrow = self._macro_row(timestamp_or_idx)
        if row is None and mrow is None:
            return _DEFAULT_MARKET
        imb = 0.0 if row is None else float(row[4])
        med = 0.0 if mrow is None else float(mrow[0])
        return OBMarketFeatures(
            imbalance=imb,
            market_imbalance=med,
            relative_imbalance=imb - med if row is not None else 0.0,
            agreement_pct=0.0 if mrow is None else float(mrow[1]),
            cascade_regime=CASCADE_CALM if mrow is None else int(mrow[3]),
        )

    # ------------------------------------------------------------------ introspection
    @property
    def live_mode(self) -> bool:
        """Return True once ``step_live`` has run (until the next ``preload_date``)."""
        return self._live_mode

    @property
    def is_stale(self) -> bool:
        """Return True while the live feed has delivered no snapshot for >= 3 consecutive bars."""
        return self._live_mode and self._live_stale_count >= self.STALE_WARN_BARS

    @property
    def stale_count(self) -> int:
        """Return the current run of consecutive bars without any snapshot."""
        return self._live_stale_count

    @property
    def _median_depth_ref(self) -> dict[str, float]:
        """Per-asset depth reference (live EMA when live, end-of-day EMA after a preload)."""
        if self._live_mode:
            return {a: float(self._ema_ref[r]) for a, r in self._rows.items() if self._has_ref[r]}
        return dict(self._pre_ref)

    def median_depth_ref(self, asset: str) -> float:
        """Return the depth reference of ``asset`` (0.0 when unknown)."""
        return self._median_depth_ref.get(asset, 0.0)

    def live_bars(self) -> list[int]:
        """Return the cached live bar indices, oldest first."""
        return list(self._slots)

    @property
    def n_steps(self) -> int:
        """Return the number of preloaded steps (bars) of the current day."""
        return int(self._pre_steps.shape[0])

    def stats(self) -> dict[str, Any]:
        """Return the operator counters as a plain dict."""
        return {
            "live_mode": self._live_mode,
            "bars_stepped": self.bars_stepped,
            "snapshots_used": self.snapshots_used,
            "last_step_snapshots": self.last_step_snapshots,
            "assets_missing": self.assets_missing,
            "stale_bars": self.stale_bars,
            "stale_count": self._live_stale_count,
            "provider_errors": self.provider_errors,
            "invalid_snapshots": self.invalid_snapshots,
            "aged_snapshots": self.aged_snapshots,
            "live_bars_cached": len(self._slots),
            "preloaded_date": self.preloaded_date,
            "preload_snapshots": self.preload_snapshots,
            "preload_assets_missing": len(self.preload_assets_missing),
        }
