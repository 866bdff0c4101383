"""Metrics pinned by hand-computed numbers (the arithmetic is written out in the comments)."""

import math
from collections.abc import Callable

import pytest

from nautilus_dolphin.backtest.metrics import SHARPE_PERIODS_PER_YEAR
from nautilus_dolphin.backtest.metrics import calmar
from nautilus_dolphin.backtest.metrics import compute_metrics
from nautilus_dolphin.backtest.metrics import max_drawdown_pct
from nautilus_dolphin.backtest.metrics import profit_factor
from nautilus_dolphin.backtest.metrics import roi_pct
from nautilus_dolphin.backtest.metrics import sharpe_ratio
from nautilus_dolphin.backtest.metrics import trade_equity_curve
from nautilus_dolphin.backtest.metrics import win_rate_pct
from nautilus_dolphin.engine.records import NDTradeRecord

TradeFactory = Callable[..., NDTradeRecord]


def test_roi_pct() -> None:
    # 25,000 -> 70,452.5 is +181.81 %
    assert roi_pct(25_000.0, 70_452.5) == pytest.approx(181.81, abs=1e-9)
    assert roi_pct(100.0, 90.0) == pytest.approx(-10.0)
    with pytest.raises(ValueError, match="initial_capital"):
        roi_pct(0.0, 1.0)


def test_max_drawdown_two_troughs_takes_the_deeper() -> None:
    # peak 120 -> 90 is 30/120 = 25 %; peak 130 -> 117 is 13/130 = 10 %
    assert max_drawdown_pct([100.0, 120.0, 90.0, 130.0, 117.0]) == pytest.approx(25.0)


def test_max_drawdown_monotone_and_short_curves_are_zero() -> None:
    assert max_drawdown_pct([100.0, 101.0, 150.0]) == 0.0
    assert max_drawdown_pct([100.0]) == 0.0
    assert max_drawdown_pct([]) == 0.0


def test_max_drawdown_rejects_non_finite() -> None:
    with pytest.raises(ValueError, match="non-finite"):
        max_drawdown_pct([100.0, math.nan, 90.0])


def test_calmar_is_roi_over_dd_and_zero_without_dd() -> None:
    assert calmar(181.81, 17.65) == pytest.approx(10.3008, abs=1e-4)
    assert calmar(5.0, 0.0) == 0.0


def test_profit_factor(make_trade: TradeFactory) -> None:
    trade = make_trade
    # gross profit 30 + 20 = 50, gross loss 10 + 5 = 15 -> 3.3333
    trades = [trade(1, 30.0), trade(2, -10.0), trade(3, 20.0), trade(4, -5.0)]
    assert profit_factor(trades) == pytest.approx(50.0 / 15.0)
    assert profit_factor([trade(1, 5.0)]) == math.inf
    assert profit_factor([]) == 0.0
    assert profit_factor([trade(1, -5.0)]) == 0.0


def test_win_rate_counts_only_positive_pnl(make_trade: TradeFactory) -> None:
    trade = make_trade
    trades = [trade(1, 30.0), trade(2, -10.0), trade(3, 0.0), trade(4, 1e-9)]
    assert win_rate_pct(trades) == pytest.approx(50.0)
    assert win_rate_pct([]) == 0.0


def test_sharpe_daily_annualised_with_sqrt_365() -> None:
    # r = [0.01, -0.01, 0.02]: mean 0.0066667, sample std 0.0152753, ratio 0.436436,
    # x sqrt(365) = 19.104973 -> 8.33809
    assert SHARPE_PERIODS_PER_YEAR == 365
    assert sharpe_ratio([0.01, -0.01, 0.02]) == pytest.approx(8.33809, abs=1e-5)
    assert sharpe_ratio([0.01]) == 0.0
    assert sharpe_ratio([0.01, 0.01, 0.01]) == 0.0


def test_trade_equity_curve_orders_by_trade_id(make_trade: TradeFactory) -> None:
    trade = make_trade
    curve = trade_equity_curve(1000.0, [trade(2, -50.0), trade(1, 150.0)])
    assert curve.tolist() == [1000.0, 1150.0, 1100.0]


def _days() -> list[dict]:
    return [
        {"date": "2026-01-01", "capital_start": 1000.0, "capital_end": 1100.0, "mc_status": "OK",
         "bars": 100, "bars_skipped": 1},
        {"date": "2026-01-02", "capital_start": 1100.0, "capital_end": 990.0, "mc_status": "RED",
         "bars": 100, "bars_skipped": 0},
        {"date": "2026-01-03", "capital_start": 990.0, "capital_end": 1045.0, "mc_status": "ORANGE",
         "bars": 90, "bars_skipped": 2},
    ]


def test_compute_metrics_pinned(make_trade: TradeFactory) -> None:
    trade = make_trade
    trades = [
        trade(1, 150.0, leverage=2.0, fees=1.0),
        trade(2, -50.0, leverage=4.0, fees=2.0, exit_reason="MAX_HOLD"),
        trade(3, -110.0, leverage=6.0, fees=3.0, exit_reason="STOP_LOSS", liq_stop=True),
        trade(4, 55.0, leverage=8.0, fees=4.0),
    ]
    m = compute_metrics(trades, _days())
    assert m.initial_capital == 1000.0
    assert m.final_capital == 1045.0
    assert m.pnl == pytest.approx(45.0)
    assert m.roi_pct == pytest.approx(4.5)
    # daily curve 1000, 1100, 990, 1045: (1100 - 990) / 1100 = 10 %
    assert m.max_dd_pct == pytest.approx(10.0)
    # trade curve 1000, 1150, 1100, 990, 1045: (1150 - 990) / 1150 = 13.913043 %
    assert m.max_dd_trade_pct == pytest.approx(13.913043, abs=1e-6)
    assert m.calmar == pytest.approx(0.45)
    # 205 / 160
    assert m.profit_factor == pytest.approx(1.28125)
    assert m.win_rate_pct == pytest.approx(50.0)
    # r = [0.1, -0.1, 0.0555556]: mean 0.0185185, sample std 0.1050181 -> 0.176336 x 19.104973
    assert m.sharpe == pytest.approx(3.36890, abs=1e-5)
    assert (m.trades, m.wins, m.losses) == (4, 2, 2)
    assert m.liq_stops == 1
    assert m.avg_leverage == pytest.approx(5.0)
    assert m.max_leverage == 8.0
    assert (m.mc_red_days, m.mc_orange_days) == (1, 1)
    assert m.fees == pytest.approx(10.0)
    assert (m.days, m.bars, m.bars_skipped) == (3, 290, 3)
    assert m.exit_reasons["FIXED_TP"] == 2
    assert m.exit_reasons["MAX_HOLD"] == 1
    assert m.exit_reasons["STOP_LOSS"] == 1
    assert m.exit_reasons["HIBERNATE_HALT"] == 0


def test_compute_metrics_explicit_initial_capital_counts_a_first_day_loss() -> None:
    days = [{"date": "2026-01-01", "capital_start": 900.0, "capital_end": 900.0}]
    m = compute_metrics([], days, initial_capital=1000.0)
    assert m.roi_pct == pytest.approx(-10.0)
    assert m.max_dd_pct == pytest.approx(10.0)
    assert m.trades == 0 and m.avg_leverage == 0.0 and m.profit_factor == 0.0


def test_compute_metrics_bad_input() -> None:
    with pytest.raises(ValueError, match="no days"):
        compute_metrics([], [])
    with pytest.raises(ValueError, match="capital_end"):
        compute_metrics([], [{"date": "2026-01-01", "capital_start": 1.0}])
