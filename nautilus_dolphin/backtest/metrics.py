"""Backtest metrics from the engine's trade records and day dicts.

Pure functions: nothing here touches the engine, files or clocks. Definitions (all stated so that a
result can be recomputed by hand):

- ``roi_pct`` = ``(final_capital / initial_capital - 1) * 100``; ``initial_capital`` is the first
  day's ``capital_start`` (or the value passed in), ``final_capital`` the last day's ``capital_end``.
- ``max_dd_pct`` (the reported DD) is the maximum drawdown of the **daily** equity curve
  ``[initial_capital, capital_end(day 1), ..., capital_end(day N)]``: the largest
  ``(peak - equity) / peak * 100`` with ``peak`` the running maximum. This is the drawdown the gold
  harness reports (capital sampled per day, as in §8 ``_run_engine``).
- ``max_dd_trade_pct`` is the same on the **per-trade** equity curve
  ``[initial_capital, initial_capital + pnl_1, initial_capital + pnl_1 + pnl_2, ...]`` (trades in
  ``trade_id`` order). Intraday dips between trades of one day show up here and not in the daily
  curve, so it is >= the daily figure whenever each day's P&L comes only from that day's trades.
- ``calmar`` = ``roi_pct / max_dd_pct`` (0.0 when there is no drawdown), the gold Calmar.
- ``profit_factor`` = gross profit / gross loss of the trades' net ``pnl`` (``inf`` when there
  are winning trades and no loss, 0.0 with no trades).
- ``win_rate_pct`` = trades with ``pnl > 0`` over all trades, in percent; ``wins`` counts those
  trades and ``losses`` the rest (``pnl <= 0``).
- ``sharpe`` = ``mean(r) / std(r, ddof=1) * sqrt(365)`` over the daily returns
  ``r_d = capital_end / capital_start - 1`` (crypto trades every day, hence 365; no risk-free
  rate); 0.0 with fewer than two days or zero dispersion.
- ``avg_leverage`` = arithmetic mean of the trades' ``leverage`` (the gold ``avg_leverage``).
- ``liq_stops`` = trades flagged ``liq_stop`` (liquidation-guard stops).
- ``mc_red_days`` / ``mc_orange_days`` = days whose ``mc_status`` is ``RED`` / ``ORANGE``.
- ``fees`` = total fees of the closed trades (USDT).
"""

import math
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import numpy as np

from nautilus_dolphin.engine.records import EXIT_REASONS
from nautilus_dolphin.engine.records import NDTradeRecord

SHARPE_PERIODS_PER_YEAR: int = 365
"""Daily returns are annualised with sqrt(365): crypto perpetuals trade every calendar day."""


def roi_pct(initial_capital: float, final_capital: float) -> float:
    """Return the return on the initial capital, in percent."""
    if initial_capital <= 0:
        raise ValueError(f"initial_capital must be positive, got {initial_capital!r}")
    return (final_capital / initial_capital - 1.0) * 100.0


def max_drawdown_pct(equity: Sequence[float] | np.ndarray) -> float:
    """Return the maximum peak-to-trough drawdown of an equity curve, in percent of the peak.

    ``equity`` is the curve in time order, starting with the initial capital. Returns 0.0 for a
    curve that never falls below a previous peak (or has fewer than two points).
    """
    eq = np.asarray(equity, dtype=np.float64)
    if eq.size < 2:
        return 0.0
    if not np.all(np.isfinite(eq)):
        raise ValueError("equity curve contains non-finite values")
    peak = np.maximum.accumulate(eq)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = np.where(peak > 0, (peak - eq) / peak, 0.0)
    return float(dd.max()) * 100.0


def daily_equity_curve(initial_capital: float, days: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Return ``[initial_capital, capital_end of each day...]``."""
    return np.array([initial_capital, *[float(d["capital_end"]) for d in days]], dtype=np.float64)


def trade_equity_curve(initial_capital: float, trades: Sequence[NDTradeRecord]) -> np.ndarray:
    """Return ``[initial_capital, initial_capital + cumulative net pnl after each trade...]``."""
    ordered = sorted(trades, key=lambda t: t.trade_id)
    pnl = np.array([t.pnl for t in ordered], dtype=np.float64)
    return np.concatenate(([initial_capital], initial_capital + np.cumsum(pnl)))


def calmar(roi: float, max_dd: float) -> float:
    """Return ``roi / max_dd`` (both in percent); 0.0 when there is no drawdown."""
    return roi / max_dd if max_dd > 0 else 0.0


def profit_factor(trades: Sequence[NDTradeRecord]) -> float:
    """Return gross profit / gross loss of the trades' net pnl (``inf`` with no losing trade)."""
    gross_profit = sum(t.pnl for t in trades if t.pnl > 0)
    gross_loss = -sum(t.pnl for t in trades if t.pnl < 0)
    if gross_loss > 0:
        return gross_profit / gross_loss
    return math.inf if gross_profit > 0 else 0.0


def win_rate_pct(trades: Sequence[NDTradeRecord]) -> float:
    """Return the share of trades with ``pnl > 0``, in percent (0.0 with no trades)."""
    if not trades:
        return 0.0
    return sum(1 for t in trades if t.pnl > 0) / len(trades) * 100.0


def daily_returns(days: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Return ``capital_end / capital_start - 1`` per day."""
    return np.array(
        [float(d["capital_end"]) / float(d["capital_start"]) - 1.0 for d in days], dtype=np.float64
    )


def sharpe_ratio(returns: Sequence[float] | np.ndarray, periods_per_year: int = SHARPE_PERIODS_PER_YEAR) -> float:
    """Return ``mean / std(ddof=1) * sqrt(periods_per_year)``; 0.0 if undefined (< 2 points, std 0)."""
    r = np.asarray(returns, dtype=np.float64)
    if r.size < 2:
        return 0.0
    sd = float(np.std(r, ddof=1))
    if not sd > 0:
        return 0.0
    return float(np.mean(r)) / sd * math.sqrt(periods_per_year)


@dataclass(frozen=True, slots=True)
class BacktestMetrics:
    """The summary figures of one backtest (definitions in the module docstring)."""

    initial_capital: float
    final_capital: float
    pnl: float
    roi_pct: float
    max_dd_pct: float
    max_dd_trade_pct: float
    calmar: float
    profit_factor: float
    win_rate_pct: float
    sharpe: float
    trades: int
    wins: int
    losses: int
    liq_stops: int
    avg_leverage: float
    max_leverage: float
    mc_red_days: int
    mc_orange_days: int
    fees: float
    days: int
    bars: int
    bars_skipped: int
    exit_reasons: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the metrics as a plain dict (summary.json)."""
        return asdict(self)


def compute_metrics(
    trades: Sequence[NDTradeRecord],
    days: Sequence[Mapping[str, Any]],
    initial_capital: float | None = None,
) -> BacktestMetrics:
    """Compute every metric from the trade list and the day dicts (contracts §5 keys).

    Parameters
    ----------
    trades
        Closed trades (``engine.trade_history``).
    days
        Day dicts in date order (``engine.day_history`` or ``process_day`` results).
    initial_capital
        Capital before the first day; defaults to the first day's ``capital_start``.

    Raises
    ------
    ValueError
        When there are no days and no ``initial_capital``, or a day dict lacks a needed key.
    """
    if initial_capital is None:
        if not days:
            raise ValueError("compute_metrics: no days and no initial_capital")
        initial_capital = float(days[0]["capital_start"])
    for i, d in enumerate(days):
        for key in ("capital_start", "capital_end"):
            if key not in d:
                raise ValueError(f"compute_metrics: day {i} ({d.get('date', '?')}) lacks {key!r}")
    final = float(days[-1]["capital_end"]) if days else float(initial_capital)
    roi = roi_pct(initial_capital, final)
    dd = max_drawdown_pct(daily_equity_curve(initial_capital, days))
    dd_trade = max_drawdown_pct(trade_equity_curve(initial_capital, trades))
    reasons = {r: 0 for r in EXIT_REASONS}
    for t in trades:
        reasons[t.exit_reason] = reasons.get(t.exit_reason, 0) + 1
    lev = [t.leverage for t in trades]
    return BacktestMetrics(
        initial_capital=float(initial_capital),
        final_capital=final,
        pnl=final - float(initial_capital),
        roi_pct=roi,
        max_dd_pct=dd,
        max_dd_trade_pct=dd_trade,
        calmar=calmar(roi, dd),
        profit_factor=profit_factor(trades),
        win_rate_pct=win_rate_pct(trades),
        sharpe=sharpe_ratio(daily_returns(days)),
        trades=len(trades),
        wins=sum(1 for t in trades if t.pnl > 0),
        losses=sum(1 for t in trades if t.pnl <= 0),
        liq_stops=sum(1 for t in trades if t.liq_stop),
        avg_leverage=float(np.mean(lev)) if lev else 0.0,
        max_leverage=float(max(lev)) if lev else 0.0,
        mc_red_days=sum(1 for d in days if d.get("mc_status") == "RED"),
        mc_orange_days=sum(1 for d in days if d.get("mc_status") == "ORANGE"),
        fees=float(sum(t.fees for t in trades)),
        days=len(days),
        bars=int(sum(int(d.get("bars", 0)) for d in days)),
        bars_skipped=int(sum(int(d.get("bars_skipped", 0)) for d in days)),
        exit_reasons=reasons,
    )
