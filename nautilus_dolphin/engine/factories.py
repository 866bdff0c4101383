"""Engine factories with the names DOLPHIN users know."""

from typing import Any

from nautilus_dolphin.config import D_LIQ_ABS_CAP
from nautilus_dolphin.config import D_LIQ_MARGIN_BUF
from nautilus_dolphin.config import D_LIQ_MC_REF
from nautilus_dolphin.config import D_LIQ_SOFT_CAP
from nautilus_dolphin.engine.base import NDAlphaEngine
from nautilus_dolphin.engine.layers import AdaptiveBoostEngine
from nautilus_dolphin.engine.layers import ExtendedLeverageEngine
from nautilus_dolphin.engine.layers import LiquidationGuardEngine
from nautilus_dolphin.engine.layers import ProxyBaseEngine

BOOST_MODES: tuple[str, ...] = ("baseline", "proxy", "scale_boost", "adaptive_beta", "extended", "d_liq")


def create_boost_engine(mode: str = "adaptive_beta", **kwargs: Any) -> NDAlphaEngine:
    """Create an engine by boost mode.

    Modes: ``baseline`` (NDAlphaEngine, the BRONZE floor), ``proxy`` (proxy_B tracking only),
    ``scale_boost`` (fixed alpha, Exp7), ``adaptive_beta`` (alpha * (1 + day_beta), Exp8),
    ``extended`` (8x/9x with the MC lever-swap, Exp9), ``d_liq`` (D_LIQ_GOLD).
    """
    if mode == "baseline":
        return NDAlphaEngine(**kwargs)
    if mode == "proxy":
        return ProxyBaseEngine(**kwargs)
    if mode == "scale_boost":
        return AdaptiveBoostEngine(adaptive_beta=False, **kwargs)
    if mode == "adaptive_beta":
        return AdaptiveBoostEngine(adaptive_beta=True, **kwargs)
    if mode == "extended":
        return ExtendedLeverageEngine(soft_cap=D_LIQ_SOFT_CAP, hard_cap=D_LIQ_ABS_CAP, mc_ref=D_LIQ_MC_REF, **kwargs)
    if mode == "d_liq":
        return create_d_liq_engine(**kwargs)
    raise ValueError(f"unknown boost mode {mode!r}; expected one of {', '.join(BOOST_MODES)}")


def create_d_liq_engine(**kwargs: Any) -> LiquidationGuardEngine:
    """Create the D_LIQ_GOLD engine: 8x soft / 9x hard, MC ref 5x, liquidation buffer 0.95."""
    kwargs.setdefault("soft_cap", D_LIQ_SOFT_CAP)
    kwargs.setdefault("hard_cap", D_LIQ_ABS_CAP)
    kwargs.setdefault("mc_ref", D_LIQ_MC_REF)
    kwargs.setdefault("margin_buffer", D_LIQ_MARGIN_BUF)
    kwargs.setdefault("adaptive_beta", True)
    return LiquidationGuardEngine(**kwargs)
