"""Payload codec: every rejection class with its reason, duplicates, encode/decode round trip, and a
hypothesis fuzz that never raises and never lets a non-finite feature through."""

import dataclasses
import json
import math
from datetime import datetime

import numpy as np
import pytest
from hypothesis import HealthCheck
from hypothesis import event
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_dolphin.obf.codec import REJECT_REASONS
from nautilus_dolphin.obf.codec import OBPayloadCodec
from nautilus_dolphin.obf.codec import parse_timestamp
from nautilus_dolphin.obf.features import OBFeatureEngine
from nautilus_dolphin.obf.types import OBSnapshot

ISO = "2026-03-26T12:34:56.789000+00:00"


def good(**over):
    p = {"timestamp": ISO, "bid_notional": [5.0, 4.0, 3.0, 2.0, 1.0], "ask_notional": [5.0, 4.0, 3.0, 2.0, 1.0],
         "bid_depth": [0.05, 0.04, 0.03, 0.02, 0.01], "ask_depth": [0.05, 0.04, 0.03, 0.02, 0.01],
         "_pushed_at": ISO, "_push_seq": 100}
    p.update(over)
    return {k: v for k, v in p.items() if v is not _DROP}


_DROP = object()


class HzJsonValueLike:
    """Stands in for hazelcast.core.HazelcastJsonValue: only ``to_string()``."""

    def __init__(self, text):
        self._text = text

    def to_string(self):
        return self._text


def test_initial_counters_have_every_reason():
    c = OBPayloadCodec()
    assert tuple(c.rejected) == REJECT_REASONS and set(c.rejected.values()) == {0}
    assert c.accepted == 0 and c.duplicates == 0


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ("{not json", "bad_json"),
        (b"\xff\xfe\x00", "bad_json"),
        ("[1, 2, 3]", "not_object"),
        (12345, "not_object"),
        (good(timestamp=_DROP), "missing_field"),
        (good(ask_depth=_DROP), "missing_field"),
        (good(_push_seq="abc"), "missing_field"),
        (good(bid_notional=[1.0, 2.0, 3.0, 4.0]), "wrong_length"),
        (good(ask_notional=[1.0] * 6), "wrong_length"),
        (good(bid_depth="1,2,3,4,5"), "wrong_length"),
        (good(ask_depth=[0.1, 0.1, -0.1, 0.1, 0.1]), "negative"),
        (good(bid_notional=[1.0, float("nan"), 1.0, 1.0, 1.0]), "non_finite"),
        ('{"timestamp": 1.0, "bid_notional": [1, 1, Infinity, 1, 1], "ask_notional": [1,1,1,1,1],'
         ' "bid_depth": [1,1,1,1,1], "ask_depth": [1,1,1,1,1]}', "non_finite"),
        (good(ask_notional=[1.0, "2", 1.0, 1.0, 1.0]), "non_finite"),
        (good(timestamp="yesterday"), "bad_timestamp"),
        (good(timestamp=1711453296901), "bad_timestamp"),  # milliseconds are not seconds
        (good(timestamp=-5.0), "bad_timestamp"),
        (good(timestamp=True), "bad_timestamp"),
    ],
)
def test_codec_rejects_each_bad_class_with_its_reason(payload, reason):
    c = OBPayloadCodec()
    if isinstance(payload, dict):
        payload = json.dumps(payload, allow_nan=True)
    assert c.decode("BTCUSDT", payload) is None
    assert c.rejected[reason] == 1
    assert sum(c.rejected.values()) == 1 and c.accepted == 0


def test_seq_backwards_duplicates_and_forget():
    c = OBPayloadCodec()
    assert c.decode("BTCUSDT", good(_push_seq=10)).push_seq == 10
    assert c.decode("BTCUSDT", good(_push_seq=10)) is None
    assert c.duplicates == 1 and c.total_rejected == 0
    assert c.decode("BTCUSDT", good(_push_seq=9)) is None
    assert c.rejected["seq_backwards"] == 1
    assert c.decode("ETHUSDT", good(_push_seq=1)) is not None  # per-asset ordering
    assert c.decode("BTCUSDT", good(_push_seq=_DROP)).push_seq == -1  # no seq: no ordering check
    c.forget("BTCUSDT")
    assert c.decode("BTCUSDT", good(_push_seq=3)) is not None
    c.forget()
    assert c.decode("ETHUSDT", good(_push_seq=0)) is not None
    assert c.accepted == 5


def test_duck_typed_json_value_bytes_and_mapping():
    c = OBPayloadCodec()
    text = json.dumps(good(_push_seq=_DROP))
    assert c.decode("A", HzJsonValueLike(text)) is not None
    assert c.decode("A", text.encode()) is not None
    assert c.decode("A", good(_push_seq=_DROP, bid_notional=np.ones(5))) is not None

    class Broken:
        def to_string(self):
            raise RuntimeError("boom")

    assert c.decode("A", Broken()) is None and c.rejected["bad_json"] == 1
    assert c.accepted == 3


def test_encode_decode_round_trip():
    c = OBPayloadCodec()
    snap = OBSnapshot("BTCUSDT", 1774528496.789, np.arange(1.0, 6.0), np.arange(2.0, 7.0),
                      np.full(5, 0.5), np.full(5, 0.25), pushed_at=1774528496.901, push_seq=7)
    text = c.encode(snap)
    obj = json.loads(text)
    assert obj["timestamp"] == "2026-03-26T12:34:56.789000+00:00" and obj["_push_seq"] == 7
    back = OBPayloadCodec().decode("BTCUSDT", text)
    assert back.timestamp == pytest.approx(snap.timestamp, abs=1e-6)
    assert back.pushed_at == pytest.approx(snap.pushed_at, abs=1e-6)
    for f in ("bid_notional", "ask_notional", "bid_depth", "ask_depth"):
        assert np.array_equal(getattr(back, f), getattr(snap, f))
    bad = OBSnapshot("BTCUSDT", 1.0, np.full(5, np.nan), np.ones(5), np.ones(5), np.ones(5))
    with pytest.raises(ValueError, match="bid_notional"):
        c.encode(bad)


def test_parse_timestamp_rejects_garbage():
    for v in (None, "nan", float("inf"), [1.0], "2026-13-01T00:00:00"):
        with pytest.raises(ValueError):
            parse_timestamp(v)


# ---------------------------------------------------------------------------------- fuzz
_num = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0.0, max_value=1e9),
    st.floats(min_value=0.0, max_value=1e-300),
    st.integers(min_value=-10, max_value=10**30),
    st.text(max_size=3),
    st.none(),
    st.booleans(),
)
_arr = st.one_of(
    st.lists(st.floats(min_value=0.0, max_value=1e308), min_size=5, max_size=5),
    st.lists(st.floats(min_value=0.0, max_value=1e7), min_size=5, max_size=5),
    st.lists(_num, min_size=0, max_size=7),
    _num,
)
_ts = st.one_of(
    st.floats(min_value=0.0, max_value=4.2e9),
    st.floats(),
    st.datetimes().map(lambda d: d.isoformat()),
    st.text(max_size=30),
    st.integers(),
    st.none(),
)
_obj = st.fixed_dictionaries(
    {"timestamp": _ts, "bid_notional": _arr, "ask_notional": _arr, "bid_depth": _arr, "ask_depth": _arr},
    optional={"_pushed_at": _ts, "_push_seq": st.one_of(st.integers(-5, 2**70), st.floats(), st.text(max_size=3))},
)

_pos = st.one_of(st.floats(min_value=0.0, max_value=1e308), st.floats(min_value=0.0, max_value=1e6),
                 st.just(0.0), st.floats(min_value=0.0, max_value=1e-300))
_valid_arr = st.lists(_pos, min_size=5, max_size=5)
_valid_obj = st.fixed_dictionaries(
    {"timestamp": st.one_of(st.floats(min_value=0.0, max_value=4.1e9),
                            st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2099, 1, 1))
                            .map(lambda d: d.isoformat())),
     "bid_notional": _valid_arr, "ask_notional": _valid_arr, "bid_depth": _valid_arr, "ask_depth": _valid_arr},
    optional={"_push_seq": st.integers(0, 20)},
)


def _encoded(obj):
    try:
        return json.dumps(obj, allow_nan=True)
    except (ValueError, TypeError, OverflowError):
        return "{}"


_payload = st.one_of(
    _valid_obj,
    _valid_obj.map(_encoded),
    _obj,
    _obj.map(_encoded),
    _obj.map(lambda o: _encoded(o).encode()),
    _obj.map(lambda o: HzJsonValueLike(_encoded(o))),
    st.text(max_size=50),
    st.binary(max_size=50),
    st.recursive(st.none() | st.integers() | st.text(max_size=5), lambda c: st.lists(c) | st.dictionaries(st.text(max_size=5), c), max_leaves=10),
)


class _OneBook:
    def __init__(self):
        self.snap = None

    def get_snapshot(self, asset, ts):
        return self.snap

    def get_all_timestamps(self, asset):
        return []


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads=st.lists(_payload, min_size=1, max_size=3))
def test_codec_fuzz_never_raises_and_features_stay_finite(payloads):
    codec = OBPayloadCodec()
    book = _OneBook()
    eng = OBFeatureEngine(book)
    for i, p in enumerate(payloads):
        snap = codec.decode("BTCUSDT", p)
        assert codec.accepted + codec.duplicates + codec.total_rejected == i + 1
        event("accepted" if snap is not None else "not accepted")
        if snap is None:
            continue
        assert math.isfinite(snap.timestamp)
        book.snap = snap
        eng.step_live(["BTCUSDT"], i, timestamp=snap.timestamp)
        recs = (eng.get_placement("BTCUSDT", i), eng.get_signal("BTCUSDT", i), eng.get_macro(i),
                eng.get_market("BTCUSDT", i))
        values = [float(getattr(r, f.name)) for r in recs for f in dataclasses.fields(r)]
        assert all(math.isfinite(v) for v in values), values
