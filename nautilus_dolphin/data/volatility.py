"""Realised-volatility regime filter: per-bar ``dvol`` and the gold ``vol_p60`` (spec 001 §6).

``dvol[i]`` is the standard deviation of simple returns of the reference asset (BTCUSDT) over the
50 scans before bar ``i`` (``prices[max(0, i-50):i]``; NaN when fewer than 10 prices). A bar is in
the tradeable volatility regime when ``dvol > vol_p60``. ``vol_p60`` is the 60th percentile of the
same statistic over the first two daily files, sampled from bar 60 on, positive values only: the
gold calibration method, reproduced exactly because any deviation changes trade timing.
"""

from collections.abc import Sequence

import numpy as np

from nautilus_dolphin.config import VOL_P60_FILES
from nautilus_dolphin.config import VOL_P60_MIN_SEG
from nautilus_dolphin.config import VOL_P60_PERCENTILE
from nautilus_dolphin.config import VOL_P60_SEGMENT
from nautilus_dolphin.config import VOL_P60_START


def _seg_vol(seg: np.ndarray) -> float:
    return float(np.std(np.diff(seg) / seg[:-1]))


def gold_vol_p60(btc_prices_by_day: Sequence[np.ndarray]) -> float:
    """Return the gold ``vol_p60`` from the BTC price arrays of the window's days, in date order.

    Only the first ``VOL_P60_FILES`` (2) days are used, exactly as the gold loader does.

    Raises
    ------
    ValueError
        If no positive volatility sample exists (fewer than 61 bars or constant prices).
    """
    all_vols: list[float] = []
    for pr in list(btc_prices_by_day)[:VOL_P60_FILES]:
        pr = np.asarray(pr, dtype=np.float64)
        for i in range(VOL_P60_START, len(pr)):
            seg = pr[max(0, i - VOL_P60_SEGMENT) : i]
            if len(seg) < VOL_P60_MIN_SEG:
                continue
            v = _seg_vol(seg)
            if v > 0:
                all_vols.append(v)
    if not all_vols:
        raise ValueError("vol_p60: no positive volatility sample in the first two days (need > 60 bars)")
    return float(np.percentile(all_vols, VOL_P60_PERCENTILE))


def dvol_per_bar(btc_prices: np.ndarray) -> np.ndarray:
    """Return ``dvol[i]`` for every bar of a day (NaN where fewer than 10 prior prices).

    Vectorised equivalent of the per-bar segment std; non-finite prices yield NaN.
    """
    pr = np.asarray(btc_prices, dtype=np.float64)
    n = len(pr)
    out = np.full(n, np.nan)
    if n < 2:
        return out
    rets = np.diff(pr) / pr[:-1]  # rets[k] = return from bar k to k+1
    csum = np.concatenate(([0.0], np.cumsum(rets)))
    csum2 = np.concatenate(([0.0], np.cumsum(rets * rets)))
    for i in range(VOL_P60_MIN_SEG, n + 1):
        if i >= n:
            break
        lo = max(0, i - VOL_P60_SEGMENT)
        # seg = pr[lo:i] -> returns rets[lo : i-1]
        m = i - 1 - lo
        if m < VOL_P60_MIN_SEG - 1:
            continue
        s1 = csum[i - 1] - csum[lo]
        s2 = csum2[i - 1] - csum2[lo]
        mean = s1 / m
        var = max(s2 / m - mean * mean, 0.0)
        out[i] = np.sqrt(var)
    return out


def vol_regime_ok(dvol: np.ndarray, vol_p60: float) -> np.ndarray:
    """Return the boolean per-bar filter ``dvol > vol_p60`` (False where dvol is not finite)."""
    dvol = np.asarray(dvol, dtype=np.float64)
    return np.where(np.isfinite(dvol), dvol > vol_p60, False)
