"""RiskGuard: every limit blocks with its reason, sliding windows, kill switch, state round-trip."""

import json

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_dolphin.risk.guard import NS_PER_DAY
from nautilus_dolphin.risk.guard import NS_PER_SEC
from nautilus_dolphin.risk.guard import REASONS
from nautilus_dolphin.risk.guard import RiskGuard
from nautilus_dolphin.risk.guard import RiskGuardConfig

T0 = 20_454 * NS_PER_DAY + 3_600 * NS_PER_SEC  # 2026-01-01 01:00 UTC


def _entry(guard: RiskGuard, now: int = T0, **kw):
    args = {"asset": "BTCUSDT", "notional": 1000.0, "leverage": 3.0, "open_positions": 0,
            "price_age_s": 1.0, "snapshot_age_s": 1.0}
    args.update(kw)
    return guard.check_entry(now, **args)


def test_defaults_allow_an_ordinary_entry():
    guard = RiskGuard()
    assert _entry(guard).ok
    assert guard.counters == dict.fromkeys(REASONS, 0)


@pytest.mark.parametrize(
    ("config", "entry", "reason"),
    [
        ({"max_leverage": 5.0}, {"leverage": 5.5}, "max_leverage"),
        ({"max_position_notional": 500.0}, {"notional": 500.01}, "max_position_notional"),
        ({"max_open_positions": 1}, {"open_positions": 1}, "max_open_positions"),
        ({"max_price_age_secs": 15.0}, {"price_age_s": 15.5}, "stale_price"),
        ({}, {"price_age_s": None}, "stale_price"),
        ({"max_snapshot_age_secs": 5.0}, {"snapshot_age_s": 6.0}, "stale_snapshot"),
        ({"max_snapshot_age_secs": 5.0}, {"snapshot_age_s": None}, "stale_snapshot"),
    ],
)
def test_each_limit_blocks_with_its_reason(config, entry, reason):
    guard = RiskGuard(RiskGuardConfig(**config))
    verdict = _entry(guard, **entry)
    assert not verdict.ok
    assert verdict.reason == reason
    assert guard.counters[reason] == 1
    assert sum(guard.counters.values()) == 1


def test_snapshot_age_is_not_checked_by_default():
    assert _entry(RiskGuard(), snapshot_age_s=None).ok


def test_max_leverage_is_clipped_to_the_engine_cap():
    guard = RiskGuard(RiskGuardConfig(max_leverage=20.0), abs_max_leverage=6.0)
    assert guard.max_leverage == 6.0
    assert _entry(guard, leverage=6.0).ok
    assert _entry(guard, leverage=6.01).reason == "max_leverage"


def test_order_rate_blocks_entries_and_slides():
    guard = RiskGuard(RiskGuardConfig(max_orders_per_minute=3, max_trades_per_hour=100))
    for k in range(3):
        guard.record_order(T0 + k * NS_PER_SEC)
    assert _entry(guard, now=T0 + 10 * NS_PER_SEC).reason == "order_rate"
    assert not guard.check_order_rate(T0 + 10 * NS_PER_SEC).ok
    assert guard.counters["order_rate"] == 1  # check_order_rate itself does not count
    # the first order leaves the 60 s window exactly 60 s later
    assert guard.check_order_rate(T0 + 60 * NS_PER_SEC).ok
    assert _entry(guard, now=T0 + 60 * NS_PER_SEC).ok


def test_trade_rate_blocks_and_slides():
    guard = RiskGuard(RiskGuardConfig(max_trades_per_hour=2))
    guard.record_trade(T0)
    guard.record_trade(T0 + 600 * NS_PER_SEC)
    assert _entry(guard, now=T0 + 1800 * NS_PER_SEC).reason == "trade_rate"
    assert _entry(guard, now=T0 + 3600 * NS_PER_SEC).ok


def test_kill_switch_trips_at_the_limit_and_rearms_next_utc_day():
    guard = RiskGuard(RiskGuardConfig(daily_drawdown_kill_pct=0.10))
    assert guard.on_equity(T0, 10_000.0) is False
    assert guard.day_start_equity == 10_000.0
    assert guard.on_equity(T0 + NS_PER_SEC, 9_001.0) is False
    assert guard.on_equity(T0 + 2 * NS_PER_SEC, 9_000.0) is True  # exactly 10 %
    assert guard.killed and "daily drawdown" in guard.kill_reason
    assert guard.on_equity(T0 + 3 * NS_PER_SEC, 8_000.0) is False  # trips once
    assert _entry(guard, now=T0 + 4 * NS_PER_SEC).reason == "kill_switch"
    late = (T0 // NS_PER_DAY + 1) * NS_PER_DAY - 1
    assert _entry(guard, now=late).reason == "kill_switch"  # still the same UTC day
    next_day = (T0 // NS_PER_DAY + 1) * NS_PER_DAY
    assert _entry(guard, now=next_day).ok
    assert not guard.killed
    guard.on_equity(next_day, 8_000.0)
    assert guard.day_start_equity == 8_000.0
    assert guard.counters["kill_switch"] == 2


def test_reset_rearms_and_takes_a_new_starting_equity():
    guard = RiskGuard(RiskGuardConfig(daily_drawdown_kill_pct=0.05))
    guard.on_equity(T0, 100.0)
    assert guard.on_equity(T0 + 1, 90.0)
    guard.reset()
    assert not guard.killed and guard.kill_reason is None
    assert _entry(guard, now=T0 + 2).ok
    assert guard.on_equity(T0 + 3, 90.0) is False
    assert guard.day_start_equity == 90.0
    assert guard.on_equity(T0 + 4, 85.0) is True


def test_manual_trip_halts_entries():
    guard = RiskGuard()
    guard.trip(T0, "operator")
    assert _entry(guard).reason == "kill_switch"


def test_export_import_round_trip_through_json():
    guard = RiskGuard(RiskGuardConfig(max_orders_per_minute=2, daily_drawdown_kill_pct=0.1))
    guard.on_equity(T0, 1000.0)
    guard.record_order(T0)
    guard.record_order(T0 + 1)
    guard.record_trade(T0)
    _entry(guard, now=T0 + 2)  # order_rate block counted
    guard.on_equity(T0 + 3, 800.0)
    state = json.loads(json.dumps(guard.export_state()))
    other = RiskGuard(RiskGuardConfig(max_orders_per_minute=2, daily_drawdown_kill_pct=0.1))
    other.import_state(state)
    assert other.export_state() == guard.export_state()
    assert other.killed and other.day_start_equity == 1000.0 and other.day == "2026-01-01"
    assert other.counters["order_rate"] == 1
    other.reset()
    assert _entry(other, now=T0 + 4).reason == "order_rate"  # the window survived the restart


def test_import_rejects_other_versions():
    with pytest.raises(ValueError, match="version"):
        RiskGuard().import_state({"version": 99})


def test_from_mapping_rejects_unknown_keys():
    with pytest.raises(ValueError, match=r"max_leverag'.*known"):
        RiskGuardConfig.from_mapping({"max_leverag": 3.0})
    cfg = RiskGuardConfig.from_mapping({"max_leverage": 3.0, "max_snapshot_age_secs": 5.0})
    assert cfg.max_leverage == 3.0 and cfg.max_snapshot_age_secs == 5.0
    assert RiskGuardConfig.from_mapping(None) == RiskGuardConfig()
    assert RiskGuardConfig.from_mapping(cfg.to_dict()) == cfg


@pytest.mark.parametrize(
    "bad",
    [{"max_leverage": 0.0}, {"max_open_positions": 0}, {"max_orders_per_minute": 1.5},
     {"daily_drawdown_kill_pct": 0.0}, {"daily_drawdown_kill_pct": 1.5}, {"max_price_age_secs": -1.0},
     {"max_position_notional": -5.0}, {"max_snapshot_age_secs": 0.0}, {"max_trades_per_hour": True}],
)
def test_invalid_values_are_rejected(bad):
    with pytest.raises(ValueError):
        RiskGuardConfig(**bad)


@settings(max_examples=200, deadline=None)
@given(
    limit=st.integers(min_value=1, max_value=6),
    gaps=st.lists(st.integers(min_value=0, max_value=40 * NS_PER_SEC), min_size=1, max_size=60),
)
def test_order_rate_window_matches_a_brute_force_sliding_window(limit, gaps):
    """Accept an order iff fewer than ``limit`` accepted orders lie in (t - 60 s, t]."""
    guard = RiskGuard(RiskGuardConfig(max_orders_per_minute=limit))
    accepted: list[int] = []
    now = T0
    for gap in gaps:
        now += gap
        expected = sum(1 for t in accepted if t > now - 60 * NS_PER_SEC) < limit
        assert guard.check_order_rate(now).ok is expected
        if expected:
            guard.record_order(now)
            accepted.append(now)


@settings(max_examples=100, deadline=None)
@given(
    limit=st.integers(min_value=1, max_value=5),
    gaps=st.lists(st.integers(min_value=0, max_value=1800 * NS_PER_SEC), min_size=1, max_size=40),
)
def test_trade_rate_window_matches_a_brute_force_sliding_window(limit, gaps):
    guard = RiskGuard(RiskGuardConfig(max_trades_per_hour=limit, max_orders_per_minute=1000))
    trades: list[int] = []
    now = T0
    for gap in gaps:
        now += gap
        expected = sum(1 for t in trades if t > now - 3600 * NS_PER_SEC) < limit
        verdict = _entry(guard, now=now)
        assert verdict.ok is expected
        if expected:
            guard.record_trade(now)
            trades.append(now)
        else:
            assert verdict.reason == "trade_rate"
