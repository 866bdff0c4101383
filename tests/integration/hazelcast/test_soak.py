"""Sustained load (soak, deselected by default): 48 assets at 10 Hz through member -> data client -> actor.

Run with ``pytest -m soak tests/integration/hazelcast/test_soak.py -s``; the duration defaults to
the issue's 5 minutes and can be shortened with ``DOLPHIN_HZ_SOAK_SECONDS``. Checks: no lag
growth (p99 of the last minute vs the first), the newest snapshot of every asset delivered, RSS
growth bounded (the recording actor keeps only floats, so RSS measures the pipeline).
"""

import os
import threading
import time

import numpy as np
import pytest
from support.subprocs import rss_mb

from adapters.hazelcast.config import HazelcastClientSettings
from nautilus_dolphin.data.universe import ASSETS

MAP = "DOLPHIN_FEATURES"


@pytest.mark.soak
@pytest.mark.timeout(900)
def test_soak_48_assets_10hz(member, make_client, payloads, run_node):
    seconds = float(os.environ.get("DOLPHIN_HZ_SOAK_SECONDS", "300"))
    hz = 10.0
    last_seq: dict[str, int] = {}
    rss: list[float] = []

    def scenario(run):
        writer = make_client(member.address).get_map(MAP)
        stop = threading.Event()
        seq = 0
        t_end = time.monotonic() + seconds
        next_tick = time.monotonic()
        while time.monotonic() < t_end and not stop.is_set():
            seq += 1
            batch = {f"asset_{a}_ob": payloads(a, seq) for a in ASSETS}
            writer.put_all(batch).result()
            for a in ASSETS:
                last_seq[a] = seq
            if seq % int(hz * 10) == 0:
                rss.append(rss_mb())
            next_tick += 1.0 / hz
            time.sleep(max(0.0, next_tick - time.monotonic()))
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            with run.actor.lock:
                got = dict(run.actor.newest)
            if got == last_seq:
                break
            time.sleep(0.1)

    rss.append(rss_mb())
    settings = HazelcastClientSettings(members=(member.address,), assets=tuple(ASSETS))
    run = run_node(settings, scenario, max_seconds=seconds + 60.0, bounded=True)
    assert run.actor.newest == last_seq, "newest snapshot of some asset never arrived"
    arrive = np.array(run.actor.arrivals)
    lat = np.array(run.actor.latencies_ms)
    first = lat[arrive < arrive[0] + 60.0]
    last = lat[arrive > arrive[-1] - 60.0]
    rate = lat.size / max(arrive[-1] - arrive[0], 1e-9)
    print(f"\nsoak {seconds:.0f}s: {lat.size} snapshots, {rate:.0f}/s; latency p50 {np.percentile(lat, 50):.2f} ms "
          f"p99 {np.percentile(lat, 99):.2f} ms; first-minute p99 {np.percentile(first, 99):.2f} ms, "
          f"last-minute p99 {np.percentile(last, 99):.2f} ms; RSS {rss[0]:.0f} -> {max(rss):.0f} MB")
    assert np.percentile(last, 99) < max(50.0, 3 * np.percentile(first, 99)), "lag grew"
    assert max(rss) - rss[0] < 200.0, rss
