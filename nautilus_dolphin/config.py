"""Gold engine configuration: ``ENGINE_KWARGS`` and the D_LIQ constants (spec 001 §6).

These numbers are the DOLPHIN production defaults. ``ENGINE_KWARGS`` is what every factory and
harness uses unless told otherwise; ``max_leverage=5.0`` in it is the plain engine's soft cap and
is overridden to ``D_LIQ_SOFT_CAP`` by the extended-leverage layer.
"""

from dataclasses import asdict
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

# D_LIQ constants (spec 001 §6).
D_LIQ_SOFT_CAP: float = 8.0
"""``base_max_leverage`` of the D_LIQ engine: the soft ceiling; ACB can push toward the hard cap."""
D_LIQ_ABS_CAP: float = 9.0
"""``abs_max_leverage`` of the D_LIQ engine: the hard ceiling, never exceeded."""
D_LIQ_MC_REF: float = 5.0
"""Leverage the MC-Forewarner is shown inside ``begin_day`` (its trained range)."""
D_LIQ_MARGIN_BUF: float = 0.95
"""Liquidation floor = (1 / abs cap) * buffer = 10.56 % adverse move."""

# Plain-engine caps (NDAlphaEngine without the extended layer).
BASE_ABS_MAX_LEVERAGE: float = 6.0
"""``abs_max_leverage`` of the plain engine, and the hazard ceiling when no extended cap exists."""

# Adaptive boost defaults (Exp8 adaptive_beta: thr=0.35, alpha=1.0, 500-bar history).
BOOST_THRESHOLD: float = 0.35
BOOST_ALPHA: float = 1.0
BOOST_HISTORY: int = 500

# Gold vol_p60 method (spec 001 §6).
VOL_P60_FILES: int = 2
VOL_P60_START: int = 60
VOL_P60_SEGMENT: int = 50
VOL_P60_MIN_SEG: int = 10
VOL_P60_PERCENTILE: float = 60.0
VOL_REFERENCE_ASSET: str = "BTCUSDT"

_ENGINE_KWARGS: dict[str, Any] = dict(
    initial_capital=25000.0,
    vel_div_threshold=-0.02,
    vel_div_extreme=-0.05,
    min_leverage=0.5,
    max_leverage=5.0,
    leverage_convexity=3.0,
    fraction=0.20,
    fixed_tp_pct=0.0095,
    stop_pct=1.0,
    max_hold_bars=120,
    use_direction_confirm=True,
    dc_lookback_bars=7,
    dc_min_magnitude_bps=0.75,
    dc_skip_contradicts=True,
    dc_leverage_boost=1.0,
    dc_leverage_reduce=0.5,
    use_asset_selection=True,
    min_irp_alignment=0.45,
    use_sp_fees=True,
    use_sp_slippage=True,
    sp_maker_entry_rate=0.62,
    sp_maker_exit_rate=0.50,
    use_ob_edge=True,
    ob_edge_bps=5.0,
    ob_confirm_rate=0.40,
    lookback=100,
    use_alpha_layers=True,
    use_dynamic_leverage=True,
    seed=42,
)

ENGINE_KWARGS: MappingProxyType = MappingProxyType(_ENGINE_KWARGS)
"""The gold test-harness engine keyword arguments (read-only; copy with ``dict(ENGINE_KWARGS)``)."""

MC_BASE_CFG: MappingProxyType = MappingProxyType(
    {**_ENGINE_KWARGS, "max_leverage": D_LIQ_MC_REF}
)
"""The configuration the MC-Forewarner assesses; ``max_leverage`` matches ``D_LIQ_MC_REF``."""


@dataclass(frozen=True)
class EngineConfig:
    """Typed, immutable view of the engine parameters (defaults = ``ENGINE_KWARGS``)."""

    initial_capital: float = 25000.0
    vel_div_threshold: float = -0.02
    vel_div_extreme: float = -0.05
    min_leverage: float = 0.5
    max_leverage: float = 5.0
    leverage_convexity: float = 3.0
    fraction: float = 0.20
    fixed_tp_pct: float = 0.0095
    stop_pct: float = 1.0
    max_hold_bars: int = 120
    use_direction_confirm: bool = True
    dc_lookback_bars: int = 7
    dc_min_magnitude_bps: float = 0.75
    dc_skip_contradicts: bool = True
    dc_leverage_boost: float = 1.0
    dc_leverage_reduce: float = 0.5
    use_asset_selection: bool = True
    min_irp_alignment: float = 0.45
    use_sp_fees: bool = True
    use_sp_slippage: bool = True
    sp_maker_entry_rate: float = 0.62
    sp_maker_exit_rate: float = 0.50
    use_ob_edge: bool = True
    ob_edge_bps: float = 5.0
    ob_confirm_rate: float = 0.40
    lookback: int = 100
    use_alpha_layers: bool = True
    use_dynamic_leverage: bool = True
    seed: int = 42

    def to_kwargs(self) -> dict[str, Any]:
        """Return the parameters as engine keyword arguments."""
        return asdict(self)


assert EngineConfig().to_kwargs() == _ENGINE_KWARGS, "EngineConfig defaults drifted from ENGINE_KWARGS"
