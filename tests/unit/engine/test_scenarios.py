"""Scenario tests on hand-built frames: each exit reason at the expected bar."""

import numpy as np
import pytest
from support.engine_frames import ASSETS6
from support.engine_frames import SIGNAL_BAR
from support.engine_frames import FakeForewarner
from support.engine_frames import scenario_frame

from nautilus_dolphin.config import ENGINE_KWARGS
from nautilus_dolphin.config import MC_BASE_CFG
from nautilus_dolphin.engine import EntryEvent
from nautilus_dolphin.engine import ExitEvent
from nautilus_dolphin.engine import NDAlphaEngine
from nautilus_dolphin.engine import create_d_liq_engine

KW = {**ENGINE_KWARGS, "use_ob_edge": False}
ALL_OK = None


def _engine(**over):
    return create_d_liq_engine(**{**KW, **over})


def _vrok(df):
    return np.ones(len(df), dtype=bool)


def test_entry_then_take_profit(frame):
    frame.loc[SIGNAL_BAR + 10 :, "AAAUSDT"] = frame.loc[SIGNAL_BAR, "AAAUSDT"] * 1.012
    eng = _engine()
    eng.process_day("2026-01-01", frame, ASSETS6, vol_regime_ok=_vrok(frame))
    assert len(eng.trade_history) == 1
    tr = eng.trade_history[0]
    assert (tr.asset, tr.direction, tr.entry_bar, tr.exit_bar, tr.exit_reason) == (
        "AAAUSDT",
        1,
        SIGNAL_BAR,
        SIGNAL_BAR + 10,
        "FIXED_TP",
    )
    # size 0.5 + 7.5 * (1/3)^3 = 0.77778; DC neutral; proxy rank 0 -> boost 1.35
    assert tr.leverage == pytest.approx((0.5 + 7.5 / 27) * 1.35)
    assert tr.notional == pytest.approx(25000.0 * 0.20 * tr.leverage)
    assert tr.pnl == pytest.approx(tr.quantity * (tr.exit_price - tr.entry_price) - tr.fees)
    assert eng.capital == pytest.approx(25000.0 + tr.pnl)


def test_max_hold_exit(frame):
    eng = _engine()
    eng.process_day("2026-01-01", frame, ASSETS6, vol_regime_ok=_vrok(frame))
    tr = eng.trade_history[0]
    assert tr.exit_reason == "MAX_HOLD"
    assert tr.exit_bar == SIGNAL_BAR + 120
    assert tr.bars_held == 120


def test_liquidation_guard_stop(frame):
    entry = frame.loc[SIGNAL_BAR, "AAAUSDT"]
    frame.loc[SIGNAL_BAR + 5, "AAAUSDT"] = entry * (1 - 0.105)  # just inside the guard
    frame.loc[SIGNAL_BAR + 6 :, "AAAUSDT"] = entry * (1 - 0.11)  # past 10.56 %
    eng = _engine()
    eng.process_day("2026-01-01", frame, ASSETS6, vol_regime_ok=_vrok(frame))
    tr = eng.trade_history[0]
    assert (tr.exit_reason, tr.exit_bar, tr.liq_stop) == ("STOP_LOSS", SIGNAL_BAR + 6, True)
    assert eng.liq_stops == 1


def test_plain_engine_has_no_liquidation_guard(frame):
    entry = frame.loc[SIGNAL_BAR, "AAAUSDT"]
    frame.loc[SIGNAL_BAR + 6 :, "AAAUSDT"] = entry * (1 - 0.11)
    eng = NDAlphaEngine(**KW)
    eng.process_day("2026-01-01", frame, ASSETS6, vol_regime_ok=_vrok(frame))
    assert eng.trade_history[0].exit_reason == "MAX_HOLD"  # stop_pct = 1.0 is effectively off
    assert eng.liq_stops == 0


def test_mc_red_day_halts_and_closes_with_hibernate(frame):
    fw = FakeForewarner(["OK", "RED"])
    eng = _engine(max_hold_bars=10_000)
    eng.set_mc_forewarner(fw, MC_BASE_CFG)
    eng.process_day("2026-01-01", frame, ASSETS6, vol_regime_ok=_vrok(frame))
    assert eng.position is not None and eng.trade_history == []
    day2 = eng.process_day("2026-01-02", scenario_frame(), ASSETS6, vol_regime_ok=_vrok(frame))
    tr = eng.trade_history[0]
    assert (tr.exit_reason, tr.exit_date, tr.exit_bar) == ("HIBERNATE_HALT", "2026-01-02", 0)
    assert len(eng.trade_history) == 1, "no entries on a RED day"
    assert day2["mc_status"] == "RED"
    assert eng.counters["blocked_halt"] >= 1


def test_lever_swap_mc_sees_reference_leverage(frame):
    fw = FakeForewarner(["OK"])
    eng = _engine()
    eng.set_mc_forewarner(fw, MC_BASE_CFG)
    eng.begin_day("2026-01-01")
    assert fw.seen[0]["max_leverage"] == 5.0
    assert fw.seen[0]["abs_max_leverage"] == 5.0
    assert eng.mc_seen_leverage == 5.0
    assert (eng.base_max_leverage, eng.abs_max_leverage, eng.bet_sizer.max_leverage) == (8.0, 9.0, 8.0)


def test_no_entry_when_vol_regime_not_ok(frame):
    eng = _engine()
    eng.process_day("2026-01-01", frame, ASSETS6, vol_regime_ok=np.zeros(len(frame), bool))
    assert eng.trade_history == [] and eng.position is None
    assert eng.counters["blocked_vol"] == 1


def test_nan_vel_div_rows_are_skipped_and_counted(frame):
    frame.loc[10:19, "vel_div"] = np.nan
    frame.loc[20, "vel_div"] = np.inf
    eng = _engine()
    day = eng.process_day("2026-01-01", frame, ASSETS6, vol_regime_ok=_vrok(frame))
    assert day["bars_skipped"] == 11
    assert day["bars"] == len(frame) - 11


def test_bad_prices_exclude_the_asset_not_the_bar(frame):
    frame.loc[SIGNAL_BAR, "AAAUSDT"] = -1.0  # rejected: AAA cannot be picked at the signal bar
    frame.loc[SIGNAL_BAR - 3, "FFFUSDT"] = np.nan  # missing: excluded for that bar only, not counted as bad
    eng = _engine()
    eng.process_day("2026-01-01", frame, ASSETS6, vol_regime_ok=_vrok(frame))
    assert eng.counters["bad_prices"] == 1
    assert eng.trade_history[0].asset == "BBBUSDT"
    assert all(np.isfinite(t.pnl) for t in eng.trade_history)


def test_streaming_api_matches_process_day(frame):
    frame.loc[SIGNAL_BAR + 10 :, "AAAUSDT"] *= 1.012
    batch = _engine()
    batch.process_day("2026-01-01", frame, ASSETS6, vol_regime_ok=_vrok(frame))
    stream = _engine()
    stream.set_assets(ASSETS6)
    stream.begin_day("2026-01-01")
    events = []
    for i, row in frame.iterrows():
        prices = {a: row[a] for a in ASSETS6}
        events += stream.step_bar(i, row["vel_div"], prices, True, 0.0, row["v750_lambda_max_velocity"],
                                  row["instability_50"])
    stream.end_day()
    assert [t.to_dict() for t in stream.trade_history] == [t.to_dict() for t in batch.trade_history]
    assert isinstance(events[0], EntryEvent) and isinstance(events[1], ExitEvent)
    assert events[0].asset == "AAAUSDT"


def test_step_bar_outside_a_day_is_an_error():
    with pytest.raises(RuntimeError, match="begin_day"):
        _engine().step_bar(0, -0.03, {"AAAUSDT": 1.0})
