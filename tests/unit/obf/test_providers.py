"""MockOBProvider (determinism, biases, never a cascade), ParquetOBProvider on a written file, and
preload_date == step_live on the same snapshot stream."""

import numpy as np
import pandas as pd
import pytest

from nautilus_dolphin.data.universe import ASSETS
from nautilus_dolphin.kernels import ob
from nautilus_dolphin.obf.features import OBFeatureEngine
from nautilus_dolphin.obf.providers import GOLD_IMBALANCE_BIASES
from nautilus_dolphin.obf.providers import OB_COLUMNS
from nautilus_dolphin.obf.providers import MockOBProvider
from nautilus_dolphin.obf.providers import ParquetOBProvider
from nautilus_dolphin.obf.providers import day_start
from nautilus_dolphin.obf.types import CASCADE_CALM
from nautilus_dolphin.obf.types import OBSnapshot

DAY = "2026-01-05"


def _gold_mock(**kw):
    return MockOBProvider(imbalance_bias=-0.09, depth_scale=1.0, assets=ASSETS,
                          imbalance_biases=GOLD_IMBALANCE_BIASES, **kw)


def test_mock_is_deterministic_and_consistent():
    a, b = _gold_mock(seed=7), _gold_mock(seed=7)
    ts = day_start(DAY) + 1234.5
    s1, s2 = a.get_snapshot("BTCUSDT", ts), b.get_snapshot("BTCUSDT", ts)
    for f in ("bid_notional", "ask_notional", "bid_depth", "ask_depth"):
        assert np.array_equal(getattr(s1, f), getattr(s2, f))
    other = _gold_mock(seed=8).get_snapshot("BTCUSDT", ts)
    assert not np.array_equal(other.bid_notional, s1.bid_notional)
    # the vectorised day and single snapshots agree, in any call order
    a.load_date(DAY)
    t, bn, an, bd, ad = a.get_arrays("ETHUSDT")
    assert t.shape == (17_280,) and bn.shape == (17_280, 5)
    snap = b.get_snapshot("ETHUSDT", float(t[999]))
    assert np.array_equal(snap.ask_depth, ad[999]) and np.array_equal(snap.bid_notional, bn[999])
    # notional = price * depth with a one-tick spread around the reference price
    px = bn / bd
    assert np.all(px[:, 0] < (an / ad)[:, 0]) and np.all(np.diff(px, axis=1) < 0)
    assert a.get_snapshot("NOTANASSET", ts) is None


def test_mock_biases_and_no_cascade_over_a_day():
    p = _gold_mock()
    eng = OBFeatureEngine(p)
    eng.preload_date(DAY, ASSETS)
    assert eng.n_steps == 17_280 and eng.preload_assets_missing == []
    for asset, bias in [("BTCUSDT", -0.086), ("ETHUSDT", -0.092), ("BNBUSDT", 0.05), ("SOLUSDT", 0.05),
                        ("ADAUSDT", -0.09)]:
        imb = eng._pre_feat[eng._pre_rows[asset], :, 4]
        assert abs(imb.mean() - bias) < 0.002 and np.all(np.abs(imb - bias) <= 0.0201)
    vel = eng._pre_feat[:, :, 8]
    assert vel.min() > -0.1 and vel.max() < 0.11  # never near the -0.30 cascade / -0.25 tail thresholds
    assert np.all(eng._pre_macro[:, 3] == CASCADE_CALM)
    sig = eng.get_signal("BTCUSDT", 500)
    assert sig.imbalance_persistence == 1.0 and sig.imbalance_ma5 < 0


def test_preload_equals_step_live_on_the_same_stream():
    p = _gold_mock(seed=3)
    assets = list(ASSETS[:12])
    pre = OBFeatureEngine(p)
    start = day_start(DAY)
    bars = start + 2.5 + 5.0 * np.arange(40)  # bars between snapshot times: newest-at-or-before
    pre.preload_date(DAY, assets, bar_timestamps=bars)
    live = OBFeatureEngine(p)
    for i, t in enumerate(bars):
        live.step_live(assets, i, timestamp=float(np.floor(t / 5.0) * 5.0))
    for i in (0, 1, 9, 10, 11, 39):
        assert live.get_macro(i) == pre.get_macro(i)
        for a in assets:
            assert live.get_placement(a, i) == pre.get_placement(a, i)
            assert live.get_signal(a, i) == pre.get_signal(a, i)
            assert live.get_market(a, i) == pre.get_market(a, i)
    assert live._median_depth_ref == pytest.approx(pre._median_depth_ref)


def _write_ob_file(path, rows):
    df = pd.DataFrame(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_parquet(path)


def _row(asset, ts_s, bid_total, ask_total, price=100.0):
    r = {"timestamp": np.int64(round(ts_s * 1e9)), "asset": asset}
    for i in range(5):
        r[f"bid_notional_{i}"] = bid_total / 5
        r[f"ask_notional_{i}"] = ask_total / 5
        r[f"bid_depth_{i}"] = bid_total / 5 / (price - 0.01 * (i + 0.5))
        r[f"ask_depth_{i}"] = ask_total / 5 / (price + 0.01 * (i + 0.5))
    return r


def test_parquet_provider_serves_recorded_snapshots(tmp_path):
    t0 = day_start(DAY)
    rows = []
    for k in range(6):  # one snapshot per asset every 10 s, depth thinning on BTC
        rows.append(_row("BTCUSDT", t0 + 10 * k, 500_000 * (1 - 0.15 * k), 500_000))
        rows.append(_row("ETHUSDT", t0 + 10 * k, 300_000, 200_000))
    bad = _row("ETHUSDT", t0 + 55, 1.0, 1.0)
    bad["ask_depth_3"] = -1.0
    rows.append(bad)
    _write_ob_file(tmp_path / "ob" / f"{DAY}.parquet", rows)
    prov = ParquetOBProvider(tmp_path)
    prov.load_date(DAY)
    assert prov.dropped_rows == 1 and prov.loaded_rows == 12
    assert prov.get_all_timestamps("BTCUSDT") == [t0 + 10 * k for k in range(6)]
    s = prov.get_snapshot("ETHUSDT", t0 + 25.0)  # newest at or before
    assert isinstance(s, OBSnapshot) and s.timestamp == t0 + 20
    assert s.bid_notional.sum() == pytest.approx(300_000)
    assert prov.get_snapshot("ETHUSDT", t0 - 1.0) is None
    assert prov.get_snapshot("XRPUSDT", t0 + 25.0) is None

    eng = OBFeatureEngine(prov, depth_lookback=3)
    bars = t0 + 5.0 * np.arange(12)
    eng.preload_date(DAY, ["BTCUSDT", "ETHUSDT", "XRPUSDT"], bar_timestamps=bars)
    assert eng.preload_assets_missing == ["XRPUSDT"]
    assert eng.get_signal("ETHUSDT", 7).imbalance == pytest.approx(0.2)
    # bar 11 uses the snapshot at t0+50 (BTC depth 0.25 of start + 0.5M asks); 3 bars back: t0+40
    expected = (125_000 + 500_000) / (200_000 + 500_000) - 1
    assert eng.get_signal("BTCUSDT", 11).withdrawal_velocity == pytest.approx(expected)
    assert eng.get_placement("XRPUSDT", 5).fill_probability == 0.0  # unknown asset: defaults
    assert eng.get_signal("BTCUSDT", 10**10) == eng.get_signal("BTCUSDT", 11)  # timestamp lookup
    # lazy loading by timestamp of another day: a missing file is an empty day, not an error
    assert prov.get_snapshot("BTCUSDT", t0 + 86_400 + 5) is None


def test_parquet_provider_names_missing_column(tmp_path):
    t0 = day_start(DAY)
    row = _row("BTCUSDT", t0, 1.0, 1.0)
    del row["ask_depth_2"]
    _write_ob_file(tmp_path / "ob" / f"{DAY}.parquet", [row])
    with pytest.raises(ValueError, match="ask_depth_2"):
        ParquetOBProvider(tmp_path).load_date(DAY)
    assert "ask_depth_2" in OB_COLUMNS


def test_preload_over_a_cascade_reaches_the_regime(tmp_path):
    """Recorded books that thin out across most assets make the macro regime leave CALM."""
    t0 = day_start(DAY)
    assets = [f"A{i}USDT" for i in range(10)]
    rows = []
    for k in range(20):
        for j, a in enumerate(assets):
            thin = 1.0 if (k < 10 or j >= 6) else 0.4  # 6 of 10 assets lose 60 % at step 10
            rows.append(_row(a, t0 + 5 * k, 400_000 * thin, 400_000 * thin))
    _write_ob_file(tmp_path / "ob" / f"{DAY}.parquet", rows)
    eng = OBFeatureEngine(ParquetOBProvider(tmp_path))
    eng.preload_date(DAY, assets)
    regimes = eng._pre_macro[:, 3]
    assert regimes[9] == ob.CALM and regimes[10] == ob.CASCADE
    assert eng.get_macro(10).depth_velocity < 0


class _ProtocolOnly:
    """A history provider with only the two protocol methods (no load_date/get_arrays)."""

    def __init__(self, mock, stamps):
        self.mock, self.stamps = mock, stamps

    def get_snapshot(self, asset, ts):
        return self.mock.get_snapshot(asset, ts)

    def get_all_timestamps(self, asset):
        return list(self.stamps)


def test_preload_through_the_bare_protocol_matches_vectorised_path():
    mock = _gold_mock(seed=5)
    mock.load_date(DAY)
    stamps = mock.get_all_timestamps("BTCUSDT")[:30]
    bare = OBFeatureEngine(_ProtocolOnly(mock, stamps))
    bare.preload_date(DAY, ["BTCUSDT", "SOLUSDT"])
    full = OBFeatureEngine(mock)
    full.preload_date(DAY, ["BTCUSDT", "SOLUSDT"])
    assert bare.n_steps == 30
    for i in (0, 12, 29):
        assert bare.get_signal("SOLUSDT", i) == full.get_signal("SOLUSDT", i)
        assert bare.get_placement("BTCUSDT", i) == full.get_placement("BTCUSDT", i)
        assert bare.get_macro(i) == full.get_macro(i)
    assert bare.get_signal("SOLUSDT", 10_000) == full.get_signal("SOLUSDT", 29)  # clamped to the day


def test_step_live_survives_provider_errors_and_malformed_snapshots(fake_provider, snap_factory):
    class Flaky:
        def get_snapshot(self, asset, ts):
            if asset == "ERRUSDT":
                raise ConnectionError("member gone")
            if asset == "BADUSDT":
                return OBSnapshot(asset, ts, np.ones(3), np.ones(3), np.ones(3), np.ones(3))
            return snap_factory(asset=asset, bid_total=600_000.0, ask_total=400_000.0)

        def get_all_timestamps(self, asset):
            return []

    eng = OBFeatureEngine(Flaky())
    assert eng.step_live(["BTCUSDT", "ERRUSDT", "BADUSDT"], 0, timestamp=1.0) == 1
    st = eng.stats()
    assert st["provider_errors"] == 1 and st["invalid_snapshots"] == 1 and st["assets_missing"] == 1
    assert eng.get_signal("BTCUSDT", 0).imbalance == pytest.approx(0.2)
    assert eng.get_signal("BADUSDT", 0).imbalance == 0.0
    assert eng.get_macro(0).median_imbalance == pytest.approx(0.2)
