"""The REAL hazelcast-python-client over TCP against the loopback TEST member.

Happy path (smart and unisocket routing) and the failure modes the data client must survive:
member down at start, killed and restarted, stalled (TCP open, no replies), wrong cluster name.
"""

import threading
import time

import pytest
from hazelcast.core import HazelcastJsonValue
from hazelcast.errors import ClientOfflineError
from hazelcast.errors import HazelcastError
from hazelcast.errors import IllegalStateError
from hazelcast.errors import UnsupportedOperationError
from hazelcast.lifecycle import LifecycleState

from adapters.loopback.hazelcast import HazelcastTestMember
from adapters.loopback.hazelcast import free_port
from adapters.loopback.hazelcast import wait_until

MAP = "DOLPHIN_FEATURES"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("smart", [True, False], ids=["smart", "unisocket"])
def test_map_operations_and_entry_events(member, make_client, smart):
    writer = make_client(member.address, smart_routing=smart)
    reader = make_client(member.address, smart_routing=smart)
    wmap = writer.get_map(MAP).blocking()
    rmap = reader.get_map(MAP).blocking()
    events: list[tuple[str, str, object]] = []
    lock = threading.Lock()

    def on(kind):
        def cb(event):
            with lock:
                events.append((kind, event.key, event.value))

        return cb

    reg = rmap.add_entry_listener(include_value=True, added_func=on("added"), updated_func=on("updated"),
                                  removed_func=on("removed"))
    assert wmap.put("asset_BTCUSDT_ob", "v1") is None
    assert wmap.put("asset_BTCUSDT_ob", "v2") == "v1"
    wmap.set("asset_ETHUSDT_ob", HazelcastJsonValue('{"x": 1}'))
    assert rmap.get("asset_BTCUSDT_ob") == "v2"
    assert rmap.get("missing") is None
    got = rmap.get_all(["asset_BTCUSDT_ob", "asset_ETHUSDT_ob", "asset_SOLUSDT_ob"])
    assert got["asset_BTCUSDT_ob"] == "v2"
    assert got["asset_ETHUSDT_ob"].loads() == {"x": 1}  # the writer's type comes back
    assert "asset_SOLUSDT_ob" not in got
    assert rmap.size() == 2 and rmap.contains_key("asset_ETHUSDT_ob")
    assert sorted(rmap.key_set()) == ["asset_BTCUSDT_ob", "asset_ETHUSDT_ob"]
    assert wmap.remove("asset_BTCUSDT_ob") == "v2"
    assert wait_until(lambda: len(events) >= 4, 5.0), events
    with lock:
        kinds = [(k, key) for k, key, _ in events]
    assert kinds == [("added", "asset_BTCUSDT_ob"), ("updated", "asset_BTCUSDT_ob"),
                     ("added", "asset_ETHUSDT_ob"), ("removed", "asset_BTCUSDT_ob")]
    assert events[1][2] == "v2"
    assert rmap.remove_entry_listener(reg) is True
    wmap.put_all({"a": "1", "b": "2"})
    assert sorted(str(v) for v in rmap.values()) == ["1", "2", '{"x": 1}']
    rmap.clear()
    assert rmap.size() == 0
    counters = member.counters()
    assert counters["auth_ok"] == 2
    assert counters["req_map_get_all"] >= 1
    if smart:
        assert counters["req_local_backup_listener"] >= 1


@pytest.mark.timeout(30)
def test_listener_flags_respected(member, make_client):
    """Only the event types a listener asked for are sent (others would hit a None callback)."""
    client = make_client(member.address)
    m = client.get_map(MAP).blocking()
    updates: list[str] = []
    m.add_entry_listener(include_value=True, updated_func=lambda e: updates.append(e.value))
    m.put("k", "a")  # ADDED: not subscribed
    m.put("k", "b")  # UPDATED
    m.delete("k")  # REMOVED: not subscribed
    assert wait_until(lambda: updates == ["b"], 5.0), updates
    time.sleep(0.1)
    assert updates == ["b"]
    assert member.counters()["events_sent"] == 1


@pytest.mark.timeout(30)
def test_unsupported_operation_fails_fast(member, make_client):
    client = make_client(member.address)
    t0 = time.monotonic()
    with pytest.raises(UnsupportedOperationError):
        client.get_list("a-list").blocking().add(1)
    assert time.monotonic() - t0 < 2.0
    assert member.counters()["unsupported"] >= 1


@pytest.mark.timeout(40)
def test_member_down_at_start_then_started(make_client, no_leaks):
    port = free_port()
    no_leaks.append(port)
    states: list[str] = []
    t0 = time.monotonic()
    client = make_client(f"127.0.0.1:{port}", async_start=True, cluster_connect_timeout=30.0,
                         lifecycle_listeners=[states.append])
    assert time.monotonic() - t0 < 1.0, "async_start must not block"
    with pytest.raises(ClientOfflineError):
        client.get_map(MAP)
    member = HazelcastTestMember(port=port)
    try:
        member.start()
        member.put_direct(MAP, "asset_BTCUSDT_ob", "before-connect")
        assert wait_until(lambda: LifecycleState.CONNECTED in states, 15.0), states
        m = client.get_map(MAP).blocking()
        assert m.get("asset_BTCUSDT_ob") == "before-connect"
    finally:
        client.shutdown()
        member.close()


@pytest.mark.timeout(60)
def test_killed_and_restarted_reconnects_and_resyncs(member, make_client):
    """Listeners re-register after a restart; get_all on CONNECTED sees values set during the outage."""
    states: list[str] = []
    resynced: dict[str, str] = {}
    events: list[str] = []
    reader = make_client(member.address, lifecycle_listeners=[states.append])
    writer = make_client(member.address)
    rmap = reader.get_map(MAP)
    rmap.blocking().add_entry_listener(include_value=True, added_func=lambda e: events.append(e.value),
                                       updated_func=lambda e: events.append(e.value))

    def on_state(state: str) -> None:
        if state == LifecycleState.CONNECTED:
            # lifecycle callbacks run on client threads: never block them, chain the future
            rmap.get_all(["asset_BTCUSDT_ob"]).add_done_callback(lambda f: resynced.update(f.result()))

    reader.lifecycle_service.add_listener(on_state)
    wmap = writer.get_map(MAP).blocking()
    wmap.put("asset_BTCUSDT_ob", "1")
    assert wait_until(lambda: events == ["1"], 5.0)

    member.crash()
    assert wait_until(lambda: LifecycleState.DISCONNECTED in states, 10.0), states
    with pytest.raises(HazelcastError):  # ASYNC reconnect mode: offline calls fail at once
        rmap.blocking().get("asset_BTCUSDT_ob")
    member.put_direct(MAP, "asset_BTCUSDT_ob", "2-during-outage")  # no client saw this as an event
    member.restart(keep_data=True)
    assert wait_until(lambda: resynced.get("asset_BTCUSDT_ob") == "2-during-outage", 15.0), (states, resynced)
    assert wait_until(lambda: member.counters()["listeners"] >= 1, 10.0), "listener not re-registered"
    assert wait_until(lambda: writer.lifecycle_service.is_running() and _can_put(wmap, "3"), 15.0)
    assert wait_until(lambda: events[-1:] == ["3"], 5.0), events
    assert "2-during-outage" not in events  # not replayed: only the resync saw it
    assert member.counters()["restarts"] == 1


def _can_put(wmap, value: str) -> bool:
    try:
        wmap.put("asset_BTCUSDT_ob", value)
        return True
    except HazelcastError:
        time.sleep(0.1)
        return False


@pytest.mark.timeout(60)
def test_stalled_member_calls_fail_after_heartbeat_timeout(member, make_client):
    client = make_client(member.address, heartbeat_interval=0.5, heartbeat_timeout=3.0, invocation_timeout=30.0)
    m = client.get_map(MAP)
    m.blocking().put("k", "v")
    member.stall()
    t0 = time.monotonic()
    future = m.get("k")
    with pytest.raises(HazelcastError):
        future.result()
    elapsed = time.monotonic() - t0
    assert 1.0 < elapsed < 10.0, elapsed  # failed through the heartbeat, well before invocation_timeout
    assert member.counters()["active_connections"] >= 1 or member.running  # TCP was kept open by the member
    member.resume()
    assert wait_until(lambda: _can_get(m), 20.0), "client did not recover after resume"


def _can_get(m) -> bool:
    try:
        return m.get("k").result() == "v"
    except HazelcastError:
        time.sleep(0.2)
        return False


@pytest.mark.timeout(30)
def test_wrong_cluster_name_fails_cleanly_and_bounded(member, make_client):
    t0 = time.monotonic()
    with pytest.raises(IllegalStateError):
        make_client(member.address, cluster_name="not-dev", cluster_connect_timeout=2.0)
    assert time.monotonic() - t0 < 10.0
    assert member.counters()["auth_failed"] >= 1
    assert member.counters().get("auth_ok", 0) == 0


@pytest.mark.timeout(30)
def test_wrong_cluster_name_async_start_shuts_down(member, make_client):
    states: list[str] = []
    client = make_client(member.address, cluster_name="not-dev", async_start=True, cluster_connect_timeout=2.0,
                         lifecycle_listeners=[states.append])
    with pytest.raises(ClientOfflineError):
        client.get_map(MAP)
    assert wait_until(lambda: LifecycleState.SHUTDOWN in states, 15.0), states
    assert not client.lifecycle_service.is_running()
    assert member.counters()["auth_failed"] >= 1


@pytest.mark.timeout(40)
def test_cli_hz_member_subprocess(make_client, no_leaks):
    """``dolphin hz-member`` serves the real client from a separate process and stops on SIGINT."""
    import signal
    import subprocess
    import sys

    port = free_port()
    no_leaks.append(port)
    proc = subprocess.Popen([sys.executable, "-m", "nautilus_dolphin.cli", "hz-member", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        banner = proc.stdout.readline()
        assert "TEST member" in banner and str(port) in banner
        client = make_client(f"127.0.0.1:{port}", cluster_connect_timeout=10.0)
        m = client.get_map(MAP).blocking()
        m.set("asset_BTCUSDT_ob", "x")
        assert m.get("asset_BTCUSDT_ob") == "x"
        client.shutdown()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            assert proc.wait(10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)
            proc.stdout.close()
