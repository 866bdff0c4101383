"""Live cache eviction: exactly the last 500 bars survive, in O(1) per bar."""

import pytest

from nautilus_dolphin.obf.features import OBFeatureEngine
from nautilus_dolphin.obf.types import OBPlacementFeatures

T0 = 1_767_225_600.0


@pytest.mark.parametrize("n_bars", [501, 10_000])
def test_eviction_keeps_exactly_last_500(fake_provider, snap_factory, n_bars):
    fake_provider.books["BTCUSDT"] = snap_factory(asset="BTCUSDT")
    fake_provider.books["ETHUSDT"] = snap_factory(asset="ETHUSDT")
    eng = OBFeatureEngine(fake_provider)
    for bar in range(n_bars):
        eng.step_live(["BTCUSDT", "ETHUSDT"], bar, timestamp=T0 + 5 * bar)
    assert eng.live_bars() == list(range(n_bars - 500, n_bars))
    oldest_kept, newest = n_bars - 500, n_bars - 1
    assert eng._resolve_idx("BTCUSDT", oldest_kept) == oldest_kept
    assert eng._resolve_idx("BTCUSDT", oldest_kept - 1) == newest  # evicted -> latest
    assert eng.get_placement("ETHUSDT", oldest_kept) != OBPlacementFeatures()
    assert eng.stats()["live_bars_cached"] == 500


def test_restepping_a_bar_overwrites_and_counts_once(fake_provider, snap_factory):
    fake_provider.books["BTCUSDT"] = snap_factory(bid_total=600_000.0, ask_total=400_000.0)
    eng = OBFeatureEngine(fake_provider, max_live_cache=3)
    for bar in (0, 1, 2):
        eng.step_live(["BTCUSDT"], bar, timestamp=T0 + bar)
    fake_provider.books["BTCUSDT"] = snap_factory(bid_total=400_000.0, ask_total=600_000.0)
    eng.step_live(["BTCUSDT"], 1, timestamp=T0 + 3)  # same bar again (e.g. a replayed scan)
    assert eng.live_bars() == [0, 2, 1]
    assert eng.get_signal("BTCUSDT", 1).imbalance == pytest.approx(-0.2)
    eng.step_live(["BTCUSDT"], 3, timestamp=T0 + 4)
    assert eng.live_bars() == [2, 1, 3]  # the least recently stored bar went first
