"""Sustained load through the whole chain (soak / benchmark, deselected by default).

loopback Binance USDT-M venue (48 symbols, subprocess) -> ``dolphin obf-publish`` node (real Nautilus
Binance data client, subprocess) -> loopback Hazelcast TEST member (in-process) -> a ``TradingNode``
with ``HazelcastDataClient`` -> ``DolphinStrategy`` (SHADOW, ``ob_mode="live"``: every book goes
into its OB provider and every scan runs ``step_live``) and a recording actor that measures the
latency from the publisher's ``_pushed_at`` to ``on_data``. A scan is written every second so the
strategy steps on the live books.

- ``test_soak_publisher_48_assets_10hz`` (``-m soak``): 48 assets at 100 ms for
  ``DOLPHIN_HZ_SOAK_SECONDS`` (default 300): no lag growth, the newest snapshot of every asset
  delivered, memory flat (consumer and publisher RSS), strategy stepped without errors.
- ``test_headroom_publisher_rate_steps`` (``-m benchmark``): the same chain at publisher cadences
  ``DOLPHIN_HZ_HEADROOM_MS`` (default "100,50,25,10" ms, i.e. 480..4,800 snapshots/s) for
  ``DOLPHIN_HZ_HEADROOM_SECONDS`` each (default 30); prints delivered rate and latency per step.

Run with ``-s`` to see the figures: ``pytest -m soak tests/integration/hazelcast/test_soak_publisher.py -s``.
"""

import json
import os
import time
from typing import Any

import numpy as np
import pytest
from support.subprocs import rss_mb

from adapters.hazelcast.config import HazelcastClientSettings
from nautilus_dolphin.data.universe import ASSETS
from nautilus_dolphin.data.universe import UNIVERSE

MAP = "DOLPHIN_FEATURES"
SCAN_KEY = "latest_eigen_scan"


def _scan(n: int) -> str:
    """A plausible upstream scan (prices at the universe reference) so the strategy steps."""
    return json.dumps({"scan_number": n, "vel_div": 0.0, "v50_lambda_max_velocity": 0.0,
                       "v150_lambda_max_velocity": 0.0, "v300_lambda_max_velocity": 0.0,
                       "v750_lambda_max_velocity": 0.0, "instability_50": 0.0, "instability_150": 0.0,
                       "prices": {a: UNIVERSE[a].ref_price for a in ASSETS}})


def run_chain(member: Any, binance_venue: Any, spawn: Any, run_node: Any, make_client: Any, obf: Any,
              seconds: float, interval_ms: int) -> dict[str, Any]:
    """Run the chain for ``seconds`` of measurement at ``interval_ms``; return the figures."""
    from strategies.config import DolphinStrategyConfig
    from strategies.dolphin_strategy import DolphinStrategy
    from strategies.instruments import make_universe

    venue = binance_venue(tuple(ASSETS), lifetime=seconds + 240.0, step_interval=0.1)
    # --book-time local: the loopback venue's market clock runs ~6 h behind the wall clock, and the
    # strategy's live OB provider ages books by their timestamp; real Binance needs the default "event"
    args, env = obf.args(venue, member.address, tuple(ASSETS), 0, "--interval-ms", str(interval_ms),
                         "--log-every", "10", "--log-level", "WARNING", "--book-time", "local")
    pub = spawn(args, env=env)
    holder: dict[str, Any] = {}
    figs: dict[str, Any] = {"interval_ms": interval_ms}

    def setup(node: Any) -> None:
        for inst in make_universe(list(ASSETS)):
            node.cache.add_instrument(inst)
        strat = DolphinStrategy(DolphinStrategyConfig(mode="SHADOW", ob_mode="live", scan_client_id="HAZELCAST",
                                                      ob_client_id="HAZELCAST", subscribe_quotes=False))
        node.trader.add_strategy(strat)
        holder["strategy"] = strat

    def scenario(run: Any) -> None:
        actor = run.actor
        deadline = time.monotonic() + 90.0
        while time.monotonic() < deadline and len(actor.newest) < len(ASSETS):
            assert pub.proc.poll() is None, f"publisher died: {pub.stop()} {pub.err[-3000:]}"
            time.sleep(0.2)
        assert len(actor.newest) == len(ASSETS), f"only {len(actor.newest)} assets arrived"
        time.sleep(2.0)  # past the start-up burst
        with actor.lock:
            actor.arrivals.clear()
            actor.latencies_ms.clear()
        writer = make_client(member.address).get_map(MAP)
        rss_self, rss_pub = [rss_mb()], [rss_mb(pub.proc.pid)]
        t0 = time.monotonic()
        n = 0
        while time.monotonic() - t0 < seconds:
            n += 1
            writer.put(SCAN_KEY, _scan(n)).result()
            if n % 10 == 0:
                rss_self.append(rss_mb())
                rss_pub.append(rss_mb(pub.proc.pid))
            time.sleep(max(0.0, t0 + n - time.monotonic()))
        figs["scans_written"] = n
        # stop the publisher, then the newest payload in the map must be the newest each asset got
        assert pub.stop(timeout=30.0) == 0, pub.err[-3000:]
        figs["publisher"] = json.loads(pub.out.strip().splitlines()[-1])["obf_publish"]
        time.sleep(1.0)
        from nautilus_dolphin.obf.codec import OBPayloadCodec

        entries = writer.get_all([f"asset_{a}_ob" for a in ASSETS]).result()
        figs["map_newest"] = {k[len("asset_"):-len("_ob")]: OBPayloadCodec().decode(k, v).push_seq
                              for k, v in entries.items()}
        with actor.lock:
            figs["got_newest"] = dict(actor.newest)
            figs["arrivals"] = np.array(actor.arrivals)
            figs["latencies"] = np.array(actor.latencies_ms)
        figs["rss_self"], figs["rss_pub"] = rss_self, rss_pub

    settings = HazelcastClientSettings(members=(member.address,), assets=tuple(ASSETS), scan_map=MAP,
                                       scan_key=SCAN_KEY)
    run = run_node(settings, scenario, max_seconds=seconds + 180.0, bounded=True, setup=setup)
    strat = holder["strategy"]
    figs["strategy"] = dict(strat.counters)
    figs["ob_engine"] = {"provider_errors": strat.ob_engine.provider_errors,
                         "aged_snapshots": strat.ob_engine.aged_snapshots}
    figs["client"] = run.client.counters()
    lat, arr = figs["latencies"], figs["arrivals"]
    third = max((arr[-1] - arr[0]) / 3.0, 1e-9)
    first, last = lat[arr < arr[0] + third], lat[arr > arr[-1] - third]
    figs.update(
        n=int(lat.size), rate=lat.size / max(arr[-1] - arr[0], 1e-9), p50=float(np.percentile(lat, 50)),
        p99=float(np.percentile(lat, 99)), max=float(lat.max()), first_p99=float(np.percentile(first, 99)),
        last_p99=float(np.percentile(last, 99)), first_p50=float(np.percentile(first, 50)),
        last_p50=float(np.percentile(last, 50)),
    )
    print(f"\nchain {interval_ms} ms x 48 for {seconds:.0f}s: {figs['n']} snapshots at {figs['rate']:.0f}/s "
          f"(target {48 * 1000 / interval_ms:.0f}/s); latency p50 {figs['p50']:.1f} ms p99 {figs['p99']:.1f} ms "
          f"max {figs['max']:.0f} ms; first-third p50/p99 {figs['first_p50']:.1f}/{figs['first_p99']:.1f} ms, "
          f"last-third {figs['last_p50']:.1f}/{figs['last_p99']:.1f} ms; RSS consumer "
          f"{figs['rss_self'][0]:.0f}->{max(figs['rss_self']):.0f} MB, publisher {figs['rss_pub'][0]:.0f}->"
          f"{max(figs['rss_pub']):.0f} MB; publisher ticks_dropped {figs['publisher'].get('ticks_dropped', 0)}, "
          f"strategy scans {figs['strategy']['scans']}", flush=True)
    rs = figs["rss_self"]
    print(f"RSS consumer samples (every 10 s): {[round(x) for x in rs]}\nRSS publisher samples: "
          f"{[round(x) for x in figs['rss_pub']]}\nclient: {figs['client']}\nstrategy: {figs['strategy']} "
          f"ob_engine: {figs['ob_engine']}\npublisher: {figs['publisher']}", flush=True)
    return figs


@pytest.mark.soak
@pytest.mark.timeout(1200)
def test_soak_publisher_48_assets_10hz(member, binance_venue, spawn, run_node, make_client, obf) -> None:
    seconds = float(os.environ.get("DOLPHIN_HZ_SOAK_SECONDS", "300"))
    f = run_chain(member, binance_venue, spawn, run_node, make_client, obf, seconds, 100)
    assert f["got_newest"] == f["map_newest"], "the newest snapshot of some asset never reached the node"
    assert f["rate"] > 0.9 * 480, f"delivered {f['rate']:.0f}/s of 480/s"
    assert f["last_p99"] < max(100.0, 3.0 * f["first_p99"]), "lag grew"
    assert max(f["rss_self"]) - f["rss_self"][0] < 150.0 and max(f["rss_pub"]) - f["rss_pub"][0] < 150.0
    assert f["strategy"]["scans"] >= 0.9 * f["scans_written"] and f["strategy"]["scans_bad_shape"] == 0
    assert f["client"]["rejected_total"] == 0


@pytest.mark.benchmark
@pytest.mark.timeout(3600)
def test_headroom_publisher_rate_steps(member, binance_venue, spawn, run_node, make_client, obf) -> None:
    seconds = float(os.environ.get("DOLPHIN_HZ_HEADROOM_SECONDS", "30"))
    steps = [int(x) for x in os.environ.get("DOLPHIN_HZ_HEADROOM_MS", "100,50,25,10").split(",")]
    rows = []
    for interval in steps:
        f = run_chain(member, binance_venue, spawn, run_node, make_client, obf, seconds, interval)
        sustained = f["rate"] > 0.9 * 48 * 1000 / interval and f["last_p99"] < max(100.0, 3.0 * f["first_p99"])
        rows.append((interval, f["rate"], f["p50"], f["p99"], f["last_p50"], sustained))
    print("\ninterval_ms  delivered/s  p50_ms  p99_ms  last_third_p50  sustained")
    for r in rows:
        print(f"{r[0]:>11}  {r[1]:>11.0f}  {r[2]:>6.1f}  {r[3]:>6.1f}  {r[4]:>14.1f}  {r[5]}")
    assert rows[0][5], "the 10 Hz step itself was not sustained"
