"""Order-book feature kernels: pure ``@njit(cache=True)`` functions over 5-level snapshots.

A snapshot side is two arrays per side, level 0 first: ``notional`` (USD) and ``depth`` (base
units). Nothing else is published (seed 000 §2), so prices are *implied*: the price of a level is
``notional / depth`` (the publisher computes ``notional = price * amount``). Every kernel accepts
any number of levels (5 in the DOLPHIN payload, 25 in the real Tardis samples) and treats a
negative or non-finite input value as 0 (an absent level), so no kernel ever returns NaN or inf.

Output ranges (all documented per kernel, pinned by tests on real Binance books):

=========================  ==================  ==============================================
feature                    range               meaning
=========================  ==================  ==============================================
imbalance                  [-1, 1]             (bid - ask) / (bid + ask) notional, 0 if empty
depth_1pct_usd             [0, inf)            USD notional within 1 % of the implied mid
depth_quality              [0, DQ_MAX=3]       depth_1pct / reference depth (1 = normal)
fill_probability           [0, FP_MAX~0.833]   dq / (dq + FP_HALF); 0.625 at dq = 1
spread_proxy_bps           [0, SPREAD_MAX_BPS] implied top-of-book spread in bps of mid
depth_asymmetry            [-1, 1]             bid minus ask near-touch concentration
imbalance_persistence      [0, 1]              share of recent bars on the latest bar's side
withdrawal_velocity        [-1, VEL_MAX=10]    fractional depth change over the lookback
median_imbalance           [-1, 1]             cross-asset median imbalance
agreement_pct              [0, 1]              share of assets on the median's side (fraction)
cascade_regime             {0, 1, 2}           CALM / STRESSED / CASCADE (obf.types codes)
depth_velocity             [-1, VEL_MAX]       macro depth fractional change over lookback
acceleration               [-1-VEL_MAX, 1+VEL_MAX]  first difference of depth_velocity
=========================  ==================  ==============================================
"""

import numpy as np
from numba import njit

DEPTH_BAND: float = 0.01
"""Half-width of the depth band around mid (1 %)."""
DQ_MAX: float = 3.0
"""Upper clip of depth quality (a book 3x its reference is as good as it gets)."""
FP_HALF: float = 0.6
"""Depth quality at which fill probability is one half; 0.6 puts dq = 1 at 0.625, the gold maker
entry rate (``sp_maker_entry_rate`` = 0.62)."""
SPREAD_MAX_BPS: float = 10_000.0
"""Upper clip of the spread proxy (100 %)."""
VEL_MAX: float = 10.0
"""Upper clip of the velocities (a 10x depth increase); the lower bound -1 is natural."""
PERSIST_EPS: float = 1e-9
"""Dead band: an imbalance with ``|imb| <= PERSIST_EPS`` has no side."""

CALM: int = 0
STRESSED: int = 1
CASCADE: int = 2
STRESSED_FRACTION: float = 0.15
"""Share of assets withdrawing past the threshold that makes the market STRESSED."""
CASCADE_FRACTION: float = 0.35
"""Share of assets withdrawing past the threshold that makes it a CASCADE."""


MAX_LEVEL_VALUE: float = 1e18
"""Per-level values are clipped here so sums of even absurd (finite) inputs never overflow."""


@njit(cache=True)
def _clean(x: float) -> float:
    """Return ``x`` clipped to [0, MAX_LEVEL_VALUE]; negative or non-finite gives 0 (absent)."""
    if np.isfinite(x) and x > 0.0:
        if x > MAX_LEVEL_VALUE:
            return MAX_LEVEL_VALUE
        return x
    return 0.0


@njit(cache=True)
def _side_total(notional: np.ndarray) -> float:
    s = 0.0
    for i in range(notional.shape[0]):
        s += _clean(notional[i])
    return s


@njit(cache=True)
def level_price_nb(notional: float, depth: float) -> float:
    """Return the implied level price ``notional / depth``, or NaN when it cannot be implied."""
    n = _clean(notional)
    d = _clean(depth)
    if n > 0.0 and d > 0.0:
        p = n / d
        if np.isfinite(p) and p > 0.0:
            return p
    return np.nan


@njit(cache=True)
def _best_price(notional: np.ndarray, depth: np.ndarray) -> float:
    """Return the price of the first level (from the top) whose price can be implied, else NaN."""
    m = min(notional.shape[0], depth.shape[0])
    for i in range(m):
        p = level_price_nb(notional[i], depth[i])
        if np.isfinite(p):
            return p
    return np.nan


@njit(cache=True)
def compute_mid_nb(
    bid_notional: np.ndarray, ask_notional: np.ndarray, bid_depth: np.ndarray, ask_depth: np.ndarray
) -> float:
    """Return the implied mid price (mean of best bid and best ask), one side's best if only one
    side can be priced, or NaN when neither can."""
    pb = _best_price(bid_notional, bid_depth)
    pa = _best_price(ask_notional, ask_depth)
    if np.isfinite(pb) and np.isfinite(pa):
        return 0.5 * (pb + pa)
    if np.isfinite(pb):
        return pb
    if np.isfinite(pa):
        return pa
    return np.nan


@njit(cache=True)
def compute_imbalance_nb(bid_notional: np.ndarray, ask_notional: np.ndarray) -> float:
    """Return the notional imbalance ``(B - A) / (B + A)`` over all levels, in [-1, 1].

    Positive means the bid side is heavier (buy pressure). 0 for an empty book.
    """
    b = _side_total(bid_notional)
    a = _side_total(ask_notional)
    t = b + a
    if t <= 0.0:
        return 0.0
    v = (b - a) / t
    if v > 1.0:
        return 1.0
    if v < -1.0:
        return -1.0
    return v


@njit(cache=True)
def _band_sum(notional: np.ndarray, depth: np.ndarray, mid: float, band: float) -> float:
    s = 0.0
    m = min(notional.shape[0], depth.shape[0])
    for i in range(m):
        p = level_price_nb(notional[i], depth[i])
        if np.isfinite(p) and abs(p - mid) <= band * mid:
            s += _clean(notional[i])
    return s


@njit(cache=True)
def compute_depth_1pct_nb(
    bid_notional: np.ndarray, ask_notional: np.ndarray, bid_depth: np.ndarray, ask_depth: np.ndarray
) -> float:
    """Return the USD notional resting within 1 % of mid (both sides), in [0, inf).

    Estimation: each level's price is implied as ``notional / depth``; the mid is the mean of the
    best implied bid and ask. Levels whose implied price lies within ``DEPTH_BAND`` (1 %) of mid
    are summed; a level whose price cannot be implied (depth 0) is left out. When no price at all
    can be implied (depths missing), every level is assumed inside the band and the total 5-level
    notional is returned: on liquid USDT-M perpetuals five levels span a few ticks, far less
    than 1 %.
    """
    mid = compute_mid_nb(bid_notional, ask_notional, bid_depth, ask_depth)
    if not (np.isfinite(mid) and mid > 0.0):
        return _side_total(bid_notional) + _side_total(ask_notional)
    return _band_sum(bid_notional, bid_depth, mid, DEPTH_BAND) + _band_sum(
        ask_notional, ask_depth, mid, DEPTH_BAND
    )


@njit(cache=True)
def compute_depth_quality_nb(depth_1pct: float, median_ref: float) -> float:
    """Return depth quality ``depth_1pct / median_ref`` clipped to [0, DQ_MAX].

    1.0 means the book is as deep as its reference (the EMA of its own depth); below 1 it is
    thinner than usual. An unknown reference (<= 0 or non-finite) gives the neutral 1.0.
    """
    d = _clean(depth_1pct)
    r = _clean(median_ref)
    if r <= 0.0:
        return 1.0
    q = d / r
    if q > DQ_MAX:
        return DQ_MAX
    return q


@njit(cache=True)
def compute_fill_probability_nb(depth_quality: float) -> float:
    """Return the probability that a passive (maker) entry fills, in [0, DQ_MAX/(DQ_MAX+FP_HALF)].

    A saturating (Hill) curve ``dq / (dq + FP_HALF)`` of depth quality: an empty book gives 0, a
    book at its reference depth 0.625 (the gold maker entry rate), a book 3x deeper ~0.833.
    Deeper books trade more, so resting orders are reached more often.
    """
    q = _clean(depth_quality)
    if q > DQ_MAX:
        q = DQ_MAX
    return q / (q + FP_HALF)


@njit(cache=True)
def compute_spread_proxy_nb(
    bid_notional: np.ndarray, ask_notional: np.ndarray, bid_depth: np.ndarray, ask_depth: np.ndarray
) -> float:
    """Return the implied top-of-book spread in bps of mid, in [0, SPREAD_MAX_BPS].

    ``1e4 * (ask_0 - bid_0) / mid`` with level prices implied as ``notional / depth``. A crossed
    or locked book gives 0; when either best price cannot be implied (depth missing) the result
    is 0 ("unknown", not "tight": callers must not read 0 as a guarantee).
    """
    pb = _best_price(bid_notional, bid_depth)
    pa = _best_price(ask_notional, ask_depth)
    if not (np.isfinite(pb) and np.isfinite(pa)):
        return 0.0
    mid = 0.5 * (pb + pa)
    if mid <= 0.0:
        return 0.0
    s = 1e4 * (pa - pb) / mid
    if not np.isfinite(s) or s < 0.0:
        return 0.0
    if s > SPREAD_MAX_BPS:
        return SPREAD_MAX_BPS
    return s


@njit(cache=True)
def _concentration(notional: np.ndarray) -> float:
    """Return the near-touch concentration of one side in [0, 1]: notional-weighted mean of
    level weights ``w_i = 1 - i / (n - 1)`` (1 at the top, 0 at the deepest level)."""
    n = notional.shape[0]
    if n <= 1:
        return 1.0 if n == 1 and _clean(notional[0]) > 0.0 else 0.0
    num = 0.0
    den = 0.0
    for i in range(n):
        v = _clean(notional[i])
        num += v * (1.0 - i / (n - 1.0))
        den += v
    if den <= 0.0:
        return 0.0
    return num / den


@njit(cache=True)
def compute_depth_asymmetry_nb(bid_notional: np.ndarray, ask_notional: np.ndarray) -> float:
    """Return bid minus ask near-touch concentration, in [-1, 1].

    Positive: bid liquidity sits close to the touch while ask liquidity sits deeper (support near
    price, resistance further away); negative the reverse. Independent of the total imbalance.
    """
    v = _concentration(bid_notional) - _concentration(ask_notional)
    if v > 1.0:
        return 1.0
    if v < -1.0:
        return -1.0
    return v


@njit(cache=True)
def compute_imbalance_ma_nb(imb_hist: np.ndarray, window: int) -> float:
    """Return the mean of the last ``window`` imbalances (oldest first in ``imb_hist``), in [-1, 1];
    0 for an empty history."""
    n = imb_hist.shape[0]
    k = min(window, n)
    if k <= 0:
        return 0.0
    s = 0.0
    for i in range(n - k, n):
        x = imb_hist[i]
        if np.isfinite(x):
            s += x
    return s / k


@njit(cache=True)
def compute_imbalance_persistence_nb(imb_hist: np.ndarray, lookback: int) -> float:
    """Return how persistently the book leans one way, in [0, 1].

    The share of the last ``min(lookback, n)`` imbalances (oldest first) that sit on the same side
    as the latest one; 0 when the latest imbalance is inside the dead band or the history is
    empty. 1.0 = the book has leaned the same way for the whole lookback. The side itself is the
    sign of ``imbalance``/``imbalance_ma5``.
    """
    n = imb_hist.shape[0]
    k = min(lookback, n)
    if k <= 0:
        return 0.0
    last = imb_hist[n - 1]
    if not np.isfinite(last) or abs(last) <= PERSIST_EPS:
        return 0.0
    side = 1.0 if last > 0.0 else -1.0
    c = 0
    for i in range(n - k, n):
        x = imb_hist[i]
        if np.isfinite(x) and x * side > PERSIST_EPS:
            c += 1
    return c / k


@njit(cache=True)
def compute_withdrawal_velocity_nb(depth_hist: np.ndarray, lookback: int) -> float:
    """Return the fractional change of depth over ``lookback`` bars, in [-1, VEL_MAX].

    ``depth[-1] / depth[-1 - L] - 1`` with ``L = min(lookback, n - 1)``; negative means liquidity
    is being withdrawn (-0.3 = 30 % of the depth within 1 % of mid gone in L bars). 0 when there is
    no earlier value or the earlier depth is 0.
    """
    n = depth_hist.shape[0]
    L = min(lookback, n - 1)
    if L <= 0:
        return 0.0
    then = _clean(depth_hist[n - 1 - L])
    now = _clean(depth_hist[n - 1])
    if then <= 0.0:
        return 0.0
    v = now / then - 1.0
    if v > VEL_MAX:
        return VEL_MAX
    if v < -1.0:
        return -1.0
    return v


@njit(cache=True)
def compute_market_agreement_nb(imbalances: np.ndarray, n: int) -> tuple[float, float]:
    """Return ``(median_imbalance, agreement_pct)`` over the first ``n`` assets.

    ``median_imbalance`` in [-1, 1]; ``agreement_pct`` in [0, 1] is the *fraction* (not percent)
    of assets whose imbalance is on the same side as the median (0 when the median is inside the
    dead band). ``(0, 0)`` for no assets.
    """
    k = min(n, imbalances.shape[0])
    if k <= 0:
        return 0.0, 0.0
    buf = np.empty(k, dtype=np.float64)
    for i in range(k):
        x = imbalances[i]
        buf[i] = x if np.isfinite(x) else 0.0
    med = np.median(buf)
    if abs(med) <= PERSIST_EPS:
        return med, 0.0
    side = 1.0 if med > 0.0 else -1.0
    c = 0
    for i in range(k):
        if buf[i] * side > PERSIST_EPS:
            c += 1
    return med, c / k


@njit(cache=True)
def compute_cascade_signal_nb(velocities: np.ndarray, n: int, threshold: float) -> int:
    """Return the cascade regime code (CALM 0, STRESSED 1, CASCADE 2) from per-asset withdrawal
    velocities.

    The share of the first ``n`` assets whose velocity is at or below ``threshold`` (e.g. -0.30:
    lost 30 % of their near-mid depth over the lookback) is compared with ``CASCADE_FRACTION``
    (0.35) and ``STRESSED_FRACTION`` (0.15). A market-wide drain of liquidity, not one thin book.
    """
    k = min(n, velocities.shape[0])
    if k <= 0:
        return CALM
    c = 0
    for i in range(k):
        v = velocities[i]
        if np.isfinite(v) and v <= threshold:
            c += 1
    frac = c / k
    if frac >= CASCADE_FRACTION:
        return CASCADE
    if frac >= STRESSED_FRACTION:
        return STRESSED
    return CALM


@njit(cache=True)
def compute_depth_acceleration_nb(velocity: float, prev_velocity: float) -> float:
    """Return the first difference of depth velocity, in [-1 - VEL_MAX, 1 + VEL_MAX]."""
    if not (np.isfinite(velocity) and np.isfinite(prev_velocity)):
        return 0.0
    return velocity - prev_velocity


# --------------------------------------------------------------------------------------------
# Batch kernels: the same scalar kernels driven over a whole day (preload) or over all assets of
# one bar (live). Both call the per-asset kernels on identically ordered histories, so preload and
# step_live produce bit-identical features on the same snapshot stream.
# --------------------------------------------------------------------------------------------

N_PLACEMENT: int = 4
"""Columns 0..3 of a feature row: depth_1pct_usd, depth_quality, fill_probability, spread_proxy_bps."""
N_FEATURES: int = 9
"""Columns 4..8: imbalance, imbalance_ma5, imbalance_persistence, depth_asymmetry,
withdrawal_velocity."""
N_MACRO: int = 6
"""Macro row: median_imbalance, agreement_pct, depth_pressure, cascade_regime, depth_velocity,
acceleration."""
MA_WINDOW: int = 5


@njit(cache=True)
def snapshot_features_nb(
    bn: np.ndarray, an: np.ndarray, bd: np.ndarray, ad: np.ndarray, out: np.ndarray
) -> None:
    """Fill ``out[i, 0:4]`` with imbalance, depth_1pct, spread_bps, asymmetry for each row ``i`` of
    the ``(n, levels)`` side matrices (the per-snapshot, history-free features)."""
    for i in range(bn.shape[0]):
        out[i, 0] = compute_imbalance_nb(bn[i], an[i])
        out[i, 1] = compute_depth_1pct_nb(bn[i], an[i], bd[i], ad[i])
        out[i, 2] = compute_spread_proxy_nb(bn[i], an[i], bd[i], ad[i])
        out[i, 3] = compute_depth_asymmetry_nb(bn[i], an[i])


@njit(cache=True)
def _asset_row(
    imb: float,
    d1: float,
    sp: float,
    asym: float,
    ref: float,
    imb_hist: np.ndarray,
    dep_hist: np.ndarray,
    imb_lookback: int,
    dep_lookback: int,
    out: np.ndarray,
) -> None:
    dq = compute_depth_quality_nb(d1, ref)
    out[0] = d1
    out[1] = dq
    out[2] = compute_fill_probability_nb(dq)
    out[3] = sp
    out[4] = imb
    out[5] = compute_imbalance_ma_nb(imb_hist, MA_WINDOW)
    out[6] = compute_imbalance_persistence_nb(imb_hist, imb_lookback)
    out[7] = asym
    out[8] = compute_withdrawal_velocity_nb(dep_hist, dep_lookback)


@njit(cache=True)
def asset_series_nb(
    snap_feat: np.ndarray, alpha: float, imb_lookback: int, dep_lookback: int, out: np.ndarray, ref_out: np.ndarray
) -> None:
    """Compute the full feature rows of one asset over consecutive steps (preload).

    ``snap_feat`` is ``(n, 4)`` from ``snapshot_features_nb`` gathered per step; ``out`` is
    ``(n, N_FEATURES)``; ``ref_out`` receives the EMA depth reference after each step (seeded
    with the first depth, then ``(1 - alpha) * ref + alpha * d``).
    """
    n = snap_feat.shape[0]
    imb_all = snap_feat[:, 0].copy()
    dep_all = snap_feat[:, 1].copy()
    ref = 0.0
    for i in range(n):
        d1 = dep_all[i]
        if i == 0:
            ref = d1
        else:
            ref = (1.0 - alpha) * ref + alpha * d1
        ref_out[i] = ref
        lo_i = max(0, i + 1 - imb_lookback)
        lo_d = max(0, i - dep_lookback)
        _asset_row(
            snap_feat[i, 0], d1, snap_feat[i, 2], snap_feat[i, 3], ref,
            imb_all[lo_i : i + 1], dep_all[lo_d : i + 1], imb_lookback, dep_lookback, out[i],
        )


@njit(cache=True)
def live_assets_nb(
    rows: np.ndarray,
    snap_feat: np.ndarray,
    imb_hist: np.ndarray,
    imb_cnt: np.ndarray,
    dep_hist: np.ndarray,
    dep_cnt: np.ndarray,
    ema_ref: np.ndarray,
    has_ref: np.ndarray,
    alpha: float,
    imb_lookback: int,
    dep_lookback: int,
    out: np.ndarray,
) -> None:
    """Advance the per-asset live state by one bar and fill ``out[k]`` for asset row ``rows[k]``.

    ``imb_hist`` is ``(A, imb_lookback)`` and ``dep_hist`` ``(A, dep_lookback + 1)``; both are
    shift buffers (oldest first) with fill counts ``imb_cnt``/``dep_cnt``.
    """
    for k in range(rows.shape[0]):
        a = rows[k]
        imb = snap_feat[k, 0]
        d1 = snap_feat[k, 1]
        if has_ref[a]:
            ema_ref[a] = (1.0 - alpha) * ema_ref[a] + alpha * d1
        else:
            ema_ref[a] = d1
            has_ref[a] = True
        # append to the shift buffers
        cap_i = imb_hist.shape[1]
        if imb_cnt[a] < cap_i:
            imb_hist[a, imb_cnt[a]] = imb
            imb_cnt[a] += 1
        else:
            for j in range(cap_i - 1):
                imb_hist[a, j] = imb_hist[a, j + 1]
            imb_hist[a, cap_i - 1] = imb
        cap_d = dep_hist.shape[1]
        if dep_cnt[a] < cap_d:
            dep_hist[a, dep_cnt[a]] = d1
            dep_cnt[a] += 1
        else:
            for j in range(cap_d - 1):
                dep_hist[a, j] = dep_hist[a, j + 1]
            dep_hist[a, cap_d - 1] = d1
        _asset_row(
            imb, d1, snap_feat[k, 2], snap_feat[k, 3], ema_ref[a],
            imb_hist[a, : imb_cnt[a]], dep_hist[a, : dep_cnt[a]], imb_lookback, dep_lookback, out[k],
        )


@njit(cache=True)
def known_mean_nb(values: np.ndarray, rows: np.ndarray, known: np.ndarray) -> float:
    """Return the mean of ``values[r]`` over ``rows`` with ``known[r]`` (sequential sum, in order),
    or NaN when none is known."""
    s = 0.0
    k = 0
    for i in range(rows.shape[0]):
        r = rows[i]
        if known[r]:
            s += values[r]
            k += 1
    if k == 0:
        return np.nan
    return s / k


@njit(cache=True)
def macro_row_nb(
    imbalances: np.ndarray, velocities: np.ndarray, agg_depth_hist: np.ndarray, dep_lookback: int,
    prev_velocity: float, first: bool, threshold: float, out: np.ndarray,
) -> float:
    """Fill one macro row from the bar's per-asset imbalances/velocities and the aggregate-depth
    history (oldest first, current last); return the depth velocity (the next ``prev_velocity``).

    ``depth_pressure`` is the sum of imbalances, in [-n, n].
    """
    n = imbalances.shape[0]
    med, agr = compute_market_agreement_nb(imbalances, n)
    s = 0.0
    for i in range(n):
        s += imbalances[i]
    out[0] = med
    out[1] = agr
    out[2] = s
    out[3] = compute_cascade_signal_nb(velocities, n, threshold)
    vel = compute_withdrawal_velocity_nb(agg_depth_hist, dep_lookback)
    out[4] = vel
    out[5] = 0.0 if first else compute_depth_acceleration_nb(vel, prev_velocity)
    return vel


@njit(cache=True)
def macro_series_nb(
    feat: np.ndarray, valid: np.ndarray, ref: np.ndarray, dep_lookback: int, threshold: float,
    out: np.ndarray, out_valid: np.ndarray,
) -> None:
    """Compute the macro rows for every step of a preloaded day.

    ``feat`` is ``(A, S, N_FEATURES)``, ``valid`` ``(A, S)``, ``ref`` ``(A, S)`` the per-step EMA
    reference. A step with no valid asset gets no macro row (``out_valid`` False) and does not
    enter the aggregate-depth history, exactly as ``step_live`` skips a bar without snapshots.
    """
    A = feat.shape[0]
    S = feat.shape[1]
    agg = np.empty(S, dtype=np.float64)
    n_agg = 0
    imb = np.empty(A, dtype=np.float64)
    vel = np.empty(A, dtype=np.float64)
    prev = 0.0
    first = True
    for s in range(S):
        k = 0
        dsum = 0.0
        for a in range(A):
            if valid[a, s]:
                imb[k] = feat[a, s, 4]
                vel[k] = feat[a, s, 8]
                dsum += ref[a, s]
                k += 1
        if k == 0:
            out_valid[s] = False
            continue
        agg[n_agg] = dsum / k
        n_agg += 1
        lo = max(0, n_agg - 1 - dep_lookback)
        prev = macro_row_nb(imb[:k], vel[:k], agg[lo:n_agg], dep_lookback, prev, first, threshold, out[s])
        first = False
        out_valid[s] = True
