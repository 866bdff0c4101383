"""Direction confirmation (DC): has the chosen asset started to move the trade's way?

Definition: over the last ``lookback`` bars (7), ``move_bps = d * (p_now / p_then - 1) * 1e4``.
``move_bps >= min_magnitude_bps`` (0.75) confirms (+1), ``move_bps <= -min_magnitude_bps``
contradicts (-1), anything smaller is neutral (0). Missing prices are neutral.
"""

import numpy as np
from numba import njit

DC_CONFIRM: int = 1
DC_NEUTRAL: int = 0
DC_CONTRADICT: int = -1


@njit(cache=True)
def check_dc_nb(p_then: float, p_now: float, direction: int, min_magnitude_bps: float) -> int:
    """Return +1 (confirms), 0 (neutral) or -1 (contradicts)."""
    if not (p_then > 0.0 and p_now > 0.0 and np.isfinite(p_then) and np.isfinite(p_now)):
        return 0
    move_bps = direction * (p_now / p_then - 1.0) * 1e4
    if move_bps >= min_magnitude_bps:
        return 1
    if move_bps <= -min_magnitude_bps:
        return -1
    return 0
