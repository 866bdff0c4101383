"""External execution: intents out, venue fills in; the books follow the venue's numbers."""

import numpy as np
import pytest
from support.engine_frames import ASSETS6
from support.engine_frames import SIGNAL_BAR

from nautilus_dolphin.config import ENGINE_KWARGS
from nautilus_dolphin.engine import EntryEvent
from nautilus_dolphin.engine import ExitEvent
from nautilus_dolphin.engine import ExitIntent
from nautilus_dolphin.engine import create_d_liq_engine

KW = {**ENGINE_KWARGS, "use_ob_edge": False, "use_sp_slippage": False}


def _stream(eng, frame, on_event):
    eng.set_assets(ASSETS6)
    eng.begin_day("2026-01-01")
    for i, row in frame.iterrows():
        prices = {a: row[a] for a in ASSETS6}
        for ev in eng.step_bar(i, row["vel_div"], prices, True, 0.0, 0.0, 0.0):
            on_event(eng, ev, prices)
    eng.end_day()


def test_external_fills_reproduce_internal_books(frame):
    frame.loc[SIGNAL_BAR + 10 :, "AAAUSDT"] *= 1.012
    internal = create_d_liq_engine(**KW)
    _stream(internal, frame, lambda *_: None)
    seen = []

    def venue(eng, ev, prices):  # fills at the reference price with the engine's own fee schedule
        seen.append(type(ev).__name__)
        if isinstance(ev, EntryEvent):
            fee = ev.quantity * ev.price * (0.0002 if ev.maker else 0.0005)
            eng.on_entry_filled(ev.price, ev.quantity, fee)
        elif isinstance(ev, ExitIntent):
            px = prices[ev.asset]
            rec = eng.on_exit_filled(px, ev.quantity * px * (0.0002 if ev.maker else 0.0005))
            seen.append(rec.exit_reason)

    external = create_d_liq_engine(**KW, external_fills=True)
    _stream(external, frame, venue)
    assert seen == ["EntryEvent", "ExitIntent", "FIXED_TP"]
    assert [t.to_dict() for t in external.trade_history] == [t.to_dict() for t in internal.trade_history]
    assert external.capital == pytest.approx(internal.capital, rel=1e-12)


def test_rejected_entry_leaves_engine_flat(frame):
    def reject(eng, ev, prices):
        if isinstance(ev, EntryEvent):
            eng.on_entry_rejected()

    eng = create_d_liq_engine(**KW, external_fills=True)
    _stream(eng, frame, reject)
    assert eng.position is None
    assert eng.trade_history == []
    assert eng.capital == 25000.0
    assert eng.counters["entry_rejected"] == 1


def test_rejected_exit_is_retried_next_bar(frame):
    frame.loc[SIGNAL_BAR + 10 :, "AAAUSDT"] *= 1.012
    attempts = []

    def venue(eng, ev, prices):
        if isinstance(ev, EntryEvent):
            eng.on_entry_filled(ev.price, ev.quantity, 0.0)
        elif isinstance(ev, ExitIntent):
            attempts.append(ev)
            if len(attempts) == 1:
                eng.on_exit_rejected()
            else:
                eng.on_exit_filled(prices[ev.asset], 0.0)

    eng = create_d_liq_engine(**KW, external_fills=True)
    _stream(eng, frame, venue)
    assert len(attempts) == 2
    assert eng.trade_history[0].exit_bar == SIGNAL_BAR + 11
    assert isinstance(attempts[0], ExitIntent) and attempts[0].reason == "FIXED_TP"


def test_size_increments_floor_the_quantity(frame):
    eng = create_d_liq_engine(**KW, size_increments={a: 1.0 for a in ASSETS6})
    eng.process_day("2026-01-01", frame, ASSETS6, vol_regime_ok=np.ones(len(frame), bool))
    tr = eng.trade_history[0]
    assert tr.quantity == np.floor(tr.notional / frame.loc[SIGNAL_BAR, "AAAUSDT"])
    assert isinstance(ExitEvent(tr), ExitEvent)


def test_size_below_one_increment_blocks_the_entry(frame):
    eng = create_d_liq_engine(**KW, size_increments={a: 1e6 for a in ASSETS6})
    eng.process_day("2026-01-01", frame, ASSETS6, vol_regime_ok=np.ones(len(frame), bool))
    assert eng.trade_history == [] and eng.counters["blocked_size"] == 1


def test_state_round_trip_resumes_the_position(frame):
    frame.loc[SIGNAL_BAR + 10 :, "AAAUSDT"] *= 1.012
    ref = create_d_liq_engine(**KW)
    ref.process_day("2026-01-01", frame, ASSETS6, vol_regime_ok=np.ones(len(frame), bool))

    first = create_d_liq_engine(**KW)
    first.set_assets(ASSETS6)
    first.begin_day("2026-01-01")
    rows = frame[ASSETS6].to_numpy()
    for i in range(SIGNAL_BAR + 3):
        first.step_bar_row(i, frame.loc[i, "vel_div"], rows[i], True, 0.0, 0.0)
    state = first.export_state()
    assert state["position"]["asset"] == "AAAUSDT"

    second = create_d_liq_engine(**KW)  # a restart: fresh engine, saved state
    second.set_assets(ASSETS6)
    second.import_state(state)
    second.begin_day("2026-01-01")
    for i in range(SIGNAL_BAR + 3, len(frame)):
        second.step_bar_row(i, frame.loc[i, "vel_div"], rows[i], True, 0.0, 0.0)
    assert len(second.trade_history) == 1
    got, want = second.trade_history[0], ref.trade_history[0]
    assert (got.exit_bar, got.exit_reason, got.entry_bar) == (want.exit_bar, want.exit_reason, want.entry_bar)
    assert second.capital == pytest.approx(ref.capital, rel=1e-12)


def test_adopt_position_rejects_unknown_asset_and_double_adoption():
    eng = create_d_liq_engine(**KW)
    eng.set_assets(ASSETS6)
    with pytest.raises(ValueError, match="not in the engine's universe"):
        eng.adopt_position("ZZZUSDT", 1, 1.0, 1.0)
    eng.adopt_position("AAAUSDT", 1, 100.0, 10.0)
    assert eng.position.stop_pct == pytest.approx(0.95 / 9)
    with pytest.raises(RuntimeError, match="already holds"):
        eng.adopt_position("BBBUSDT", 1, 100.0, 10.0)
