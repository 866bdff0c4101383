"""Convex bet sizing from the strength of the velocity-divergence signal.

Definition (the spec names the parameters and leaves the curve open)::

    strength = clip((threshold - vel_div) / (threshold - extreme), 0, 1)
    leverage = min_lev + (max_lev - min_lev) * strength ** convexity

``vel_div`` at the threshold (-0.02) gives ``min_lev`` (0.5x); at or beyond the extreme (-0.05) it
gives ``max_lev`` (the sizer cap: 5x plain, 8x D_LIQ). ``convexity`` 3 keeps leverage low until
the signal is strong. Without dynamic leverage the sizer returns ``max_lev``. The position's
margin is ``capital * fraction`` and its notional ``margin * leverage``.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def signal_strength_nb(vel_div: float, threshold: float, extreme: float) -> float:
    """Return the signal strength in [0, 1] (0 at the threshold, 1 at or past the extreme)."""
    span = threshold - extreme
    if span <= 0.0 or not np.isfinite(vel_div):
        return 0.0
    s = (threshold - vel_div) / span
    if s < 0.0:
        return 0.0
    if s > 1.0:
        return 1.0
    return s


@njit(cache=True)
def compute_sizing_nb(
    vel_div: float,
    threshold: float,
    extreme: float,
    min_lev: float,
    max_lev: float,
    convexity: float,
    dynamic: bool,
) -> float:
    """Return the sizer leverage for a signal, in [min(min_lev, max_lev), max_lev]."""
    if not dynamic:
        return max_lev
    lo = min_lev if min_lev < max_lev else max_lev
    s = signal_strength_nb(vel_div, threshold, extreme)
    return lo + (max_lev - lo) * s**convexity
