"""MC-Forewarner: scoring pinned by hand, classification rules, JSON round trip, model-file errors."""

import json
import math

import pytest

from nautilus_dolphin.config import MC_BASE_CFG
from nautilus_dolphin.risk import forewarner as fw_mod
from nautilus_dolphin.risk.forewarner import DolphinForewarner
from nautilus_dolphin.risk.forewarner import ForewarnerModelError
from nautilus_dolphin.risk.forewarner import ForewarnerModelMissing
from nautilus_dolphin.risk.forewarner import write_model
from nautilus_dolphin.risk.mc_train import sample_configs
from nautilus_dolphin.risk.mc_train import train_forewarner


def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_assess_at_centre_by_hand(model_doc) -> None:
    fw = DolphinForewarner.from_dict(model_doc)
    a = fw.assess({"a": 1.0, "b": 10.0})  # z = (0, 0)
    assert a.status == "OK"
    assert a.envelope_d2 == 0.0
    assert a.predicted_max_dd == pytest.approx(0.1)
    assert a.predicted_roi == pytest.approx(0.2)
    assert a.catastrophic_prob == pytest.approx(_sig(-3.0))  # 0.047426
    assert a.reasons == () and a.missing_features == ()


def test_orange_by_predicted_dd_and_catastrophic_prob(model_doc) -> None:
    fw = DolphinForewarner.from_dict(model_doc)
    a = fw.assess({"a": 3.0, "b": 10.0})  # z = (2, 0): d2 = 4 (not > 4), dd = 0.1 + 0.1 + 0.04 = 0.24
    assert a.envelope_d2 == pytest.approx(4.0)
    assert a.predicted_max_dd == pytest.approx(0.24)
    assert a.predicted_roi == pytest.approx(0.4)
    assert a.catastrophic_prob == pytest.approx(_sig(-1.0))  # 0.268941 >= 0.25
    assert a.status == "ORANGE"
    assert set(a.reasons) == {"predicted_max_dd", "catastrophic_prob"}


def test_envelope_edge_orange_and_outside_red(model_doc) -> None:
    fw = DolphinForewarner.from_dict(model_doc)
    edge = fw.assess({"a": 1.0, "b": 15.0})  # z = (0, 2.5): d2 = 6.25 in (4, 9]
    assert edge.envelope_d2 == pytest.approx(6.25)
    assert (edge.status, edge.reasons) == ("ORANGE", ("envelope_edge",))
    out = fw.assess({"a": 1.0, "b": 17.0})  # z = (0, 3.5): d2 = 12.25 > 9
    assert (out.status, out.reasons) == ("RED", ("outside_envelope",))
    assert out.is_red


def test_red_by_catastrophic_prob(model_doc) -> None:
    fw = DolphinForewarner.from_dict(model_doc)
    a = fw.assess({"a": 3.5, "b": 10.0})  # z = (2.5, 0): d2 = 6.25, logit = -0.5 -> 0.3775 (ORANGE)
    assert a.status == "ORANGE"
    model_doc["thresholds"]["red_catastrophic_prob"] = 0.35
    a = DolphinForewarner.from_dict(model_doc).assess({"a": 3.5, "b": 10.0})
    assert a.catastrophic_prob == pytest.approx(_sig(-0.5))
    assert a.status == "RED" and "catastrophic_prob" in a.reasons


def test_predicted_dd_is_floored_at_zero(model_doc) -> None:
    model_doc["max_dd"]["coef"] = [-1.0, 0.0, 0.0, 0.0]
    a = DolphinForewarner.from_dict(model_doc).assess({"a": 2.0, "b": 10.0})  # 0.1 - 1.0 < 0
    assert a.predicted_max_dd == 0.0


def test_missing_feature_uses_default_and_is_reported(model_doc) -> None:
    fw = DolphinForewarner.from_dict(model_doc)
    a = fw.assess({"a": 1.0, "extra": 123.0})
    assert a.missing_features == ("b",)
    assert a.envelope_d2 == 0.0


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "x", None])
def test_bad_feature_value_is_named(model_doc, bad) -> None:
    fw = DolphinForewarner.from_dict(model_doc)
    with pytest.raises(ValueError, match="feature b"):
        fw.assess({"a": 1.0, "b": bad})


def test_json_round_trip_gives_same_assessments(tmp_path, analytic_simulator) -> None:
    model = train_forewarner(40, 1, analytic_simulator, created="2026-11-22")
    path = write_model(model, tmp_path / "m.json")
    loaded = DolphinForewarner.load(path)
    direct = DolphinForewarner.from_dict(model)
    assert loaded.to_dict() == model
    probes = [dict(MC_BASE_CFG), *sample_configs(25, 99), {**MC_BASE_CFG, "max_leverage": 30.0}]
    for cfg in probes:
        assert loaded.assess(cfg) == direct.assess(cfg)
    assert json.loads(path.read_text())["schema_version"] == 1  # plain JSON, nothing pickled
    # save() writes the same document again
    again = DolphinForewarner.load(loaded.save(tmp_path / "again.json"))
    assert again.to_dict() == model


def test_wrong_schema_version_is_a_clear_error(tmp_path, model_doc) -> None:
    model_doc["schema_version"] = 2
    p = tmp_path / "v2.json"
    p.write_text(json.dumps(model_doc))
    with pytest.raises(
        ForewarnerModelError, match=r"v2\.json: schema_version is 2.*version 1.*dolphin mc-train"
    ):
        DolphinForewarner.load(p)
    model_doc["schema_version"] = True
    with pytest.raises(ForewarnerModelError, match="schema_version"):
        DolphinForewarner.from_dict(model_doc)


def test_wrong_schema_name(model_doc) -> None:
    model_doc["schema"] = "sklearn.pickle"
    with pytest.raises(ForewarnerModelError, match=r"schema is 'sklearn\.pickle'"):
        DolphinForewarner.from_dict(model_doc)


@pytest.mark.parametrize(
    ("section", "key", "expected"),
    [
        ("envelope", "precision", "missing key envelope.precision"),
        ("standardiser", "scale", "missing key standardiser.scale"),
        ("thresholds", "orange_max_dd", "missing key thresholds.orange_max_dd"),
        (None, "catastrophic", "missing key catastrophic"),
        (None, "feature_names", "missing key feature_names"),
    ],
)
def test_missing_key_is_named(tmp_path, model_doc, section, key, expected) -> None:
    del (model_doc[section] if section else model_doc)[key]
    p = tmp_path / "m.json"
    p.write_text(json.dumps(model_doc))
    with pytest.raises(ForewarnerModelError, match=expected):
        DolphinForewarner.load(p)


def test_bad_shapes_and_values_are_named(model_doc) -> None:
    bad = json.loads(json.dumps(model_doc))
    bad["roi"]["coef"] = [0.1, 0.2]
    with pytest.raises(ForewarnerModelError, match=r"roi.coef has shape \(2,\), expected \(4,\)"):
        DolphinForewarner.from_dict(bad)
    bad = json.loads(json.dumps(model_doc))
    bad["standardiser"]["scale"] = [1.0, 0.0]
    with pytest.raises(ForewarnerModelError, match="scale must be > 0"):
        DolphinForewarner.from_dict(bad)
    bad = json.loads(json.dumps(model_doc))
    bad["envelope"]["d2_red"] = 1.0
    with pytest.raises(ForewarnerModelError, match=r"d2_orange <= envelope\.d2_red"):
        DolphinForewarner.from_dict(bad)


def test_not_json_is_a_clear_error(tmp_path) -> None:
    p = tmp_path / "model.json"
    p.write_bytes(b"\x80\x04\x95pickle-bytes")
    with pytest.raises(ForewarnerModelError, match="not a JSON forewarner model"):
        DolphinForewarner.load(p)


def test_write_model_refuses_nan(tmp_path, model_doc) -> None:
    model_doc["metadata"]["x"] = float("nan")
    with pytest.raises(ValueError):
        write_model(model_doc, tmp_path / "nan.json")
    assert not (tmp_path / "nan.json").exists()


def test_missing_shipped_model_names_file_and_command(tmp_path, monkeypatch) -> None:
    missing = tmp_path / "nope" / "mc_forewarner.json"
    monkeypatch.setattr(fw_mod, "default_model_path", lambda: missing)
    with pytest.raises(ForewarnerModelMissing, match=r"nope.*mc_forewarner\.json.*dolphin mc-train"):
        DolphinForewarner.load(None)


def test_shipped_model_is_ok_at_mc_ref() -> None:
    path = fw_mod.default_model_path()
    if not path.is_file():
        pytest.skip(f"shipped model not trained yet: {path} (run `dolphin mc-train`)")
    fw = DolphinForewarner.load()
    assert fw.assess(dict(MC_BASE_CFG, abs_max_leverage=MC_BASE_CFG["max_leverage"])).status == "OK"
    assert fw.assess(dict(MC_BASE_CFG, max_leverage=40.0, abs_max_leverage=45.0)).status == "RED"
