"""Standalone reference harness (spec 001 §8), metrics and trace writers.

Names are resolved lazily so that ``dolphin --help`` (which imports ``backtest.cli``) does not
load pandas or the engine.
"""

from typing import Any

_EXPORTS: dict[str, str] = {
    "BacktestResult": "nautilus_dolphin.backtest.harness",
    "run_backtest": "nautilus_dolphin.backtest.harness",
    "run_gold": "nautilus_dolphin.backtest.harness",
    "engine_factory_for": "nautilus_dolphin.backtest.harness",
    "BacktestMetrics": "nautilus_dolphin.backtest.metrics",
    "compute_metrics": "nautilus_dolphin.backtest.metrics",
    "TickTraceWriter": "nautilus_dolphin.backtest.traces",
    "write_trade_trace": "nautilus_dolphin.backtest.traces",
    "write_daily_trace": "nautilus_dolphin.backtest.traces",
    "write_summary": "nautilus_dolphin.backtest.traces",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
