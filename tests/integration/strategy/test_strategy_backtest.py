"""DolphinStrategy in a real BacktestEngine: orders, fills and the engine's books."""

import numpy as np
import pytest
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import Venue
from support.engine_frames import ASSETS6
from support.engine_frames import SCENARIO_OVERRIDES
from support.engine_frames import SIGNAL_BAR
from support.engine_frames import nautilus_objects_for_frame
from support.engine_frames import scenario_trade_frame

from nautilus_dolphin.config import ENGINE_KWARGS
from nautilus_dolphin.engine import create_d_liq_engine
from strategies.config import DolphinStrategyConfig
from strategies.dolphin_strategy import DolphinStrategy
from strategies.venue import add_binance_usdtm_venue

OVERRIDES = SCENARIO_OVERRIDES


def _frame(tp: bool = True):
    return scenario_trade_frame(tp=tp)


def _run(df, mode: str = "TRADE", spread_ticks: int = 0, **cfg):
    """DolphinStrategy over the frame in a BacktestEngine; quotes ``spread_ticks`` either side of the price."""
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True)))
    add_binance_usdtm_venue(engine, 25000.0, parity=True)
    instruments, quotes, scans, dtype = nautilus_objects_for_frame(df, ASSETS6, spread_ticks=spread_ticks)
    for inst in instruments:
        engine.add_instrument(inst)
    engine.add_data(quotes)
    engine.add_data([CustomData(dtype, s) for s in scans], client_id=ClientId("SCAN"))
    config = DolphinStrategyConfig(assets=tuple(ASSETS6), engine_overrides=OVERRIDES, subscribe_quotes=False,
                                   mode=mode, **cfg)
    strat = DolphinStrategy(config)
    engine.add_strategy(strat)
    engine.run()
    return engine, strat


def _standalone(df):
    eng = create_d_liq_engine(**{**ENGINE_KWARGS, **OVERRIDES}, size_increments={a: 0.001 for a in ASSETS6})
    eng.process_day("2026-01-01", df, ASSETS6, vol_regime_ok=np.arange(len(df)) >= 100)
    return eng


@pytest.mark.timeout(120)
def test_entry_and_take_profit_match_the_standalone_engine():
    df = _frame()
    engine, strat = _run(df)
    try:
        ref = _standalone(df)
        got = strat.engine.trade_history
        assert [t.key() for t in got] == [t.key() for t in ref.trade_history]
        assert len(got) == 1 and got[0].exit_reason == "FIXED_TP"
        fills = engine.trader.generate_order_fills_report()
        assert len(fills) == 2
        account = engine.portfolio.account(Venue("BINANCE"))
        balance = float(account.balance_total().as_double())
        assert strat.engine.capital == pytest.approx(balance, rel=1e-9)
        assert strat.engine.capital == pytest.approx(ref.capital, rel=1e-9)
        assert strat.venue_position_qty("AAAUSDT") == 0.0
    finally:
        engine.dispose()


@pytest.mark.timeout(120)
def test_open_position_equals_venue_position():
    df = _frame(tp=False).iloc[: SIGNAL_BAR + 20].copy()
    engine, strat = _run(df)
    try:
        assert strat.engine.position is not None
        assert strat.engine_position_qty("AAAUSDT") == pytest.approx(strat.venue_position_qty("AAAUSDT"))
        assert strat.venue_position_qty("AAAUSDT") > 0
    finally:
        engine.dispose()


@pytest.mark.timeout(120)
def test_shadow_mode_sends_no_orders_but_records_decisions():
    df = _frame()
    engine, strat = _run(df, mode="SHADOW")
    try:
        assert engine.cache.orders() == []
        kinds = [d["kind"] for d in strat.decisions]
        assert kinds == ["ENTRY", "EXIT"]
        assert strat.engine.trade_history[0].exit_reason == "FIXED_TP"
    finally:
        engine.dispose()


@pytest.mark.timeout(120)
def test_low_quality_scan_does_not_trade():
    df = _frame()
    df.loc[SIGNAL_BAR, ["BBBUSDT", "CCCUSDT"]] = np.nan  # 4/6 valid prices < 0.9
    engine, strat = _run(df)
    try:
        assert engine.cache.orders() == []
        assert strat.counters["low_quality"] == 1
        assert strat.engine.trade_history == []
    finally:
        engine.dispose()


def _run_maker(df, **cfg):
    """Quotes 5 ticks either side of the frame price and maker-first entries (20 s timeout)."""
    return _run(df, spread_ticks=5, order_style="maker_limit", limit_timeout_secs=20.0, **cfg)


@pytest.mark.timeout(120)
def test_maker_entry_times_out_then_falls_back_to_market():
    """The price runs away from the resting post-only bid: cancel after the timeout, then a market entry."""
    df = _frame()  # AAA rises 1.2 % ten scans after the signal: the mid-price bid never fills
    engine, strat = _run_maker(df)
    try:
        orders = sorted(engine.cache.orders(), key=lambda o: o.ts_init)
        kinds = [(o.order_type.name, o.side.name, o.is_post_only, o.is_reduce_only, o.status.name) for o in orders]
        assert kinds[:2] == [("LIMIT", "BUY", True, False, "CANCELED"), ("MARKET", "BUY", False, False, "FILLED")]
        assert strat.counters["limit_timeouts"] == 1 and strat.counters["rejected"] == 0
        # the cancel came limit_timeout_secs (20 s = 4 scans) after the limit was placed
        canceled = orders[0]
        assert canceled.ts_last - canceled.ts_init == pytest.approx(20e9, abs=5e9)
        trades = strat.engine.trade_history
        assert len(trades) == 1 and trades[0].entry_bar == SIGNAL_BAR
        # the fallback filled at the ask (5 ticks above the scan price of its fill time), as a taker
        assert trades[0].quantity == pytest.approx(float(orders[1].filled_qty))
        balance = float(engine.portfolio.account(Venue("BINANCE")).balance_total().as_double())
        assert strat.engine.capital == pytest.approx(balance, rel=1e-9)
        assert strat.venue_position_qty("AAAUSDT") == 0.0 and strat.engine.position is None
    finally:
        engine.dispose()


@pytest.mark.timeout(120)
def test_maker_entry_rests_and_fills_when_the_ask_comes_down():
    """The ask dips through the resting bid two scans after the signal: the limit fills as maker."""
    df = _frame()
    df.loc[SIGNAL_BAR + 2 : SIGNAL_BAR + 3, "AAAUSDT"] = (df.loc[SIGNAL_BAR, "AAAUSDT"] * 0.998).round(4)
    engine, strat = _run_maker(df)
    try:
        orders = sorted(engine.cache.orders(), key=lambda o: o.ts_init)
        entry = orders[0]
        assert (entry.order_type.name, entry.status.name, entry.is_post_only) == ("LIMIT", "FILLED", True)
        assert strat.counters["limit_timeouts"] == 0
        fills = engine.trader.generate_order_fills_report()
        assert fills.iloc[0]["liquidity_side"] == "MAKER"
        trade = strat.engine.trade_history[0]
        assert trade.entry_price == pytest.approx(float(entry.price))  # filled at its own limit price
        balance = float(engine.portfolio.account(Venue("BINANCE")).balance_total().as_double())
        assert strat.engine.capital == pytest.approx(balance, rel=1e-9)
    finally:
        engine.dispose()
