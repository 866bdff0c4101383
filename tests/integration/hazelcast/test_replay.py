"""``dolphin replay``: a catalog window into the Hazelcast TEST member, read back by a running node.

A tiny synthetic catalog (1 day, 4 assets, 124 scans, books every 4 scans) is replayed at 400x into
the member; a ``TradingNode`` with ``HazelcastDataClient`` (scans + books) must receive every scan
once, in order, with the catalog's values, and every book with increasing ``_push_seq``.
"""

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from adapters.hazelcast.config import HazelcastClientSettings
from adapters.hazelcast.replay import CatalogReplayer
from adapters.hazelcast.replay import ReplayConfig
from adapters.loopback.hazelcast import wait_until
from nautilus_dolphin.obf.codec import OBPayloadCodec
from strategies.catalog import DolphinCatalog

MAP = "DOLPHIN_FEATURES"
SCAN_KEY = "latest_eigen_scan"


@pytest.fixture(scope="module")
def small_catalog(tmp_path_factory) -> Path:
    from strategies.catalog_cli import build_synthetic_catalog

    root = tmp_path_factory.mktemp("replay_catalog")
    build_synthetic_catalog(root, days=1, assets=4, seed=5, progress=False, scans_per_day=120, ob_every=4)
    return root


def test_replay_config_rejects_bad_values(small_catalog: Path) -> None:
    with pytest.raises(ValueError, match="speed"):
        ReplayConfig(speed=-1.0)
    with pytest.raises(ValueError, match="timestamps"):
        ReplayConfig(timestamps="later")
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        ReplayConfig(start="yesterday")
    with pytest.raises(ValueError, match="before start"):
        ReplayConfig(start="2026-01-02", end="2026-01-01")
    with pytest.raises(ValueError, match="no catalog day"):
        CatalogReplayer(DolphinCatalog(small_catalog), HazelcastClientSettings(), ReplayConfig(start="2030-01-01"))


def test_dolphin_cli_registers_obf_publish_and_replay_with_clear_errors(small_catalog: Path, capsys) -> None:
    from nautilus_dolphin.cli import main

    for command in ("obf-publish", "replay"):
        with pytest.raises(SystemExit) as exc:
            main([command, "--help"])
        assert exc.value.code == 0
        assert f"usage: dolphin {command}" in capsys.readouterr().out
    # bad input: exit code 2 and a one-line reason, before any connection is attempted
    assert main(["replay", "--catalog", str(small_catalog), "--speed", "-1"]) == 2
    assert "speed must be a finite number >= 0" in capsys.readouterr().err
    assert main(["replay", "--catalog", str(small_catalog / "missing")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["replay", "--catalog", str(small_catalog), "--start", "2030-01-01"]) == 2
    assert "no catalog day" in capsys.readouterr().err
    assert main(["obf-publish", "--assets", "NOPEUSDT"]) == 2
    assert "unknown asset(s) ['NOPEUSDT']" in capsys.readouterr().err
    assert main(["obf-publish", "--assets", "BTCUSDT", "--interval-ms", "0", "--api-key-env", "PATH",
                 "--api-secret-env", "PATH"]) == 2
    assert "interval_ms must be >= 1" in capsys.readouterr().err
    assert main(["obf-publish", "--assets", "BTCUSDT", "--key-pattern", "nosymbol", "--api-key-env", "PATH",
                 "--api-secret-env", "PATH"]) == 2
    assert "needs '{symbol}'" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_replay_into_member_node_sees_every_scan_and_book_in_order(small_catalog, member, run_node) -> None:
    cat = DolphinCatalog(small_catalog)
    day = cat.days[0]
    scans = cat.load_scans(day)
    books = cat.load_ob_snapshots(day)
    settings = HazelcastClientSettings(members=(member.address,), assets=tuple(cat.assets),
                                       scan_map=MAP, scan_key=SCAN_KEY)
    speed = 400.0
    out: dict = {}

    def scenario(run) -> None:
        feed = run.client.feed
        assert wait_until(lambda: feed.connected and feed.counters().get("resyncs", 0) >= 1, 15.0)
        time.sleep(0.3)  # let the subscriptions' own resync requests drain before the first write
        replayer = CatalogReplayer(cat, settings, ReplayConfig(speed=speed))
        t0 = time.monotonic()
        out["counters"] = replayer.run(stop=threading.Event())
        out["wall"] = time.monotonic() - t0
        assert wait_until(lambda: len(run.actor.scan_list()) >= len(scans)
                          and len(run.actor.snapshots()) >= len(books), 10.0)
        time.sleep(0.3)  # anything extra (a duplicate) would arrive now

    run = run_node(settings, scenario, max_seconds=60.0, scans=True)
    counters = out["counters"]
    assert counters["scans"] == len(scans) == 124 and counters["books"] == len(books)
    assert counters.get("books_refused", 0) == 0
    # paced at 400x, with the catalog's long gaps (the synthetic day has ~8 h between sessions) cut to 30 s
    ts_all = np.array(sorted({s.ts_init for s in scans} | {b.ts_init for b in books}), dtype=np.int64)
    span = float(np.minimum(np.diff(ts_all) / 1e9, 30.0).sum()) / speed
    assert counters["gaps_cut"] >= 1
    assert span * 0.9 <= out["wall"] <= span + 5.0, (span, out["wall"])

    got_scans = run.actor.scan_list()
    assert [s.scan_number for s in got_scans] == [s.scan_number for s in scans], "scans lost, repeated or reordered"
    for got, want in zip(got_scans, scans, strict=True):
        assert got.vel_div == want.vel_div and got.instability_50 == want.instability_50
        np.testing.assert_array_equal(got.prices, want.prices)
    # timestamps="now": the scans carry the wall clock of their replay, ascending
    ts = [s.ts_event for s in got_scans]
    assert ts == sorted(ts) and abs(ts[-1] / 1e9 - time.time()) < 60.0

    got_books = [d for _, d in run.actor.snapshots()]
    assert len(got_books) == len(books)
    for asset in cat.assets:
        mine = [b for b in got_books if b.asset == asset]
        want = [b for b in books if b.asset == asset]
        assert len(mine) == len(want) > 0
        seqs = [b.push_seq for b in mine]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        for g, w in zip(mine, want, strict=True):
            np.testing.assert_array_equal(g.bid_notional, w.bid_notional)
            np.testing.assert_array_equal(g.ask_depth, w.ask_depth)
    assert run.client.counters()["rejected_total"] == 0


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_replay_cli_books_only_original_timestamps(small_catalog, member, make_client, spawn) -> None:
    cat = DolphinCatalog(small_catalog)
    day = cat.days[0]
    p = spawn(["-m", "adapters.hazelcast.replay_cli", "--catalog", str(small_catalog), "--start", day,
               "--speed", "0", "--no-scans", "--timestamps", "original", "--hz-members", member.address])
    assert p.proc.wait(timeout=40) == 0
    p.stop()
    summary = json.loads(p.out.strip().splitlines()[-1])["replay"]
    books = cat.load_ob_snapshots(day)
    assert summary["books"] == len(books) and summary.get("scans", 0) == 0
    reader = make_client(member.address).get_map(MAP)
    assert reader.get(SCAN_KEY).result() is None
    for asset in cat.assets:
        last = [b for b in books if b.asset == asset][-1]
        snap = OBPayloadCodec().decode(asset, reader.get(f"asset_{asset}_ob").result())
        assert snap.timestamp == pytest.approx(last.ts_event / 1e9)  # the catalog's own time
        assert time.time() - snap.pushed_at < 30.0  # but pushed "now"
        np.testing.assert_array_equal(snap.bid_notional, last.bid_notional)


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_local_demo_member_replay_shadow_node(small_catalog, member, spawn) -> None:
    """The README's three-command demo: member + replay + the SHADOW demo node (seed 000 §8 steps)."""
    cat = DolphinCatalog(small_catalog)
    node = spawn(["-m", "adapters.hazelcast.demo_node", "--hz-members", member.address, "--assets", *cat.assets,
                  "--duration", "60", "--report-every", "0.5"])
    # wait until the node's feed is connected (its status line says so), then replay 40 scans at 50x
    deadline = time.monotonic() + 40.0
    while time.monotonic() < deadline:
        line = node.proc.stdout.readline()
        if line.startswith("{") and json.loads(line)["demo"]["feed"]["connected"]:
            break
    else:
        raise AssertionError("demo node never connected to the member")
    settings = HazelcastClientSettings(members=(member.address,), assets=tuple(cat.assets))
    counters = CatalogReplayer(cat, settings, ReplayConfig(speed=50.0, max_scans=40)).run()
    assert counters["scans"] == 40
    time.sleep(1.0)
    assert node.stop(timeout=30.0) == 0, node.err[-3000:]
    final = json.loads(node.out.strip().splitlines()[-1])["demo_final"]
    assert final["strategy"]["scans"] == 40 and final["bars"] == 40  # every scan reached step_bar once
    assert final["feed"]["published_ob"] >= counters["books"] and final["feed"]["rejected_total"] == 0
    assert final["btc_placement"]["fill_probability"] > 0.0  # step_live saw the replayed books (§8 step 5)
    assert "Traceback" not in node.err and "step_live" not in node.err
