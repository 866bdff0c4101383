"""``backtest_run_config``: a real ``BacktestNode`` run over the catalog equals the day-batched runner."""

import pytest
from nautilus_trader.backtest.node import BacktestNode

from strategies.backtest import NautilusRunConfig
from strategies.backtest import run_nautilus_backtest
from strategies.backtest_node import backtest_run_config
from strategies.catalog import DolphinCatalog


def _trade_keys(trades) -> list[tuple]:
    return [(t.asset, t.direction, t.entry_date, t.entry_bar, t.exit_bar, t.exit_reason, round(t.leverage, 9))
            for t in trades]


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_backtest_node_run_equals_the_day_batched_runner(small_catalog) -> None:
    day = DolphinCatalog(small_catalog).days[0]
    run_config = backtest_run_config(small_catalog, start=day, end=day, fees="binance")
    node = BacktestNode(configs=[run_config])
    try:
        [result] = node.run()
        engine = node.get_engine(run_config.id)
        strategy = engine.trader.strategies()[0]
        node_trades = list(strategy.engine.trade_history)
        node_capital = strategy.engine.capital
        assert result.total_orders == 2 * len(node_trades) > 0
        assert strategy.counters["scans"] > 2000 and strategy.counters["rejected"] == 0
    finally:
        node.dispose()

    ref = run_nautilus_backtest(
        NautilusRunConfig(catalog=small_catalog, start=day, end=day, realistic=True, ob="none", acb=False,
                          forewarner=False)
    )
    assert _trade_keys(node_trades) == _trade_keys(ref.trades)
    assert node_capital == pytest.approx(ref.final_capital, rel=1e-9)


def test_backtest_run_config_rejects_bad_input(small_catalog, tmp_path) -> None:
    with pytest.raises(ValueError, match="fees must be one of"):
        backtest_run_config(small_catalog, fees="zero")
    with pytest.raises(ValueError, match="no catalog days"):
        backtest_run_config(small_catalog, start="2030-01-01")
    with pytest.raises((ValueError, FileNotFoundError)):
        backtest_run_config(tmp_path / "nothing")
