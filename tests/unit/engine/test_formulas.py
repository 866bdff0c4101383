"""Formulas the spec fixes, pinned with hand-computed numbers."""

import pytest

from nautilus_dolphin.config import ENGINE_KWARGS
from nautilus_dolphin.engine import AdaptiveBoostEngine
from nautilus_dolphin.engine import NDAlphaEngine
from nautilus_dolphin.engine import create_boost_engine
from nautilus_dolphin.engine import create_d_liq_engine
from nautilus_dolphin.kernels.direction import check_dc_nb
from nautilus_dolphin.kernels.sizing import compute_sizing_nb


def test_step2_leverage_state_d_liq():
    eng = create_d_liq_engine(**ENGINE_KWARGS)
    assert eng.base_max_leverage == 8.0
    assert eng.abs_max_leverage == 9.0
    assert eng.bet_sizer.max_leverage == 8.0
    eng.set_esoteric_hazard_multiplier(0.0)
    assert eng.base_max_leverage == 8.0, "hazard stomp is active"
    assert eng.bet_sizer.max_leverage == 8.0
    assert eng.abs_max_leverage == 9.0


def test_hazard_ceiling_plain_engine_is_six():
    eng = NDAlphaEngine(**ENGINE_KWARGS)
    assert eng.base_max_leverage == 5.0
    eng.set_esoteric_hazard_multiplier(0.0)
    assert eng.base_max_leverage == 6.0
    assert eng.bet_sizer.max_leverage == 6.0


@pytest.mark.parametrize(("hazard", "d_liq", "plain"), [(0.5, 5.5, 4.5), (1.0, 3.0, 3.0), (2.0, 3.0, 3.0)])
def test_hazard_scales_between_floor_and_ceiling(hazard, d_liq, plain):
    e1 = create_d_liq_engine(**ENGINE_KWARGS)
    e1.set_esoteric_hazard_multiplier(hazard)
    assert e1.base_max_leverage == pytest.approx(d_liq)  # 8 - h * (8 - 3)
    e2 = NDAlphaEngine(**ENGINE_KWARGS)
    e2.set_esoteric_hazard_multiplier(hazard)
    assert e2.base_max_leverage == pytest.approx(plain)  # 6 - h * (6 - 3)


def test_liquidation_stop_pct():
    eng = create_d_liq_engine(**ENGINE_KWARGS)
    assert eng.liq_stop_pct == pytest.approx(0.10556, abs=1e-5)
    assert eng.liq_stop_pct == pytest.approx((1 / 9) * 0.95)


@pytest.mark.parametrize(
    ("vel_div", "expected"),
    [
        (-0.02, 0.5),  # at the threshold: min leverage
        (-0.035, 0.5 + 7.5 * 0.5**3),  # strength 0.5 -> 1.4375
        (-0.05, 8.0),  # at the extreme: the sizer cap
        (-0.09, 8.0),  # beyond: clipped
    ],
)
def test_convex_sizing(vel_div, expected):
    assert compute_sizing_nb(vel_div, -0.02, -0.05, 0.5, 8.0, 3.0, True) == pytest.approx(expected)


def test_sizing_without_dynamic_leverage_is_the_cap():
    assert compute_sizing_nb(-0.021, -0.02, -0.05, 0.5, 8.0, 3.0, False) == 8.0


@pytest.mark.parametrize(
    ("prank", "beta", "adaptive", "expected"),
    [
        (0.0, 0.0, True, 1.35),  # 1 + 1.0 * (0.35 - 0)
        (0.10, 0.5, True, 1.375),  # 1 + 1.0 * 1.5 * 0.25
        (0.35, 2.0, True, 1.0),  # at the threshold: no boost
        (0.90, 0.0, True, 1.0),  # above: max(1, ...)
        (0.10, 0.5, False, 1.25),  # scale_boost ignores beta
    ],
)
def test_boost_scale(prank, beta, adaptive, expected):
    eng = AdaptiveBoostEngine(**ENGINE_KWARGS, adaptive_beta=adaptive)
    eng.day_beta = beta
    assert eng.boost_scale(prank) == pytest.approx(expected)


def test_direction_confirmation():
    assert check_dc_nb(100.0, 100.01, 1, 0.75) == 1  # +1.0 bps
    assert check_dc_nb(100.0, 99.99, 1, 0.75) == -1  # -1.0 bps
    assert check_dc_nb(100.0, 100.005, 1, 0.75) == 0  # +0.5 bps: neutral
    assert check_dc_nb(100.0, 99.99, -1, 0.75) == 1  # a short is confirmed by a fall
    assert check_dc_nb(float("nan"), 100.0, 1, 0.75) == 0


def test_leverage_clamp_formula():
    """clamped = min(base * regime * ob, abs); lev = min(size * dc * regime * ob, clamped)."""
    base, abs_cap = 8.0, 9.0
    size, dc, regime, ob = 8.0, 1.0, 1.6, 1.0
    clamped = min(base * regime * ob, abs_cap)
    assert clamped == 9.0
    assert min(size * dc * regime * ob, clamped) == 9.0
    size, regime, ob = 2.0, 1.2, 0.75
    assert min(size * dc * regime * ob, min(base * regime * ob, abs_cap)) == pytest.approx(1.8)


def test_factory_modes_and_bad_mode():
    assert type(create_boost_engine("baseline", **ENGINE_KWARGS)) is NDAlphaEngine
    assert create_boost_engine("d_liq", **ENGINE_KWARGS).abs_max_leverage == 9.0
    with pytest.raises(ValueError, match="unknown boost mode"):
        create_boost_engine("turbo", **ENGINE_KWARGS)
    with pytest.raises(TypeError):
        create_d_liq_engine(not_a_param=1)


def test_bad_parameters_are_rejected():
    with pytest.raises(ValueError, match="vel_div_extreme"):
        NDAlphaEngine(vel_div_threshold=-0.05, vel_div_extreme=-0.02)
    with pytest.raises(ValueError, match="initial_capital"):
        NDAlphaEngine(initial_capital=0)
