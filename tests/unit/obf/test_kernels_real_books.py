"""Kernels on real Binance USDT-M BTCUSDT books (Tardis top-5 and top-25 snapshots): every output
in its documented range, and the price-implied features equal to independent computations."""

import math

import numpy as np
import pytest

from nautilus_dolphin.kernels import ob
from nautilus_dolphin.obf.features import OBFeatureEngine
from nautilus_dolphin.obf.types import OBSnapshot

FILES = ["binance_futures_btcusdt_book_snapshot_5.csv", "binance_futures_btcusdt_book_snapshot_25.csv"]


@pytest.mark.parametrize("name", FILES)
def test_kernels_in_documented_ranges_on_real_books(tardis_loader, name):
    books = tardis_loader(name)
    assert len(books) == 10
    for bn, an, bd, ad, bp, ap in books:
        imb = ob.compute_imbalance_nb(bn, an)
        assert -1.0 <= imb <= 1.0
        assert imb == pytest.approx((bn.sum() - an.sum()) / (bn.sum() + an.sum()), rel=1e-12)
        mid = (bp[0] + ap[0]) / 2
        assert ob.compute_mid_nb(bn, an, bd, ad) == pytest.approx(mid, rel=1e-12)
        d1 = ob.compute_depth_1pct_nb(bn, an, bd, ad)
        inside = (np.abs(bp - mid) <= 0.01 * mid).astype(float) @ bn + (np.abs(ap - mid) <= 0.01 * mid).astype(float) @ an
        assert d1 >= 0.0 and d1 == pytest.approx(inside, rel=1e-12)
        sp = ob.compute_spread_proxy_nb(bn, an, bd, ad)
        assert 0.0 <= sp <= ob.SPREAD_MAX_BPS
        assert sp == pytest.approx(1e4 * (ap[0] - bp[0]) / mid, rel=1e-6)
        asym = ob.compute_depth_asymmetry_nb(bn, an)
        assert -1.0 <= asym <= 1.0
        for ref in (d1, 0.5 * d1, 2 * d1, 0.0):
            dq = ob.compute_depth_quality_nb(d1, ref)
            assert 0.0 <= dq <= ob.DQ_MAX
            fp = ob.compute_fill_probability_nb(dq)
            assert 0.0 <= fp <= ob.DQ_MAX / (ob.DQ_MAX + ob.FP_HALF)
    # real BTCUSDT perpetual: a one-cent spread on ~11,657 USD is ~0.0086 bps
    bn, an, bd, ad, bp, ap = books[0]
    assert ob.compute_spread_proxy_nb(bn, an, bd, ad) == pytest.approx(0.01 / 11657.075 * 1e4, rel=1e-4)


@pytest.mark.parametrize("name", FILES)
def test_rolling_and_macro_kernels_in_range_on_real_books(tardis_loader, fake_provider, name):
    books = tardis_loader(name)
    eng = OBFeatureEngine(fake_provider)
    for i, (bn, an, bd, ad, _, _) in enumerate(books):
        fake_provider.books["BTCUSDT"] = OBSnapshot("BTCUSDT", 1598918403.0 + i, bn, an, bd, ad)
        # a second "asset": the same book mirrored, so the macro sees disagreement
        fake_provider.books["MIRROR"] = OBSnapshot("MIRROR", 1598918403.0 + i, an, bn, ad, bd)
        assert eng.step_live(["BTCUSDT", "MIRROR"], i, timestamp=1598918403.0 + i) == 2
        pl, sig, mac = eng.get_placement("BTCUSDT", i), eng.get_signal("BTCUSDT", i), eng.get_macro(i)
        assert pl.depth_1pct_usd > 0 and 0 <= pl.depth_quality <= ob.DQ_MAX and 0 < pl.fill_probability < 1
        assert -1 <= sig.imbalance_ma5 <= 1 and 0 <= sig.imbalance_persistence <= 1
        assert -1 <= sig.withdrawal_velocity <= ob.VEL_MAX and -1 <= sig.depth_asymmetry <= 1
        assert -1 <= mac.median_imbalance <= 1 and 0 <= mac.agreement_pct <= 1
        assert mac.cascade_regime in (0, 1, 2)
        assert -1 <= mac.depth_velocity <= ob.VEL_MAX
        assert abs(mac.acceleration) <= 1 + ob.VEL_MAX
        assert mac.depth_pressure == pytest.approx(0.0, abs=1e-12)  # mirrored books cancel
        values = [*(getattr(pl, f) for f in pl.__slots__), *(getattr(sig, f) for f in sig.__slots__)]
        assert all(math.isfinite(v) for v in values)


def test_degenerate_inputs_give_documented_fallbacks():
    z = np.zeros(5)
    bad = np.array([np.nan, np.inf, -1.0, 0.0, 1e300])
    assert ob.compute_imbalance_nb(z, z) == 0.0
    assert ob.compute_spread_proxy_nb(z, z, z, z) == 0.0
    assert ob.compute_depth_1pct_nb(np.ones(5), np.ones(5), z, z) == 10.0  # no prices: whole book
    assert math.isfinite(ob.compute_depth_1pct_nb(bad, bad, bad, bad))
    assert -1.0 <= ob.compute_imbalance_nb(bad, np.ones(5)) <= 1.0
    assert ob.compute_depth_quality_nb(5.0, 0.0) == 1.0
    assert ob.compute_withdrawal_velocity_nb(np.array([0.0, 5.0]), 10) == 0.0
    assert ob.compute_withdrawal_velocity_nb(np.array([1.0, 100.0]), 10) == ob.VEL_MAX
    assert ob.compute_imbalance_persistence_nb(np.empty(0), 10) == 0.0
    assert ob.compute_market_agreement_nb(np.empty(0), 0) == (0.0, 0.0)
    assert ob.compute_cascade_signal_nb(np.array([-0.5, 0.0, 0.0, 0.0]), 4, -0.3) == ob.STRESSED
    assert ob.compute_cascade_signal_nb(np.array([-0.5, -0.4, 0.0, 0.0]), 4, -0.3) == ob.CASCADE
    assert ob.compute_cascade_signal_nb(np.array([-0.2] * 10), 10, -0.3) == ob.CALM
