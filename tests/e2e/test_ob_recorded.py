"""Recorded synthetic books vs the Mock provider (issue 4 / seed 000 §9).

The spec predicts that with the Mock provider the cascade regime is always CALM and
OB_TAIL_AVOIDANCE never fires, while books that react to the market (here the synthetic market's
recorded snapshots, which thin out before cascades) leave CALM and trigger tail exits.
"""

from collections import Counter

import pytest

from nautilus_dolphin.backtest.harness import dataset_vol_p60
from nautilus_dolphin.backtest.harness import engine_factory_for
from nautilus_dolphin.backtest.harness import iter_vbt_days
from nautilus_dolphin.backtest.harness import list_vbt_dates
from nautilus_dolphin.backtest.harness import run_backtest
from nautilus_dolphin.obf.features import OBFeatureEngine
from nautilus_dolphin.obf.providers import MockOBProvider
from nautilus_dolphin.obf.providers import ParquetOBProvider
from nautilus_dolphin.obf.types import CASCADE_CALM

WINDOW = slice(0, 10)  # the first ten days hold several synthetic cascades


class RegimeCounter:
    """Wraps a real OBFeatureEngine and counts the macro regime of every bar of each preloaded day."""

    def __init__(self, ob: OBFeatureEngine) -> None:
        self.ob = ob
        self.regimes: Counter = Counter()

    def __getattr__(self, name):
        return getattr(self.ob, name)

    def preload_date(self, date_str, assets, bar_timestamps=None):
        self.ob.preload_date(date_str, assets, bar_timestamps=bar_timestamps)
        for i in range(len(bar_timestamps)):
            self.regimes[self.ob.get_macro(i).cascade_regime] += 1


def _run(vdir, ob):
    dates = list_vbt_dates(vdir)[WINDOW]
    return run_backtest(engine_factory_for("d_liq"), iter_vbt_days(vdir, dates), vol_p60=dataset_vol_p60(vdir),
                        ob_engine=ob, acb=False, forewarner=False)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_recorded_books_leave_calm_and_trigger_tail_exits(default_catalog):
    vdir = default_catalog / "vbt_cache"
    mock = RegimeCounter(OBFeatureEngine(MockOBProvider(assets=list_assets(vdir))))
    r_mock = _run(vdir, mock)
    recorded = RegimeCounter(OBFeatureEngine(ParquetOBProvider(vdir)))
    r_rec = _run(vdir, recorded)
    assert set(mock.regimes) == {CASCADE_CALM}
    assert not any(t.exit_reason == "OB_TAIL_AVOIDANCE" for t in r_mock.trades)
    assert set(recorded.regimes) - {CASCADE_CALM}, "recorded books never left CALM"
    assert sum(t.exit_reason == "OB_TAIL_AVOIDANCE" for t in r_rec.trades) >= 1
    again = _run(vdir, OBFeatureEngine(ParquetOBProvider(vdir)))
    assert [t.to_dict() for t in again.trades] == [t.to_dict() for t in r_rec.trades]


def list_assets(vdir):
    import pandas as pd

    from nautilus_dolphin.data.schema import asset_columns

    first = sorted(vdir.glob("*.parquet"))[0]
    return asset_columns(list(pd.read_parquet(first).columns))
