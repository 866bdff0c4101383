"""Synthetic market: determinism, layout, calibration, order-book thinning before cascades."""

import dataclasses

import numpy as np
import pytest

from nautilus_dolphin.data.calibration import DEFAULT_CALIBRATION
from nautilus_dolphin.data.calibration import REAL_CSV
from nautilus_dolphin.data.calibration import calibrate
from nautilus_dolphin.data.schema import SIGNAL_COLS
from nautilus_dolphin.data.schema import validate_scan_frame
from nautilus_dolphin.data.synth import OB_VALUE_COLS
from nautilus_dolphin.data.synth import SynthConfig
from nautilus_dolphin.data.synth import SyntheticMarket
from nautilus_dolphin.data.synth_book import THIN_FLOOR
from nautilus_dolphin.data.synth_book import thinning_profile

SMALL = dict(days=2, n_assets=6, scans_per_day=400, scans_jitter=5, burn_in=800, ob_every=4)


def _days(**kw):
    return list(SyntheticMarket(SynthConfig(**{**SMALL, **kw})).days())


def test_deterministic_under_seed() -> None:
    a, b, c = _days(seed=7), _days(seed=7), _days(seed=8)
    for x, y in zip(a, b):
        assert x.frame.equals(y.frame) and x.ob.equals(y.ob)
    assert not a[0].frame["BTCUSDT"].equals(c[0].frame["BTCUSDT"])


def test_layout_and_validity() -> None:
    days = _days()
    cfg = SynthConfig(**SMALL)
    for d, date in zip(days, cfg.dates):
        f = d.frame
        validate_scan_frame(f, date, allow_nan_signals=False)
        assert list(f.columns) == ["timestamp", "scan_number", *SIGNAL_COLS, *sorted(cfg.symbols)]
        assert abs(len(f) - 400) <= 5
        assert str(f["timestamp"].dt.date.iloc[0]) == date and str(f["timestamp"].dt.date.iloc[-1]) == date
        ob = d.ob
        assert list(ob.columns) == ["timestamp", "asset", *OB_VALUE_COLS]
        assert (ob[list(OB_VALUE_COLS)].to_numpy() > 0).all()
        assert ob["timestamp"].is_monotonic_increasing
        assert len(ob) == len(range(0, len(f), 4)) * cfg.n_assets
    assert days[1].frame["scan_number"].iloc[0] == days[0].frame["scan_number"].iloc[-1] + 1


def test_prices_on_tick_and_books_consistent() -> None:
    d = _days(days=1)[0]
    btc = d.frame["BTCUSDT"].to_numpy()
    np.testing.assert_allclose(np.round(btc / 0.1) * 0.1, btc, rtol=0, atol=1e-6)
    ob = d.ob[d.ob["asset"] == "BTCUSDT"]
    implied = ob["bid_notional_0"] / ob["bid_depth_0"]
    mid = d.frame["BTCUSDT"].to_numpy()[::4]
    assert np.all(implied.to_numpy() < mid) and np.all(implied.to_numpy() > mid * 0.99)


def test_book_thins_before_cascade() -> None:
    cfg = SynthConfig(**{**SMALL, "days": 1, "scans_per_day": 2000, "cascade_rate": 50.0, "n_assets": 4})
    d = next(SyntheticMarket(cfg).days())
    assert len(d.crash_starts) > 0
    c = int(d.crash_starts[0])
    ob = d.ob.groupby("timestamp")[[f"bid_notional_{k}" for k in range(5)]].sum().sum(axis=1).to_numpy()
    scans = np.arange(0, 2000 + 10, 4)[: len(ob)]
    before = ob[(scans >= c - 10) & (scans < c)].mean()
    calm = ob[scans < max(c - 400, 8)].mean() if c > 420 else ob.max()
    assert before < 0.6 * calm
    prof = thinning_profile(1000, np.array([500]), 36)
    assert prof[0] == 1.0 and prof[520] == THIN_FLOOR and prof[499] < prof[400]


def test_calibration_matches_real_file() -> None:
    if not REAL_CSV.is_file():
        pytest.skip(f"real BTCUSDT 1m data not available at {REAL_CSV}")
    cal = calibrate(REAL_CSV)
    d = DEFAULT_CALIBRATION
    assert cal.sigma_1m == pytest.approx(d.sigma_1m, rel=1e-4)
    assert cal.t_df == pytest.approx(d.t_df, abs=1e-2)
    assert cal.vol_halflife_fast_min == pytest.approx(d.vol_halflife_fast_min, abs=0.1)
    assert cal.vol_halflife_slow_min == pytest.approx(d.vol_halflife_slow_min, abs=0.1)
    assert cal.excess_kurtosis_std == pytest.approx(d.excess_kurtosis_std, abs=1e-2)


def test_mean_reversion_response_is_tunable() -> None:
    base = _days(days=1, scans_per_day=1500)[0]
    off = _days(days=1, scans_per_day=1500, mr_prob=0.0)[0]
    assert base.mr_triggers > 0 and off.mr_triggers == 0


def test_config_validation() -> None:
    with pytest.raises(ValueError):
        SynthConfig(n_assets=1)
    with pytest.raises(ValueError):
        SynthConfig(ob_every=0)
    assert dataclasses.replace(SynthConfig(), days=3).dates[-1] == "2026-01-02"
