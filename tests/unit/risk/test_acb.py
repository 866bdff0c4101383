"""ACBv6: formulas pinned by hand, no look-ahead, streaming, bad input."""

import gc
import math
import weakref

import numpy as np
import pandas as pd
import pytest

from nautilus_dolphin.risk.acb import ACBConfig
from nautilus_dolphin.risk.acb import ACBDay
from nautilus_dolphin.risk.acb import AdaptiveCircuitBreaker
from nautilus_dolphin.risk.acb import day_statistics
from nautilus_dolphin.risk.acb import vbt_cache_loader

DATES = ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05"]
CFG = ACBConfig(baseline_days=3, min_baseline_days=2)


def _hand_days(make_day) -> dict[str, pd.DataFrame]:
    # amp = median|v750|, inst = mean(instability_50), rvol = std of BTC simple returns
    return {
        "2026-01-01": make_day([1.0, -1.0, 1.0], [1.0, 1.0, 1.0], [100.0, 110.0, 99.0]),  # 1, 1, 0.1
        "2026-01-02": make_day([3.0, -3.0, 3.0], [1.0, 1.0, 1.0], [100.0, 110.0, 99.0]),  # 3, 1, 0.1
        "2026-01-03": make_day([2.0, -2.0, 2.0], [1.0, 1.0, 1.0], [100.0, 110.0, 99.0]),  # 2, 1, 0.1
        "2026-01-04": make_day([2.5, -2.5, 2.5], [1.02, 1.02, 1.02], [100.0, 120.0, 96.0]),  # 2.5, 1.02, 0.2
        "2026-01-05": make_day([9.0, 9.0, 9.0], [5.0, 5.0, 5.0], [100.0, 200.0, 50.0]),
    }


def test_day_statistics_by_hand(make_day) -> None:
    st = day_statistics(
        make_day([0.5, -3.0, 1.0, np.nan], [1.0, 2.0, np.nan, 3.0], [100.0, 120.0, 96.0, np.nan])
    )
    assert st["amp"] == pytest.approx(1.0)  # median of |0.5|, |-3|, |1|
    assert st["inst"] == pytest.approx(2.0)  # NaN ignored
    assert st["rvol"] == pytest.approx(0.2)  # returns +0.2, -0.2; the pair with NaN is dropped


def test_day_statistics_unusable_values_are_nan(make_day) -> None:
    st = day_statistics(make_day([np.nan, np.inf], [np.nan, np.nan], [100.0, -1.0]))
    assert all(math.isnan(v) for v in st.values())


def test_boost_and_beta_pinned_by_hand(make_day) -> None:
    frames = _hand_days(make_day)
    acb = AdaptiveCircuitBreaker(CFG)
    acb.preload_w750(DATES, frames.__getitem__)
    # Days 1-3 have fewer than min_baseline_days + 1 = 3 days before them: neutral.
    for d in DATES[:3]:
        day = acb.get_day(d)
        assert (day.boost, day.beta, day.neutral) == (1.0, 0.0, True)
    # Day 4: previous = day 3 (2, 1, 0.1) vs baseline days 1-2: amp mean 2 -> z 0; inst/rvol flat -> z 0.
    d4 = acb.get_day("2026-01-04")
    assert not d4.neutral
    assert d4.boost == pytest.approx(1.0, abs=1e-9)
    assert d4.beta == pytest.approx(0.0, abs=1e-9)
    # Day 5: previous = day 4 (2.5, 1.02, 0.2) vs baseline days 1-3.
    #   amp: mean 2, std sqrt(2/3) -> z = 0.5/0.81650 = 0.61237 -> s = 0.30619
    #   inst: mean 1, std 0 -> sd floored at 0.05*1 -> z = 0.4 -> s = 0.2
    #   rvol: mean 0.1, std 0 -> sd floored at 0.005 -> z = 20 -> s = 1
    #   stress = (0.30619 + 0.2 + 1) / 3 = 0.50206; boost = 1 + 0.6 * stress = 1.30124; beta = 0.30619
    d5 = acb.get_day("2026-01-05")
    assert d5.signals["z_amp"] == pytest.approx(0.612372, abs=1e-6)
    assert d5.signals["s_inst"] == pytest.approx(0.2, abs=1e-9)
    assert d5.signals["s_rvol"] == pytest.approx(1.0)
    assert d5.signals["stress"] == pytest.approx(0.502062, abs=1e-6)
    assert d5.boost == pytest.approx(1.301237, abs=1e-6)
    assert d5.beta == pytest.approx(0.306186, abs=1e-6)
    assert d5.signals["baseline_days"] == 3.0


def test_calm_previous_day_never_lowers_boost_below_one(make_day) -> None:
    frames = _hand_days(make_day)
    frames["2026-01-04"] = make_day([0.1, 0.1, 0.1], [0.1, 0.1, 0.1], [100.0, 100.0, 100.0])
    acb = AdaptiveCircuitBreaker(CFG)
    acb.preload_w750(DATES, frames.__getitem__)
    d5 = acb.get_day("2026-01-05")
    assert d5.signals["z_amp"] < 0 and d5.signals["z_inst"] < 0
    assert (d5.boost, d5.beta) == (1.0, 0.0)


def test_weights_and_caps(make_day) -> None:
    frames = _hand_days(make_day)
    cfg = ACBConfig(
        baseline_days=3,
        min_baseline_days=2,
        weight_amp=0.0,
        weight_inst=0.0,
        weight_rvol=1.0,
        max_boost=1.5,
        beta_max=2.0,
    )
    acb = AdaptiveCircuitBreaker(cfg)
    acb.preload_w750(DATES, frames.__getitem__)
    d5 = acb.get_day("2026-01-05")
    assert d5.boost == pytest.approx(1.5)  # only the saturated rvol signal counts
    assert d5.beta == pytest.approx(2.0 * 0.306186, abs=1e-6)


def test_no_look_ahead(make_random_day) -> None:
    """Changing day k's data never changes get_day(k) or any earlier day; it does change later days."""
    rng = np.random.default_rng(5)
    dates = [f"2026-01-{d:02d}" for d in range(1, 13)]
    frames = {d: make_random_day(rng) for d in dates}
    cfg = ACBConfig(baseline_days=4, min_baseline_days=2)

    def run(fr):
        acb = AdaptiveCircuitBreaker(cfg)
        acb.preload_w750(dates, fr.__getitem__)
        return {d: acb.get_day(d) for d in dates}

    ref = run(frames)
    assert any(not ref[d].neutral and ref[d].boost > 1.0 for d in dates), "test data must move the boost"
    later_changed = 0
    for k, dk in enumerate(dates):
        changed = dict(frames)
        changed[dk] = make_random_day(np.random.default_rng(100 + k))
        out = run(changed)
        for d in dates[: k + 1]:
            assert out[d] == ref[d], f"changing {dk} changed get_day({d})"
        if k + 1 < len(dates) and out[dates[k + 1]].signals != ref[dates[k + 1]].signals:
            later_changed += 1
    assert later_changed >= 5  # the statistic of day k does feed the following day


def test_streaming_reads_each_day_once_and_keeps_no_frame(make_random_day) -> None:
    rng = np.random.default_rng(1)
    dates = [f"2026-02-{d:02d}" for d in range(1, 8)]
    calls: list[str] = []
    refs: list[weakref.ref] = []

    def loader(d: str) -> pd.DataFrame:
        calls.append(d)
        df = make_random_day(rng)
        refs.append(weakref.ref(df))
        return df

    acb = AdaptiveCircuitBreaker(ACBConfig(baseline_days=3, min_baseline_days=2))
    acb.preload_w750(list(reversed(dates)), loader)
    gc.collect()
    assert calls == dates  # sorted, once each
    assert all(r() is None for r in refs), "a day frame is still referenced after preload"
    assert acb.dates == tuple(dates)
    for d in dates:
        acb.get_day(d)
    assert calls == dates  # get_day never reloads


def test_unknown_date_is_neutral_and_counted(make_day) -> None:
    acb = AdaptiveCircuitBreaker(CFG)
    acb.preload_w750(DATES, _hand_days(make_day).__getitem__)
    day = acb.get_day("2030-01-01")
    acb.get_day("2030-01-02")
    assert isinstance(day, ACBDay)
    assert (day.boost, day.beta, day.neutral) == (1.0, 0.0, True)
    assert acb.unknown_days == 2
    assert acb.get_dynamic_boost_for_date("2026-01-05")["boost"] == pytest.approx(1.301237, abs=1e-6)


def test_missing_day_and_bad_values_are_counted(make_day) -> None:
    frames = _hand_days(make_day)
    frames["2026-01-02"] = None
    frames["2026-01-03"] = make_day([np.nan] * 3, [1.0, 1.0, 1.0], [100.0, 110.0, 99.0])
    acb = AdaptiveCircuitBreaker(CFG)
    acb.preload_w750(DATES, frames.get)
    assert acb.missing_days == 1
    assert acb.bad_days == 2
    d4 = acb.get_day("2026-01-04")  # previous day's amp is NaN -> no amp signal
    assert "z_amp" not in d4.signals and d4.beta == 0.0
    d5 = acb.get_day("2026-01-05")  # amp baseline has only 1 finite value (< 2) -> no amp signal
    assert "z_amp" not in d5.signals
    assert d5.signals["s_rvol"] == pytest.approx(1.0)
    assert all(math.isfinite(v) for v in d5.signals.values())


def test_bad_input_errors(make_day) -> None:
    acb = AdaptiveCircuitBreaker(CFG)
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        acb.preload_w750(["2026/01/01"], lambda d: None)
    with pytest.raises(ValueError, match="duplicate"):
        acb.preload_w750(["2026-01-01", "2026-01-01"], lambda d: None)
    df = make_day([1.0], [1.0], [100.0]).drop(columns=["instability_50"])
    with pytest.raises(ValueError, match=r"2026-01-01.*instability_50"):
        acb.preload_w750(["2026-01-01"], lambda d: df)
    acb.add_day("2026-01-05", None)
    with pytest.raises(ValueError, match="not after"):
        acb.add_day("2026-01-04", None)
    with pytest.raises(ValueError, match="min_baseline_days"):
        ACBConfig(baseline_days=2, min_baseline_days=3)
    with pytest.raises(ValueError, match="max_boost"):
        ACBConfig(max_boost=0.9)
    with pytest.raises(ValueError, match="boost"):
        ACBDay(date="2026-01-01", boost=0.5)


def test_vbt_cache_loader_reads_parquet(tmp_path, make_day) -> None:
    frames = _hand_days(make_day)
    (tmp_path / "vbt_cache").mkdir()
    for d, df in frames.items():
        df.to_parquet(tmp_path / "vbt_cache" / f"{d}.parquet")
    acb = AdaptiveCircuitBreaker(CFG)
    acb.preload_w750(DATES, vbt_cache_loader(tmp_path))
    assert acb.get_day("2026-01-05").boost == pytest.approx(1.301237, abs=1e-6)
    with pytest.raises(FileNotFoundError, match=r"2026-03-01\.parquet"):
        acb.preload_w750(["2026-03-01"], vbt_cache_loader(tmp_path))


def test_outputs_stay_in_range(make_random_day) -> None:
    rng = np.random.default_rng(9)
    dates = [f"2026-01-{d:02d}" for d in range(1, 31)]
    acb = AdaptiveCircuitBreaker()
    acb.preload_w750(dates, lambda d: make_random_day(rng))
    days = [acb.get_day(d) for d in dates]
    assert all(1.0 <= x.boost <= 1.6 and 0.0 <= x.beta <= 1.0 for x in days)
    assert sum(x.neutral for x in days) == 4  # min_baseline_days + 1 with the defaults
