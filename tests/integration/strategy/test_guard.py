"""DolphinStrategy's risk guard in a real BacktestEngine: blocks, kill switch, stale data, phantom positions."""

import pytest
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Quantity
from nautilus_trader.trading.strategy import Strategy
from support.engine_frames import ASSETS6
from support.engine_frames import SCENARIO_OVERRIDES
from support.engine_frames import SIGNAL_BAR
from support.engine_frames import nautilus_objects_for_frame
from support.engine_frames import scenario_frame
from support.engine_frames import scenario_trade_frame

from nautilus_dolphin.risk.guard import NS_PER_SEC
from nautilus_dolphin.risk.guard import REASONS
from strategies.config import DolphinStrategyConfig
from strategies.config import risk_engine_config
from strategies.data_types import DolphinScan
from strategies.dolphin_strategy import DolphinStrategy
from strategies.venue import add_binance_usdtm_venue

OVERRIDES = SCENARIO_OVERRIDES
CAPITAL = 25000.0
SIGNAL_TS = int(scenario_frame(n=SIGNAL_BAR + 1)["timestamp"].astype("int64").iloc[SIGNAL_BAR])


def _frame(n: int = 320, tp: bool = False, crash: float | None = None, signals: tuple[int, ...] = ()):
    return scenario_trade_frame(n=n, tp=tp, crash=crash, signals=signals)


class ExternalTraderFake(Strategy):
    """Named fake at the outer edge: another trader's market BUY on the shared account (BBBUSDT)."""

    def __init__(self) -> None:
        super().__init__(StrategyConfig(strategy_id="ExternalTraderFake-001"))
        self.iid = InstrumentId.from_str("BBBUSDT-PERP.BINANCE")
        self.sent = False

    def on_start(self) -> None:
        self.subscribe_quote_ticks(self.iid)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        if not self.sent:
            self.sent = True
            self.submit_order(self.order_factory.market(self.iid, OrderSide.BUY, Quantity.from_str("1.000")))


def _run(df, mode: str = "TRADE", scan_delay_s: float = 0.0, before=None, extra=None, **cfg):
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True),
                                                 risk_engine=risk_engine_config(cfg.get("risk"))))
    add_binance_usdtm_venue(engine, CAPITAL, parity=True)
    instruments, quotes, scans, dtype = nautilus_objects_for_frame(df, ASSETS6)
    if scan_delay_s:
        # scans delivered late: ts_init (arrival) scan_delay_s after ts_event (the scanner's time)
        delay = int(scan_delay_s * NS_PER_SEC)
        scans = [DolphinScan(ts_event=s.ts_event - delay, ts_init=s.ts_init, scan_number=s.scan_number,
                             vel_div=s.vel_div, v750_lambda_max_velocity=s.v750_lambda_max_velocity,
                             instability_50=s.instability_50, prices=s.prices) for s in scans]
    for inst in instruments:
        engine.add_instrument(inst)
    engine.add_data(quotes)
    engine.add_data([CustomData(dtype, s) for s in scans], client_id=ClientId("SCAN"))
    config = DolphinStrategyConfig(assets=tuple(ASSETS6), engine_overrides=OVERRIDES, subscribe_quotes=False,
                                   mode=mode, **cfg)
    strat = DolphinStrategy(config)
    if before is not None:
        before(strat)
    if extra is not None:
        engine.add_strategy(extra)
    engine.add_strategy(strat)
    engine.run()
    return engine, strat


def _dolphin_orders(engine, strat):
    return engine.cache.orders(strategy_id=strat.id)


def _assert_blocked_flat(engine, strat, reason: str):
    kinds = [d["kind"] for d in strat.decisions]
    assert kinds == ["ENTRY", "BLOCKED"], kinds
    blocked = strat.decisions[1]
    assert blocked["reason"] == reason and blocked["asset"] == strat.decisions[0]["asset"]
    assert _dolphin_orders(engine, strat) == []
    assert strat.engine.position is None
    assert strat.engine.capital == CAPITAL
    assert strat.engine.trade_history == []
    assert strat.counters["blocked"] == 1
    if reason in REASONS:
        assert strat.guard_blocks[reason] == 1
        assert sum(strat.guard_blocks.values()) == 1


@pytest.mark.timeout(120)
def test_defaults_do_not_block_the_scenario_trade():
    engine, strat = _run(_frame(tp=True))
    try:
        assert [d["kind"] for d in strat.decisions] == ["ENTRY", "EXIT_INTENT"]
        assert sum(strat.guard_blocks.values()) == 0
        assert len(_dolphin_orders(engine, strat)) == 2
    finally:
        engine.dispose()


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("risk", "reason"),
    [
        ({"max_leverage": 1.0}, "max_leverage"),  # the engine wants 1.05x: blocked, not resized
        ({"max_position_notional": 1000.0}, "max_position_notional"),  # the engine wants ~5250 USDT
    ],
)
def test_entry_limits_block_what_the_engine_wanted(risk, reason):
    engine, strat = _run(_frame(tp=True), risk=risk)
    try:
        assert strat.decisions[0]["leverage"] == pytest.approx(1.05)
        _assert_blocked_flat(engine, strat, reason)
    finally:
        engine.dispose()


def _seed_orders(strat):  # two orders 30 s before the signal (e.g. restored from state after a restart)
    strat.guard.record_order(SIGNAL_TS - 30 * NS_PER_SEC)
    strat.guard.record_order(SIGNAL_TS - 20 * NS_PER_SEC)


def _seed_trade(strat):
    strat.guard.record_trade(SIGNAL_TS - 3000 * NS_PER_SEC)


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("risk", "seed", "reason"),
    [
        ({"max_orders_per_minute": 2}, _seed_orders, "order_rate"),
        ({"max_trades_per_hour": 1}, _seed_trade, "trade_rate"),
    ],
)
def test_rate_limits_block_an_entry(risk, seed, reason):
    engine, strat = _run(_frame(tp=True), risk=risk, before=seed)
    try:
        _assert_blocked_flat(engine, strat, reason)
    finally:
        engine.dispose()


@pytest.mark.timeout(120)
def test_stale_price_blocks_entry():
    engine, strat = _run(_frame(tp=True), scan_delay_s=20.0)  # default max_price_age_secs = 15
    try:
        _assert_blocked_flat(engine, strat, "stale_price")
        assert "20.0 s" in strat.decisions[1]["detail"]
    finally:
        engine.dispose()


@pytest.mark.timeout(120)
def test_fresh_enough_scans_still_trade():
    engine, strat = _run(_frame(tp=True), scan_delay_s=10.0)
    try:
        assert [d["kind"] for d in strat.decisions] == ["ENTRY", "EXIT_INTENT"]
        assert strat.engine.trade_history[0].exit_reason == "FIXED_TP"
    finally:
        engine.dispose()


@pytest.mark.timeout(120)
def test_kill_switch_flattens_with_reduce_only_and_halts_entries_for_the_day():
    # long AAA at bar 150, AAA falls 5 % at bar 155: day drawdown ~1.06 % > 0.5 %; later signals at 180, 230
    engine, strat = _run(_frame(crash=0.05, signals=(180, 230)), risk={"daily_drawdown_kill_pct": 0.005})
    try:
        kinds = [d["kind"] for d in strat.decisions]
        assert kinds == ["ENTRY", "KILL_SWITCH", "ENTRY", "BLOCKED", "ENTRY", "BLOCKED"], kinds
        assert strat.decisions[1]["bar"] == SIGNAL_BAR + 5
        assert [d["reason"] for d in strat.decisions if d["kind"] == "BLOCKED"] == ["kill_switch"] * 2
        assert strat.guard.killed and strat.counters["kill_switch_trips"] == 1
        assert strat.guard_blocks["kill_switch"] == 2
        orders = _dolphin_orders(engine, strat)
        assert len(orders) == 2
        exit_order = max(orders, key=lambda o: o.ts_init)
        assert exit_order.order_type == OrderType.MARKET and exit_order.is_reduce_only
        assert exit_order.side == OrderSide.SELL and exit_order.is_closed
        trades = strat.engine.trade_history
        assert len(trades) == 1 and trades[0].exit_reason == "KILL_SWITCH" and trades[0].exit_bar == 155
        assert strat.engine.position is None
        assert strat.venue_position_qty("AAAUSDT") == 0.0
    finally:
        engine.dispose()


@pytest.mark.timeout(120)
def test_reset_kill_switch_allows_entries_again():
    def reset_after_trip(strat):
        original = strat._on_kill_switch

        def trip_then_reset(bar_idx, now):
            original(bar_idx, now)
            strat.reset_kill_switch()  # the operator's manual reset, right after the trip

        strat._on_kill_switch = trip_then_reset

    engine, strat = _run(_frame(crash=0.05, signals=(180,)), risk={"daily_drawdown_kill_pct": 0.005},
                         before=reset_after_trip)
    try:
        kinds = [d["kind"] for d in strat.decisions]
        assert kinds[:3] == ["ENTRY", "KILL_SWITCH", "ENTRY"] and "BLOCKED" not in kinds
        assert not strat.guard.killed
        assert len(_dolphin_orders(engine, strat)) >= 3  # the second entry went out
    finally:
        engine.dispose()


@pytest.mark.timeout(120)
def test_shadow_mode_records_the_same_blocks_without_orders():
    engine, strat = _run(_frame(tp=True), mode="SHADOW", risk={"max_leverage": 1.0})
    try:
        _assert_blocked_flat(engine, strat, "max_leverage")
        assert engine.cache.orders() == []
    finally:
        engine.dispose()


@pytest.mark.timeout(120)
def test_unknown_venue_position_is_reported_and_no_other_is_opened():
    fake = ExternalTraderFake()
    engine, strat = _run(_frame(tp=True), extra=fake)
    try:
        assert fake.sent and strat.venue_position_qty("BBBUSDT") == pytest.approx(1.0)
        _assert_blocked_flat(engine, strat, "position_mismatch")
        assert strat.counters["position_mismatch"] == 1  # reported once, not once per scan
        assert sum(strat.guard_blocks.values()) == 0
    finally:
        engine.dispose()


def test_risk_engine_config_from_the_guard_limits():
    cfg = risk_engine_config({"max_orders_per_minute": 12, "max_position_notional": 1000.0},
                             instrument_ids=["BTCUSDT-PERP.BINANCE"])
    assert cfg.max_order_submit_rate == "24/00:01:00"
    assert cfg.max_notional_per_order == {"BTCUSDT-PERP.BINANCE": 1250}
    assert risk_engine_config(None).max_notional_per_order == {}
    with pytest.raises(ValueError, match="unknown risk guard setting"):
        risk_engine_config({"max_orders_per_min": 3})


def test_snapshot_age_limit_needs_live_order_books():
    with pytest.raises(ValueError, match="ob_mode='live'"):
        DolphinStrategy(DolphinStrategyConfig(risk={"max_snapshot_age_secs": 5.0}))


def test_unknown_risk_key_is_rejected_by_the_strategy():
    with pytest.raises(ValueError, match="max_lev"):
        DolphinStrategy(DolphinStrategyConfig(risk={"max_lev": 2.0}))


