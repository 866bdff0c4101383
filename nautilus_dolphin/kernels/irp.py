"""IRP asset selection: pick the asset with the largest reversion potential, gate on breadth.

The spec names ``use_asset_selection`` and ``min_irp_alignment`` ("min fraction of assets aligned
for entry") and leaves the rest open. Definition, over a window of ``lookback + 1`` price rows
(oldest first) and the trade direction ``d`` (+1 long, -1 short)::

    r_a     = ln(p_a[now] / p_a[now - lookback])          (assets with both prices > 0)
    sigma_a = std of the asset's one-bar log returns in the window (finite ones, >= 2 needed)
    s_a     = -d * r_a                                    (> 0: moved against the trade, room to revert)
    alignment = #{a : s_a > 0} / #{valid a}
    pick    = argmax_a { s_a / sigma_a : s_a > 0, sigma_a > 0 }  (first index wins ties)

A mean-reversion entry wants a broad move (alignment >= ``min_irp_alignment``) and trades the asset
that moved furthest in units of its own volatility.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def compute_irp_nb(window: np.ndarray, direction: int) -> tuple[float, int, float, int]:
    """Return ``(alignment, best_index, best_score, n_valid)`` for a (rows, assets) price window.

    ``best_index`` is -1 when no asset moved against the trade direction.
    """
    n_rows = window.shape[0]
    n_assets = window.shape[1]
    n_valid = 0
    n_aligned = 0
    best = -1
    best_score = -np.inf
    if n_rows < 3:
        return 0.0, -1, 0.0, 0
    for a in range(n_assets):
        p_now = window[n_rows - 1, a]
        p_then = window[0, a]
        if not (p_now > 0.0 and p_then > 0.0 and np.isfinite(p_now) and np.isfinite(p_then)):
            continue
        # volatility of one-bar log returns over the window
        cnt = 0
        s1 = 0.0
        s2 = 0.0
        for k in range(1, n_rows):
            p0 = window[k - 1, a]
            p1 = window[k, a]
            if p0 > 0.0 and p1 > 0.0 and np.isfinite(p0) and np.isfinite(p1):
                lr = np.log(p1 / p0)
                s1 += lr
                s2 += lr * lr
                cnt += 1
        n_valid += 1
        s = -direction * np.log(p_now / p_then)
        if s > 0.0:
            n_aligned += 1
        if cnt < 2 or s <= 0.0:
            continue
        mean = s1 / cnt
        var = s2 / cnt - mean * mean
        if var <= 0.0:
            continue
        score = s / np.sqrt(var)
        if score > best_score:
            best_score = score
            best = a
    if n_valid == 0:
        return 0.0, -1, 0.0, 0
    if best < 0:
        best_score = 0.0
    return n_aligned / n_valid, best, best_score, n_valid
