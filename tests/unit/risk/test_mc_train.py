"""MC-Forewarner trainer: sampler, fit with the analytic (fake) simulator, determinism, CLI, engine run."""

import argparse
import json
import math

import numpy as np
import pytest

from nautilus_dolphin.config import MC_BASE_CFG
from nautilus_dolphin.risk.forewarner import DolphinForewarner
from nautilus_dolphin.risk.forewarner import write_model
from nautilus_dolphin.risk.mc_train import FEATURE_NAMES
from nautilus_dolphin.risk.mc_train import SAMPLING_SPACE
from nautilus_dolphin.risk.mc_train import EngineWindowSimulator
from nautilus_dolphin.risk.mc_train import base_features
from nautilus_dolphin.risk.mc_train import sample_configs
from nautilus_dolphin.risk.mc_train import synthetic_window
from nautilus_dolphin.risk.mc_train import train_forewarner


def test_sampler_is_seeded_and_valid() -> None:
    a = sample_configs(200, 4)
    assert a == sample_configs(200, 4)
    assert a != sample_configs(200, 5)
    for cfg in a:
        assert 1.0 <= cfg["max_leverage"] <= 9.0
        assert cfg["max_leverage"] <= cfg["abs_max_leverage"] <= 1.6 * cfg["max_leverage"]
        assert cfg["vel_div_extreme"] < cfg["vel_div_threshold"] < 0
        assert isinstance(cfg["max_hold_bars"], int) and 40 <= cfg["max_hold_bars"] <= 300
        # everything not sampled is the base configuration
        assert {k: v for k, v in cfg.items() if k not in SAMPLING_SPACE} == {
            k: v for k, v in MC_BASE_CFG.items() if k not in SAMPLING_SPACE
        }
    lev = np.array([c["max_leverage"] for c in a])
    assert lev.min() < 2.0 and lev.max() > 8.0  # spans its range


def test_base_features_show_the_lever_swap() -> None:
    f = base_features()
    assert f["max_leverage"] == 5.0 and f["abs_max_leverage"] == 5.0
    assert tuple(f) == FEATURE_NAMES


def test_train_end_to_end_with_analytic_simulator(tmp_path, analytic_simulator) -> None:
    model = train_forewarner(150, 3, analytic_simulator, created="2026-11-22")
    assert analytic_simulator.calls == 150
    meta = model["metadata"]
    assert meta["n"] == 150 and meta["n_used"] == 150 and meta["seed"] == 3
    assert meta["feature_names"] == list(FEATURE_NAMES)
    assert meta["simulator"].startswith("AnalyticSimulator (test fake)")
    assert meta["window"] == {"source": "analytic"}
    assert meta["created"] == "2026-11-22"
    assert model["catastrophic"]["kind"] == "logistic" and 0 < model["catastrophic"]["positives"] < 150

    fw = DolphinForewarner.load(write_model(model, tmp_path / "fw.json"))
    # The base configuration (5x, what the lever-swap shows) is OK; so says the metadata too.
    assert fw.assess(dict(MC_BASE_CFG)).status == "OK"
    assert meta["base_assessment"]["status"] == "OK"
    # A high-risk corner inside the sampled box is flagged; far outside the box is RED.
    risky = dict(MC_BASE_CFG, max_leverage=8.8, abs_max_leverage=9.0, fraction=0.39, max_hold_bars=290)
    assert fw.assess(risky).status in ("ORANGE", "RED")
    assert fw.assess(dict(MC_BASE_CFG, max_leverage=40.0, abs_max_leverage=45.0)).status == "RED"

    # The max_dd model tracks the simulator on fresh configurations.
    probe = sample_configs(200, 77)
    truth = np.array([analytic_simulator(c)["max_dd"] for c in probe])
    pred = np.array([fw.assess(c).predicted_max_dd for c in probe])
    assert np.corrcoef(truth, pred)[0, 1] > 0.9


def test_training_is_deterministic_under_the_seed(analytic_simulator) -> None:
    a = json.dumps(train_forewarner(60, 11, analytic_simulator, created="x"))
    b = json.dumps(train_forewarner(60, 11, analytic_simulator, created="x"))
    c = json.dumps(train_forewarner(60, 12, analytic_simulator, created="x"))
    assert a == b
    assert a != c


def test_unusable_runs_are_skipped_and_counted(analytic_simulator) -> None:
    n = 0

    def flaky(cfg):
        nonlocal n
        n += 1
        out = analytic_simulator(cfg)
        if n % 5 == 0:
            out["roi"] = math.nan
        if n % 7 == 0:
            out["max_dd"] = 17.0  # a percentage, not a fraction
        return out

    model = train_forewarner(35, 2, flaky, created="x")
    assert model["metadata"]["n_skipped"] == {"non_finite": 7, "out_of_range": 4}
    assert model["metadata"]["n_used"] == 24


def test_simulator_exception_names_the_run(analytic_simulator) -> None:
    def broken(cfg):
        raise ZeroDivisionError("boom")

    with pytest.raises(RuntimeError, match=r"simulation 0 failed for config \{max_leverage=.*boom"):
        train_forewarner(5, 2, broken)
    with pytest.raises(ValueError, match="simulation 0: result must have numeric roi"):
        train_forewarner(5, 2, lambda cfg: {"roi": 0.1})


def test_one_class_outcomes_give_a_constant_catastrophic_model(analytic_simulator) -> None:
    model = train_forewarner(20, 2, lambda c: {"roi": 0.01, "max_dd": 0.01, "trades": 3}, created="x")
    cat = model["catastrophic"]
    assert cat["kind"] == "logistic_constant" and cat["positives"] == 0
    assert cat["intercept"] == pytest.approx(math.log(0.5 / 20.5))  # logit((0 + 0.5) / (20 + 1))
    assert DolphinForewarner.from_dict(model).assess(MC_BASE_CFG).catastrophic_prob == pytest.approx(0.5 / 21)


def test_synthetic_window_is_deterministic_and_dolphin_shaped() -> None:
    from nautilus_dolphin.data.schema import META_COLS
    from nautilus_dolphin.data.universe import ASSETS

    a = synthetic_window(2, 300, seed=3)
    b = synthetic_window(2, 300, seed=3)
    assert [d for d, _ in a] == ["2026-01-01", "2026-01-02"]
    for (_, x), (_, y) in zip(a, b):
        assert x.equals(y)
    df = a[0][1]
    assert set(df.columns) == set(META_COLS) | set(ASSETS)
    assert len(df) == 300 and np.isfinite(df[list(ASSETS)].to_numpy()).all()
    assert a[1][1]["scan_number"].iloc[0] == 300


@pytest.mark.slow
def test_engine_window_simulator_trains_a_loadable_model(tmp_path) -> None:
    sim = EngineWindowSimulator(n_days=2, bars_per_day=600)
    r1 = sim(base_features())
    assert r1 == sim(base_features())  # deterministic engine run
    assert r1["trades"] >= 0 and 0.0 <= r1["max_dd"] <= 1.0 and math.isfinite(r1["roi"])
    model = train_forewarner(8, 1, sim, created="x")
    assert model["metadata"]["window"]["days"] == ["2026-01-01", "2026-01-02"]
    assert "NDAlphaEngine" in model["metadata"]["simulator"]
    fw = DolphinForewarner.load(write_model(model, tmp_path / "fw.json"))
    assert fw.assess(MC_BASE_CFG).status in ("OK", "ORANGE", "RED")


@pytest.mark.slow
def test_cli_mc_train_writes_the_model(tmp_path, capsys) -> None:
    from nautilus_dolphin.risk.cli import register

    parser = argparse.ArgumentParser(prog="dolphin")
    register(parser.add_subparsers(dest="command"))
    out = tmp_path / "fw.json"
    args = parser.parse_args(
        ["mc-train", "--n", "6", "--seed", "2", "--days", "2", "--bars", "400", "--out", str(out)]
    )
    assert args.func(args) == 0
    text = capsys.readouterr().out
    assert f"wrote {out}" in text and "MC_BASE_CFG assesses" in text
    model = DolphinForewarner.load(out)
    assert model.metadata["n"] == 6 and model.metadata["seed"] == 2
    bad = parser.parse_args(["mc-train", "--days", "1", "--out", str(tmp_path / "x.json")])
    assert bad.func(bad) == 2


@pytest.mark.slow
def test_trained_model_and_acb_wired_into_the_d_liq_engine(tmp_path) -> None:
    """The default pipeline's model keeps the D_LIQ engine OK at the 5x lever-swap; ACB values reach the days."""
    from nautilus_dolphin.config import ENGINE_KWARGS
    from nautilus_dolphin.data.schema import asset_columns
    from nautilus_dolphin.engine import create_d_liq_engine
    from nautilus_dolphin.risk.acb import ACBConfig
    from nautilus_dolphin.risk.acb import AdaptiveCircuitBreaker

    window = synthetic_window(6, 400, seed=5)
    sim = EngineWindowSimulator(window[:2])
    fw = DolphinForewarner.load(write_model(train_forewarner(24, 3, sim, created="x"), tmp_path / "fw.json"))
    frames = dict(window)
    acb = AdaptiveCircuitBreaker(ACBConfig(baseline_days=3, min_baseline_days=2))
    acb.preload_w750(list(frames), frames.__getitem__)
    eng = create_d_liq_engine(**ENGINE_KWARGS)
    eng.set_acb(acb)
    eng.set_mc_forewarner(fw, MC_BASE_CFG)
    eng.set_esoteric_hazard_multiplier(0.0)
    days = [eng.process_day(d, df, asset_columns(list(df.columns))) for d, df in window]
    assert [d["mc_status"] for d in days] == ["OK"] * 6
    assert eng.mc_seen_leverage == 5.0 and eng.base_max_leverage == 8.0
    assert [d["acb_boost"] for d in days] == [acb.get_day(d).boost for d, _ in window]
    assert [d["acb_beta"] for d in days] == [acb.get_day(d).beta for d, _ in window]
    assert days[0]["acb_boost"] == 1.0


@pytest.mark.slow
def test_cli_mc_train_on_a_vbt_cache_catalog(tmp_path, capsys) -> None:
    from nautilus_dolphin.risk.cli import register

    (tmp_path / "vbt_cache").mkdir()
    for d, df in synthetic_window(3, 300, seed=8):
        df.to_parquet(tmp_path / "vbt_cache" / f"{d}.parquet")
    (tmp_path / "vbt_cache" / "notes.parquet").write_bytes(b"not a day")  # ignored: not a date name
    parser = argparse.ArgumentParser(prog="dolphin")
    register(parser.add_subparsers(dest="command"))
    out = tmp_path / "fw.json"
    args = parser.parse_args(
        ["mc-train", "--n", "5", "--days", "2", "--catalog", str(tmp_path), "--out", str(out)]
    )
    assert args.func(args) == 0
    window = DolphinForewarner.load(out).metadata["window"]
    assert window["days"] == ["2026-01-01", "2026-01-02"]
    assert window["source"].startswith("vbt_cache:") and window["ob"] == "seeded OB gate"
    args = parser.parse_args(
        ["mc-train", "--n", "5", "--days", "4", "--catalog", str(tmp_path), "--out", str(out)]
    )
    assert args.func(args) == 2
    assert "holds 3 daily vbt_cache files, 4 needed" in capsys.readouterr().out
