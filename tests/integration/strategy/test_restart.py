"""Restart recovery in a real BacktestEngine: a new strategy instance resumes the SAME venue position.

The first instance is stopped mid-position and removed through Nautilus's ``Controller`` while the
engine keeps running (streaming runs); a second instance with the same strategy id is created with
the first one's state (``save``/``load``, or the ``state_path`` file) and must manage that position
to its exit instead of opening another. Also: a denied entry leaves the engine flat and consistent.
"""

import json
import os

import pytest
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.config import ImportableControllerConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import TradingState
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import Venue
from support.engine_frames import ASSETS6
from support.engine_frames import SCENARIO_OVERRIDES
from support.engine_frames import SIGNAL_BAR
from support.engine_frames import nautilus_objects_for_frame
from support.engine_frames import scenario_trade_frame

from strategies.config import DolphinStrategyConfig
from strategies.dolphin_strategy import DolphinStrategy
from strategies.venue import add_binance_usdtm_venue

OVERRIDES = SCENARIO_OVERRIDES
CAPITAL = 25000.0
CONTROLLER = ImportableControllerConfig(
    controller_path="nautilus_trader.trading.controller:Controller",
    config_path="nautilus_trader.common.config:ActorConfig",
    config={},
)


def _frame():
    return scenario_trade_frame()  # take profit from bar 160


def _config(**cfg) -> DolphinStrategyConfig:
    return DolphinStrategyConfig(assets=tuple(ASSETS6), engine_overrides=OVERRIDES, subscribe_quotes=False, **cfg)


def _engine(df):
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True), controller=CONTROLLER))
    add_binance_usdtm_venue(engine, CAPITAL, parity=True)
    instruments, quotes, scans, dtype = nautilus_objects_for_frame(df, ASSETS6)
    for inst in instruments:
        engine.add_instrument(inst)
    return engine, quotes, [CustomData(dtype, s) for s in scans]


def _add_window(engine, quotes, scans, lo: int, hi: int) -> None:
    engine.clear_data()
    engine.add_data([q for q in quotes if lo < q.ts_init <= hi])
    engine.add_data([s for s in scans if lo < s.ts_init <= hi], client_id=ClientId("SCAN"))


def _restart(df, config_a, config_b, split_bar: int = SIGNAL_BAR + 5, between=None, transfer_state=True):
    """Run A up to ``split_bar``, stop and remove it, start B (same strategy id), run the rest."""
    engine, quotes, scans = _engine(df)
    t_split = int(df["timestamp"].astype("int64").iloc[split_bar])
    a = DolphinStrategy(config_a)
    engine.add_strategy(a)
    _add_window(engine, quotes, scans, -1, t_split)
    engine.run(streaming=True)
    controller = engine.kernel._controller  # Nautilus's runtime add/remove of strategies
    controller.stop_strategy(a)
    state = a.save()
    controller.remove_strategy(a)
    if between is not None:
        between(a)
    b = DolphinStrategy(config_b)
    if transfer_state:
        b.load(state)
    controller.create_strategy(b, start=True)
    _add_window(engine, quotes, scans, t_split, 2**62)
    engine.run(streaming=True)
    engine.end()
    return engine, a, b


def _uninterrupted(df):
    engine, quotes, scans = _engine(df)
    strat = DolphinStrategy(_config())
    engine.add_strategy(strat)
    _add_window(engine, quotes, scans, -1, 2**62)
    engine.run()
    return engine, strat


def _assert_same_position_managed_to_exit(engine, a, b):
    assert a.id == b.id
    orders = engine.cache.orders(strategy_id=b.id)
    assert [o.side for o in orders] == [OrderSide.BUY, OrderSide.SELL]  # one entry (A), one exit (B)
    assert orders[1].is_reduce_only and orders[1].status == OrderStatus.FILLED
    assert orders[0].quantity == orders[1].quantity
    assert b.counters["orders_entry"] == 0 and b.counters["orders_exit"] == 1
    trades = b.engine.trade_history
    assert len(trades) == 1 and trades[0].exit_reason == "FIXED_TP"
    assert trades[0].entry_bar == SIGNAL_BAR and trades[0].exit_bar == SIGNAL_BAR + 10
    assert b.engine.position is None
    assert b.venue_position_qty("AAAUSDT") == 0.0
    assert engine.cache.positions_open() == []
    balance = float(engine.portfolio.account(Venue("BINANCE")).balance_total().as_double())
    assert b.engine.capital == pytest.approx(balance, rel=1e-9)
    ref_engine, ref = _uninterrupted(_frame())
    try:
        assert [t.key() for t in trades] == [t.key() for t in ref.engine.trade_history]
        assert b.engine.capital == pytest.approx(ref.engine.capital, rel=1e-9)
    finally:
        ref_engine.dispose()


@pytest.mark.timeout(120)
def test_restart_with_saved_strategy_state_resumes_the_same_position():
    engine, a, b = _restart(_frame(), _config(), _config())
    try:
        assert a.engine.position is not None  # A was stopped mid-position
        assert b.counters["adopted_positions"] == 0  # restored from state, not adopted
        assert b.counters["position_mismatch"] == 0
        _assert_same_position_managed_to_exit(engine, a, b)
    finally:
        engine.dispose()


@pytest.mark.timeout(120)
def test_restart_from_the_state_file_resumes_the_same_position(tmp_path):
    path = tmp_path / "state" / "dolphin.json"
    seen = {}

    def inspect_file(a):
        seen["doc"] = json.loads(path.read_text())
        seen["files"] = sorted(os.listdir(path.parent))

    engine, a, b = _restart(_frame(), _config(state_path=str(path)), _config(state_path=str(path)),
                            between=inspect_file, transfer_state=False)
    try:
        doc = seen["doc"]
        assert seen["files"] == ["dolphin.json"]  # atomic write leaves no temp file
        assert doc["mode"] == "TRADE" and doc["engine"]["position"]["asset"] == "AAAUSDT"
        assert doc["engine"]["position"]["entry_bar"] == SIGNAL_BAR
        assert doc["guard"]["trades"] and not doc["guard"]["killed"]
        assert b.counters["adopted_positions"] == 0
        _assert_same_position_managed_to_exit(engine, a, b)
        final = json.loads(path.read_text())
        assert final["engine"]["position"] is None and final["engine"]["trade_seq"] == 1
        assert b.counters["state_writes"] >= 2  # the exit fill and the stop
    finally:
        engine.dispose()


@pytest.mark.timeout(120)
def test_restart_without_state_adopts_the_venue_position_and_exits_it():
    engine, _, b = _restart(_frame(), _config(), _config(), transfer_state=False)
    try:
        assert b.counters["adopted_positions"] == 1
        orders = engine.cache.orders(strategy_id=b.id)
        assert [o.side for o in orders] == [OrderSide.BUY, OrderSide.SELL]
        assert orders[1].is_reduce_only and orders[1].quantity == orders[0].quantity
        assert len(b.engine.trade_history) == 1
        assert b.engine.trade_history[0].exit_reason == "FIXED_TP"
        assert engine.cache.positions_open() == []
    finally:
        engine.dispose()


@pytest.mark.timeout(120)
def test_state_quantity_disagreeing_with_the_venue_is_reported_and_the_venue_quantity_managed(tmp_path):
    path = tmp_path / "dolphin.json"

    def corrupt(a):
        doc = json.loads(path.read_text())
        doc["engine"]["position"]["quantity"] = 50.0  # e.g. a late partial fill the state missed
        path.write_text(json.dumps(doc))

    engine, _, b = _restart(_frame(), _config(state_path=str(path)), _config(state_path=str(path)),
                            between=corrupt, transfer_state=False)
    try:
        assert b.counters["position_mismatch"] == 1
        orders = engine.cache.orders(strategy_id=b.id)
        assert len(orders) == 2 and orders[1].quantity == orders[0].quantity  # the venue's 53.566
        assert engine.cache.positions_open() == []
    finally:
        engine.dispose()


@pytest.mark.timeout(120)
def test_denied_entry_leaves_the_engine_flat_and_consistent(tmp_path):
    path = tmp_path / "dolphin.json"
    df = _frame()
    engine, quotes, scans = _engine(df)
    strat = DolphinStrategy(_config(state_path=str(path)))
    engine.add_strategy(strat)
    t_warm = int(df["timestamp"].astype("int64").iloc[100])
    _add_window(engine, quotes, scans, -1, t_warm)
    engine.run(streaming=True)
    # Nautilus's own RiskEngine, HALTED (e.g. by an operator), denies the entry order
    engine.kernel.risk_engine.set_trading_state(TradingState.HALTED)
    _add_window(engine, quotes, scans, t_warm, 2**62)
    engine.run(streaming=True)
    engine.end()
    try:
        orders = engine.cache.orders(strategy_id=strat.id)
        assert len(orders) == 1 and orders[0].status == OrderStatus.DENIED
        assert [d["kind"] for d in strat.decisions] == ["ENTRY"]
        assert strat.counters["rejected"] == 1
        assert strat.engine.counters["entry_rejected"] == 1
        assert strat.engine.position is None and strat.engine.capital == CAPITAL
        assert strat.engine.trade_history == []
        assert strat.venue_position_qty("AAAUSDT") == 0.0
        assert json.loads(path.read_text())["engine"]["position"] is None
    finally:
        engine.dispose()
