"""Parity: the Nautilus runner and the standalone harness agree on the same catalog window.

Parity configuration: zero-spread quotes, DolphinSPFeeModel, quantities floored to the
instruments' size increments on both sides, no engine slippage (a zero-spread venue cannot slip).
"""

import pytest

from nautilus_dolphin.backtest.harness import run_gold
from strategies.backtest import NautilusRunConfig
from strategies.backtest import run_nautilus_backtest
from strategies.catalog import DolphinCatalog


def _standalone(root, engine: str):
    increments = {
        i.id.symbol.value.removesuffix("-PERP"): float(i.size_increment) for i in DolphinCatalog(root).instruments()
    }
    return run_gold(root, engine=engine, forewarner=False,
                    engine_overrides={"size_increments": increments, "use_sp_slippage": False})


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("engine", ["d_liq", "baseline"])
def test_nautilus_runner_matches_standalone_harness(small_catalog, engine):
    nautilus = run_nautilus_backtest(NautilusRunConfig(catalog=small_catalog, engine=engine))
    standalone = _standalone(small_catalog, engine)
    assert len(standalone.trades) >= 10, "the window must trade for the comparison to mean anything"
    assert [t.key() for t in nautilus.trades] == [t.key() for t in standalone.trades]
    assert nautilus.final_capital == pytest.approx(standalone.final_capital, rel=1e-6)
    assert nautilus.venue_balance == pytest.approx(nautilus.final_capital, rel=1e-9)
    fills = nautilus.nautilus_reports["order_fills"]
    assert len(fills) == 2 * len(nautilus.trades) + (1 if nautilus.days[-1]["open_position"] else 0)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_nautilus_runner_is_deterministic(small_catalog):
    a = run_nautilus_backtest(NautilusRunConfig(catalog=small_catalog, days=2))
    b = run_nautilus_backtest(NautilusRunConfig(catalog=small_catalog, days=2))
    assert [t.to_dict() for t in a.trades] == [t.to_dict() for t in b.trades]
    assert a.final_capital == b.final_capital
