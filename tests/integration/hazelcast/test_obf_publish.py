"""``dolphin obf-publish`` end to end, and its Hazelcast writer against the TEST member.

Chain: loopback Binance USDT-M venue (TEST STAND-IN, subprocess) -> the real Nautilus Binance data
client in the publisher node (subprocess, ``python -m adapters.hazelcast.publisher_cli``) ->
loopback Hazelcast TEST member (in-process) -> a real ``hazelcast-python-client`` reading the map.
"""

import json
import time

import numpy as np
import pytest

from adapters.hazelcast.config import HazelcastClientSettings
from adapters.hazelcast.writer import HazelcastWriter
from adapters.hazelcast.writer import PushSequencer
from adapters.hazelcast.writer import book_levels
from adapters.loopback.hazelcast import HazelcastTestMember
from adapters.loopback.hazelcast import free_port
from adapters.loopback.hazelcast import wait_until
from nautilus_dolphin.data.universe import UNIVERSE
from nautilus_dolphin.obf.codec import OBPayloadCodec

MAP = "DOLPHIN_FEATURES"
SYMBOLS = ("BTCUSDT", "ETHUSDT")


# -- pieces without sockets ------------------------------------------------------------------------


def test_push_sequencer_is_monotonic_and_starts_at_wall_clock_ms() -> None:
    now = [1_700_000_000.0]
    seq = PushSequencer(clock=lambda: now[0])
    a = seq.next()
    b = seq.next()  # same millisecond: +1
    now[0] -= 5.0  # clock stepped back: still increasing
    c = seq.next()
    assert a == 1_700_000_000_000 and b == a + 1 and c == b + 1
    # a restarted publisher (new sequencer) starts above what the old one wrote 1 s earlier
    now[0] += 6.0
    assert PushSequencer(clock=lambda: now[0]).next() > c


def test_book_levels_notional_depth_and_padding() -> None:
    bids = [(100.0, 2.0), (99.5, 1.0)]
    asks = [(100.5, 3.0), (101.0, 0.5), (101.5, 1.0), (102.0, 1.0), (102.5, 1.0), (103.0, 9.0)]
    bn, an, bd, ad = book_levels(bids, asks)
    np.testing.assert_allclose(bn, [200.0, 99.5, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(bd, [2.0, 1.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(an, [301.5, 50.5, 101.5, 102.0, 102.5])  # 6th level ignored
    np.testing.assert_allclose(ad, [3.0, 0.5, 1.0, 1.0, 1.0])
    assert book_levels([], asks) is None
    assert book_levels(bids, [(float("nan"), 1.0)]) is None
    assert book_levels([(100.0, -1.0)], asks) is None


# -- the writer against the TEST member ----------------------------------------------------------


@pytest.mark.timeout(60)
def test_writer_drops_while_down_then_writes_when_member_starts(no_leaks, make_client, payloads) -> None:
    port = free_port()
    no_leaks.append(port)
    settings = HazelcastClientSettings(members=(f"127.0.0.1:{port}",), connection_timeout_s=1.0,
                                       retry_initial_backoff_s=0.2, retry_max_backoff_s=0.5)
    writer = HazelcastWriter(settings).start()
    member = None
    try:
        assert writer.put_all({"asset_BTCUSDT_ob": payloads("BTCUSDT", 1)}) is False  # never blocks, never raises
        assert writer.counters()["dropped_offline"] == 1
        member = HazelcastTestMember(port=port).start()
        assert writer.wait_ready(15.0), writer.counters()
        assert writer.put_all({"asset_BTCUSDT_ob": payloads("BTCUSDT", 2)}) is True
        assert wait_until(lambda: writer.counters().get("batches_ok") == 1, 5.0), writer.counters()
        snap = OBPayloadCodec().decode("BTCUSDT", member.get_direct(MAP, "asset_BTCUSDT_ob"))
        assert snap is not None and snap.push_seq == 2
    finally:
        writer.close()
        if member is not None:
            member.close()


@pytest.mark.timeout(60)
def test_writer_backpressure_on_stalled_member(member, payloads) -> None:
    settings = HazelcastClientSettings(members=(member.address,), heartbeat_timeout_s=30.0)
    writer = HazelcastWriter(settings, max_in_flight=3).start()
    try:
        assert writer.wait_ready(10.0)
        member.stall()
        t0 = time.monotonic()
        results = [writer.put_all({"asset_ETHUSDT_ob": payloads("ETHUSDT", i)}) for i in range(1, 11)]
        assert time.monotonic() - t0 < 1.0, "put_all blocked on a stalled member"
        assert results == [True] * 3 + [False] * 7
        assert writer.counters()["dropped_backpressure"] == 7
        member.resume()
        assert wait_until(lambda: writer.counters().get("batches_ok") == 3, 10.0), writer.counters()
        assert writer.put_all({"asset_ETHUSDT_ob": payloads("ETHUSDT", 99)}) is True
        assert wait_until(lambda: writer.counters().get("in_flight") == 0, 5.0)
        assert OBPayloadCodec().decode("ETHUSDT", member.get_direct(MAP, "asset_ETHUSDT_ob")).push_seq == 99
    finally:
        writer.close()


@pytest.mark.timeout(60)
def test_writer_member_killed_and_restarted_then_close_drains(member, payloads) -> None:
    settings = HazelcastClientSettings(members=(member.address,), connection_timeout_s=1.0,
                                       retry_initial_backoff_s=0.1, retry_max_backoff_s=0.5)
    writer = HazelcastWriter(settings).start()
    try:
        assert writer.wait_ready(10.0)
        assert writer.put_all({"asset_BTCUSDT_ob": payloads("BTCUSDT", 1)}) is True
        assert wait_until(lambda: writer.counters().get("batches_ok") == 1, 5.0)
        member.crash()
        assert wait_until(lambda: not writer.ready, 10.0), writer.counters()
        assert writer.put_all({"asset_BTCUSDT_ob": payloads("BTCUSDT", 2)}) is False  # dropped, not queued
        member.restart()
        assert writer.wait_ready(15.0), writer.counters()
        c = writer.counters()
        assert c["disconnects"] >= 1 and c["connects"] >= 2 and c["dropped_offline"] >= 1
        # the last batch is still in flight when close() is called: close waits for its answer
        assert writer.put_all({"asset_BTCUSDT_ob": payloads("BTCUSDT", 3)}) is True
    finally:
        writer.close()
    c = writer.counters()
    assert c["batches_ok"] == 2 and c["in_flight"] == 0 and c.get("batches_failed", 0) == 0, c
    assert OBPayloadCodec().decode("BTCUSDT", member.get_direct(MAP, "asset_BTCUSDT_ob")).push_seq == 3


# -- the publisher node end to end ---------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_obf_publish_end_to_end_binance_venue_to_member(member, make_client, binance_venue, spawn, obf) -> None:
    venue = binance_venue(SYMBOLS)
    args, env = obf.args(venue, member.address, SYMBOLS, 15.0)  # room for a slow start under load
    pub = spawn(args, env=env)
    reader = make_client(member.address).get_map(MAP)
    keys = [f"asset_{s}_ob" for s in SYMBOLS]
    seen: dict[str, list] = {s: [] for s in SYMBOLS}
    ages: list[float] = []
    deadline = time.monotonic() + 45.0
    dropped_ws = False
    while time.monotonic() < deadline and min(len(v) for v in seen.values()) < 20:
        assert pub.proc.poll() is None or any(seen.values()), "publisher exited before publishing"
        if not dropped_ws and min(len(v) for v in seen.values()) >= 8:
            # the venue drops its market streams: Nautilus reconnects and rebuilds every book from a
            # REST snapshot stamped with the LOCAL clock (no exchange time); the payload timestamp must
            # stay on the exchange's clock and never go backwards (readers would freeze the asset)
            _control(venue.banner["port"], "close_websockets", {"which": "market"})
            dropped_ws = True
        entries = reader.get_all(keys).result()
        now = time.time()
        for key, value in entries.items():
            sym = key[len("asset_"):-len("_ob")]
            snap = OBPayloadCodec().decode(sym, value)
            assert snap is not None, f"payload of {key} does not decode: {value!r}"
            json.loads(value)  # the stored value is the codec's JSON text
            if not seen[sym] or snap.push_seq != seen[sym][-1].push_seq:
                seen[sym].append(snap)
                ages.append(now - snap.pushed_at)
        time.sleep(0.15)
    assert pub.stop(timeout=30.0) == 0, pub.err[-3000:]
    for sym, snaps in seen.items():
        assert len(snaps) >= 20, f"{sym}: only {len(snaps)} distinct snapshots"
        seqs = [s.push_seq for s in snaps]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), f"{sym}: _push_seq not increasing {seqs}"
        assert seqs[0] > 1_600_000_000_000, "push_seq is not >= unix ms"
        book_ts = [s.timestamp for s in snaps]  # the venue's market time of the last book update
        assert book_ts == sorted(book_ts) and book_ts[-1] > book_ts[0], "book timestamp does not advance"
        # the loopback venue's market clock runs ~6 h behind the wall clock: a local-clock stamp would show
        assert max(book_ts) < time.time() - 3600.0, "a payload carries the local clock, not the exchange's"
        for s in snaps:
            assert np.all(s.bid_depth > 0) and np.all(s.ask_depth > 0), "venue books have 10 levels a side"
            bid_px = s.bid_notional / s.bid_depth
            ask_px = s.ask_notional / s.ask_depth
            assert np.all(np.diff(bid_px) < 0) and np.all(np.diff(ask_px) > 0), "levels not best-first"
            assert bid_px[0] < ask_px[0], "crossed book"
            ref = UNIVERSE[sym].ref_price
            assert 0.5 * ref < bid_px[0] < 2.0 * ref
    # fresh: read within a cadence or two of publication (generous under shared CPU)
    assert float(np.median(ages)) < 0.5 and max(ages) < 3.0, ages
    final = json.loads(pub.out.strip().splitlines()[-1])["obf_publish"]
    assert final["payloads_sent"] >= 40 and final.get("encode_refused", 0) == 0
    assert final["untimed_updates"] >= 2 * len(SYMBOLS), "the books were not rebuilt after the stream drop"
    assert final.get("writer.batches_failed", 0) == 0
    # the credentials went through environment variables only and were never logged
    assert obf.secret not in pub.out + pub.err and obf.secret_env in " ".join(args)
    assert obf.key not in pub.out + pub.err


def _control(port: int, action: str, body: dict) -> dict:
    """POST to the loopback venue's test control API."""
    import urllib.request

    req = urllib.request.Request(f"http://127.0.0.1:{port}/_control/{action}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read() or b"{}")


@pytest.mark.timeout(60)
def test_obf_publish_refuses_missing_credentials(spawn, member) -> None:
    p = spawn(["-m", "adapters.hazelcast.publisher_cli", "--assets", "BTCUSDT", "--hz-members", member.address,
               "--api-key-env", "DOLPHIN_TEST_UNSET_KEY_VAR", "--api-secret-env", "DOLPHIN_TEST_UNSET_SECRET_VAR",
               "--duration", "1"])
    assert p.proc.wait(timeout=40) == 2
    p.stop()
    assert "DOLPHIN_TEST_UNSET_KEY_VAR" in p.err and "not set" in p.err
