"""``HZOBProvider`` against the loopback TEST member with the real hazelcast client."""

import json
import time

import pytest

from adapters.hazelcast.providers import HZOBProvider
from adapters.loopback.hazelcast import HazelcastTestMember
from adapters.loopback.hazelcast import free_port
from adapters.loopback.hazelcast import wait_until
from nautilus_dolphin.obf.types import OBProvider

MAP = "DOLPHIN_FEATURES"
FAST = {"heartbeat_interval_s": 0.5, "heartbeat_timeout_s": 3.0, "invocation_timeout_s": 3.0,
        "connection_timeout_s": 1.0, "retry_initial_backoff_s": 0.1, "retry_max_backoff_s": 0.5,
        "rebuild_backoff_s": 0.5}


@pytest.mark.timeout(30)
def test_provider_reads_initial_values_and_events(member, make_client, payloads):
    member.put_direct(MAP, "asset_BTCUSDT_ob", payloads("BTCUSDT", 1))
    with HZOBProvider(hz_cluster="dev", hz_host=member.address, assets=["BTCUSDT", "ETHUSDT"], **FAST) as prov:
        assert isinstance(prov, OBProvider)
        assert prov.get_all_timestamps("BTCUSDT") == []
        assert wait_until(lambda: prov.get_snapshot("BTCUSDT", time.time()) is not None, 10.0)
        assert prov.get_snapshot("BTCUSDT", time.time()).push_seq == 1  # from the start get_all
        assert prov.get_snapshot("ETHUSDT", time.time()) is None  # never published
        writer = make_client(member.address).get_map(MAP).blocking()
        writer.set("asset_ETHUSDT_ob", payloads("ETHUSDT", 7, scale=2.0))
        assert wait_until(lambda: prov.get_snapshot("ETHUSDT", time.time()) is not None, 5.0)
        snap = prov.get_snapshot("ETHUSDT", time.time())
        assert snap.push_seq == 7 and snap.bid_notional[0] == pytest.approx(2e5)
        c = prov.counters()
        assert c["resyncs"] >= 1 and c["events"] >= 1 and c["accepted"] >= 2
        assert c["get_missing"] >= 1


@pytest.mark.timeout(30)
def test_provider_staleness_and_bad_payloads(member, make_client, payloads):
    with HZOBProvider(hz_cluster="dev", hz_host=member.address, assets=["BTCUSDT"], max_snapshot_age_s=5.0,
                      **FAST) as prov:
        assert prov.wait_connected(10.0)
        assert wait_until(lambda: prov.counters().get("listener_registrations", 0) >= 1, 5.0)
        writer = make_client(member.address).get_map(MAP).blocking()
        writer.set("asset_BTCUSDT_ob", payloads("BTCUSDT", 1, ts=time.time() - 60.0))  # a minute old
        assert wait_until(lambda: prov.feed.latest("BTCUSDT") is not None, 5.0)
        assert prov.get_snapshot("BTCUSDT", time.time()) is None  # too old
        writer.set("asset_BTCUSDT_ob", "{not json")
        writer.set("asset_BTCUSDT_ob", json.dumps({"timestamp": time.time(), "bid_notional": [1, 2]}))
        writer.set("asset_BTCUSDT_ob", payloads("BTCUSDT", 2))
        assert wait_until(lambda: prov.get_snapshot("BTCUSDT", time.time()) is not None, 5.0)
        c = prov.counters()
        assert c["rejected"]["bad_json"] == 1
        assert c["rejected"]["missing_field"] + c["rejected"]["wrong_length"] == 1
        assert c["get_stale"] >= 1


@pytest.mark.timeout(40)
def test_provider_down_at_start_never_blocks_then_connects(payloads, no_leaks):
    port = free_port()
    no_leaks.append(port)
    t0 = time.monotonic()
    prov = HZOBProvider(hz_cluster="dev", hz_host=f"127.0.0.1:{port}", assets=["BTCUSDT"], **FAST)
    member = HazelcastTestMember(port=port)
    try:
        assert time.monotonic() - t0 < 0.5
        t1 = time.monotonic()
        assert prov.get_snapshot("BTCUSDT", time.time()) is None
        assert time.monotonic() - t1 < 0.05  # never waits on the network
        member.start()
        member.put_direct(MAP, "asset_BTCUSDT_ob", payloads("BTCUSDT", 3))
        assert wait_until(lambda: prov.get_snapshot("BTCUSDT", time.time()) is not None, 15.0), prov.counters()
    finally:
        prov.close()
        member.close()


@pytest.mark.timeout(60)
def test_provider_resyncs_after_restart(member, payloads):
    with HZOBProvider(hz_cluster="dev", hz_host=member.address, assets=["BTCUSDT"], **FAST) as prov:
        member.put_direct(MAP, "asset_BTCUSDT_ob", payloads("BTCUSDT", 1))
        assert wait_until(lambda: prov.feed.latest("BTCUSDT") is not None, 10.0)
        member.crash()
        assert wait_until(lambda: not prov.feed.connected, 10.0)
        t0 = time.monotonic()
        assert prov.get_snapshot("BTCUSDT", time.time()).push_seq == 1  # last known kept, served at once
        assert time.monotonic() - t0 < 0.05
        member.put_direct(MAP, "asset_BTCUSDT_ob", payloads("BTCUSDT", 2))  # written during the outage
        member.restart(keep_data=True)
        assert wait_until(lambda: prov.feed.latest("BTCUSDT").push_seq == 2, 15.0), prov.counters()
        c = prov.counters()
        assert c["reconnects"] >= 1 and c["resyncs"] >= 2 and c["disconnects"] >= 1


@pytest.mark.timeout(40)
def test_provider_wrong_cluster_name_rebuilds_and_stays_usable(member):
    opts = dict(FAST, cluster_connect_timeout_s=1.0)
    with HZOBProvider(hz_cluster="wrong", hz_host=member.address, assets=["BTCUSDT"], **opts) as prov:
        assert wait_until(lambda: prov.counters().get("client_builds", 0) >= 2, 20.0), prov.counters()
        assert prov.get_snapshot("BTCUSDT", time.time()) is None
        c = prov.counters()
        assert c["client_shutdowns"] >= 1 and not c["connected"]
        assert member.counters()["auth_failed"] >= 1


@pytest.mark.timeout(40)
def test_provider_poll_mode(member, payloads):
    member.put_direct(MAP, "asset_BTCUSDT_ob", payloads("BTCUSDT", 1))
    with HZOBProvider(hz_cluster="dev", hz_host=member.address, assets=["BTCUSDT"], mode="poll",
                      poll_interval_s=0.05, **FAST) as prov:
        assert wait_until(lambda: prov.feed.latest("BTCUSDT") is not None, 10.0)
        member.put_direct(MAP, "asset_BTCUSDT_ob", payloads("BTCUSDT", 2))
        assert wait_until(lambda: prov.feed.latest("BTCUSDT").push_seq == 2, 5.0)
        c = prov.counters()
        assert c["polls"] >= 2 and c.get("events", 0) == 0 and member.counters().get("listeners", 0) == 0
