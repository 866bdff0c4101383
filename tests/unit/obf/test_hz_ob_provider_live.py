"""Seed 000 §7: the live switchover tests (step_live, live caches, _resolve_idx, EMA, timestamps)."""

import json
import logging
import math
from datetime import UTC
from datetime import datetime

import pytest

from nautilus_dolphin.obf.codec import OBPayloadCodec
from nautilus_dolphin.obf.codec import parse_timestamp
from nautilus_dolphin.obf.features import OBFeatureEngine
from nautilus_dolphin.obf.types import CASCADE_CALM
from nautilus_dolphin.obf.types import CASCADE_CASCADE
from nautilus_dolphin.obf.types import OBPlacementFeatures
from nautilus_dolphin.obf.types import OBSignalFeatures

ASSETS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
T0 = 1_767_225_600.0


def _fill(provider, snap_factory, bids=(600_000.0, 550_000.0, 400_000.0), asks=(400_000.0, 450_000.0, 600_000.0)):
    for asset, b, a in zip(ASSETS, bids, asks):
        provider.books[asset] = snap_factory(asset=asset, bid_total=b, ask_total=a)


def test_step_live_fetches_snapshots(fake_provider, snap_factory):
    _fill(fake_provider, snap_factory)
    eng = OBFeatureEngine(fake_provider)
    used = eng.step_live(ASSETS, 0, timestamp=T0)
    assert used == 3
    assert [a for a, _ in fake_provider.calls] == ASSETS
    assert all(ts == T0 for _, ts in fake_provider.calls)
    assert eng.live_mode and eng.bars_stepped == 1 and eng.snapshots_used == 3


def test_step_live_populates_placement_cache(fake_provider, snap_factory):
    _fill(fake_provider, snap_factory)
    eng = OBFeatureEngine(fake_provider)
    for bar in range(6):
        eng.step_live(ASSETS, bar, timestamp=T0 + 5 * bar)
    pl = eng.get_placement("BTCUSDT", 5.0)
    assert pl != OBPlacementFeatures()
    # all five levels lie within 1 % of mid: depth_1pct is the whole book
    assert pl.depth_1pct_usd == pytest.approx(1_000_000.0)
    assert pl.depth_quality == pytest.approx(1.0)  # constant book: depth equals its EMA reference
    assert pl.fill_probability == pytest.approx(1.0 / 1.6)
    # implied spread: one tick (0.01) on a 100.0 mid = 1 bp
    assert pl.spread_proxy_bps == pytest.approx(1.0, rel=1e-6)


def test_step_live_populates_signal_cache(fake_provider, snap_factory):
    _fill(fake_provider, snap_factory)
    eng = OBFeatureEngine(fake_provider)
    for bar in range(4):
        eng.step_live(ASSETS, bar, timestamp=T0 + 5 * bar)
    sig = eng.get_signal("BTCUSDT", 3)
    assert sig.imbalance == pytest.approx(0.2)
    assert sig.imbalance_ma5 == pytest.approx(0.2)
    assert sig.imbalance_persistence == pytest.approx(1.0)
    assert sig.withdrawal_velocity == pytest.approx(0.0)
    # flip the book: persistence drops to the share of bars on the new side (1 of 5)
    fake_provider.books["BTCUSDT"] = snap_factory(asset="BTCUSDT", bid_total=400_000.0, ask_total=600_000.0)
    eng.step_live(ASSETS, 4, timestamp=T0 + 20)
    sig = eng.get_signal("BTCUSDT", 4)
    assert sig.imbalance == pytest.approx(-0.2)
    assert sig.imbalance_persistence == pytest.approx(1 / 5)
    assert sig.imbalance_ma5 == pytest.approx((4 * 0.2 - 0.2) / 5)


def test_step_live_market_features(fake_provider, snap_factory):
    _fill(fake_provider, snap_factory)  # imbalances +0.2, +0.1, -0.2
    eng = OBFeatureEngine(fake_provider)
    eng.step_live(ASSETS, 0, timestamp=T0)
    macro = eng.get_macro(0)
    assert macro.median_imbalance == pytest.approx(0.1)
    assert macro.agreement_pct == pytest.approx(2 / 3)
    assert macro.depth_pressure == pytest.approx(0.1)
    assert macro.cascade_regime == CASCADE_CALM
    mkt = eng.get_market("SOLUSDT", 0)
    assert mkt.relative_imbalance == pytest.approx(-0.3)
    # all books lose 60 % of their depth: every asset drains -> CASCADE
    for bar in range(1, 4):
        eng.step_live(ASSETS, bar, timestamp=T0 + 5 * bar)
    for asset in ASSETS:
        fake_provider.books[asset] = snap_factory(asset=asset, bid_total=200_000.0, ask_total=200_000.0)
    eng.step_live(ASSETS, 4, timestamp=T0 + 20)
    assert eng.get_signal("BTCUSDT", 4).withdrawal_velocity == pytest.approx(-0.6)
    assert eng.get_macro(4).cascade_regime == CASCADE_CASCADE
    assert eng.get_market("ETHUSDT", 4).cascade_regime == CASCADE_CASCADE


def test_step_live_none_snapshot_skipped(fake_provider, snap_factory):
    fake_provider.books["BTCUSDT"] = snap_factory(asset="BTCUSDT", bid_total=600_000.0, ask_total=400_000.0)
    eng = OBFeatureEngine(fake_provider)
    used = eng.step_live(ASSETS, 0, timestamp=T0)
    assert used == 1
    assert eng.assets_missing == 2
    assert eng.get_signal("ETHUSDT", 0) == OBSignalFeatures()
    assert eng.get_signal("BTCUSDT", 0).imbalance == pytest.approx(0.2)
    assert eng.get_macro(0).median_imbalance == pytest.approx(0.2)  # macro over present assets only


def test_step_live_stale_warning(fake_provider, snap_factory, caplog):
    _fill(fake_provider, snap_factory)
    eng = OBFeatureEngine(fake_provider)
    eng.step_live(ASSETS, 0, timestamp=T0)
    fake_provider.books.clear()
    caplog.set_level(logging.WARNING, logger="nautilus_dolphin.obf.features")
    eng.step_live(ASSETS, 1, timestamp=T0 + 5)
    eng.step_live(ASSETS, 2, timestamp=T0 + 10)
    assert not [r for r in caplog.records if "no snapshots" in r.getMessage()]
    assert eng.get_signal("BTCUSDT", 2).imbalance == pytest.approx(0.2)  # graceful: latest bar
    eng.step_live(ASSETS, 3, timestamp=T0 + 15)
    warnings = [r for r in caplog.records if "no snapshots for 3 bars" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert eng.is_stale and eng.stale_bars == 3
    assert eng.get_signal("BTCUSDT", 3) == OBSignalFeatures()  # stale: defaults, gate degrades
    # recovery
    _fill(fake_provider, snap_factory)
    eng.step_live(ASSETS, 4, timestamp=T0 + 20)
    assert not eng.is_stale and eng.stale_count == 0
    assert any("back after 3 stale bars" in r.getMessage() for r in caplog.records)
    assert eng.get_signal("BTCUSDT", 4).imbalance == pytest.approx(0.2)


def test_step_live_cache_eviction(fake_provider, snap_factory):
    _fill(fake_provider, snap_factory)
    eng = OBFeatureEngine(fake_provider)
    for bar in range(501):
        eng.step_live(ASSETS, bar, timestamp=T0 + 5 * bar)
    bars = eng.live_bars()
    assert len(bars) == 500 and bars[0] == 1 and bars[-1] == 500
    assert eng._resolve_idx("BTCUSDT", 0) == 500  # bar 0 is gone: falls back to the latest bar


def test_resolve_idx_live_mode(fake_provider, snap_factory):
    _fill(fake_provider, snap_factory)
    eng = OBFeatureEngine(fake_provider)
    for bar in (10, 11, 12):
        eng.step_live(ASSETS, bar, timestamp=T0 + bar)
    assert eng._resolve_idx("BTCUSDT", 11) == 11
    assert eng._resolve_idx("BTCUSDT", 11.0) == 11
    assert eng._resolve_idx("NOPEUSDT", 11) is None


def test_resolve_idx_live_fallback(fake_provider, snap_factory):
    _fill(fake_provider, snap_factory)
    eng = OBFeatureEngine(fake_provider)
    for bar in (3, 4, 5):
        eng.step_live(ASSETS, bar, timestamp=T0 + bar)
    assert eng._resolve_idx("BTCUSDT", 999) == 5
    assert eng._resolve_idx("BTCUSDT", 0) == 5
    # an asset missing at the latest bar falls back to its own latest bar
    del fake_provider.books["SOLUSDT"]
    eng.step_live(ASSETS, 6, timestamp=T0 + 6)
    assert eng._resolve_idx("SOLUSDT", 6) == 5
    assert eng._resolve_idx("BTCUSDT", 6) == 6


def test_median_depth_ema(fake_provider, snap_factory):
    fake_provider.books["BTCUSDT"] = snap_factory(bid_total=500_000.0, ask_total=500_000.0)
    eng = OBFeatureEngine(fake_provider)
    eng.step_live(["BTCUSDT"], 0, timestamp=T0)
    assert eng._median_depth_ref["BTCUSDT"] == pytest.approx(1_000_000.0)  # seeded with first depth
    fake_provider.books["BTCUSDT"] = snap_factory(bid_total=1_000_000.0, ask_total=1_000_000.0)
    eng.step_live(["BTCUSDT"], 1, timestamp=T0 + 5)
    assert eng._median_depth_ref["BTCUSDT"] == pytest.approx(0.99 * 1e6 + 0.01 * 2e6)
    for bar in range(2, 600):
        eng.step_live(["BTCUSDT"], bar, timestamp=T0 + 5 * bar)
    # closed form of the EMA after n steps towards 2e6 from 1e6
    expected = 2e6 - 1e6 * 0.99**599
    assert eng._median_depth_ref["BTCUSDT"] == pytest.approx(expected, rel=1e-9)
    assert eng.get_placement("BTCUSDT", 599).depth_quality == pytest.approx(2e6 / expected)


def test_hz_ob_provider_timestamp_iso():
    """Subject: the codec's timestamp normalisation (parse_timestamp / OBPayloadCodec.decode) that the
    Hazelcast OB provider uses; ISO-8601 strings become unix float seconds."""
    iso = "2026-03-26T12:34:56.789000+00:00"
    expected = datetime(2026, 3, 26, 12, 34, 56, 789000, tzinfo=UTC).timestamp()
    assert parse_timestamp(iso) == pytest.approx(expected, abs=1e-6)
    assert parse_timestamp("2026-03-26T12:34:56.789Z") == pytest.approx(expected, abs=1e-6)
    assert parse_timestamp("2026-03-26T14:34:56.789+02:00") == pytest.approx(expected, abs=1e-6)
    payload = {"timestamp": iso, "bid_notional": [1.0] * 5, "ask_notional": [1.0] * 5,
               "bid_depth": [0.01] * 5, "ask_depth": [0.01] * 5, "_pushed_at": "2026-03-26T12:34:56.901000+00:00",
               "_push_seq": 1711453296901}
    snap = OBPayloadCodec().decode("BTCUSDT", json.dumps(payload))
    assert isinstance(snap.timestamp, float) and snap.timestamp == pytest.approx(expected, abs=1e-6)
    assert snap.pushed_at == pytest.approx(expected + 0.112, abs=1e-6)


def test_hz_ob_provider_timestamp_float():
    """Subject: the codec's timestamp normalisation that the Hazelcast OB provider uses; a unix float
    (or int) timestamp passes through unchanged."""
    ts = 1774528496.789
    assert parse_timestamp(ts) == ts
    assert parse_timestamp(1774528496) == 1774528496.0
    payload = {"timestamp": ts, "bid_notional": [1.0] * 5, "ask_notional": [1.0] * 5,
               "bid_depth": [0.01] * 5, "ask_depth": [0.01] * 5}
    snap = OBPayloadCodec().decode("BTCUSDT", payload)
    assert snap.timestamp == ts and snap.push_seq == -1 and math.isnan(snap.pushed_at)
