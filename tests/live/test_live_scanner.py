"""``scans.source = "scanner"``: the node computes its own scans from live venue quotes (``ScannerActor``)."""

import numpy as np
import pytest


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_scanner_actor_publishes_scans_from_live_quotes(live, member, secrets_env, tmp_path):
    from nautilus_dolphin.kernels.eigen import EigenScanner

    venue = live.start_venue(None)  # random walk, a step (new quotes) every 0.05 s
    try:
        cfg = live.make_config(
            tmp_path, venue, member, "SHADOW", tmp_path / "unused.parquet",
            strategy={"ob_mode": "none"},
            scans={"source": "scanner", "interval_secs": 0.1, "windows": [4, 8, 12, 16]},
        )
        seen = {}
        published: list = []

        async def scenario(run) -> None:
            scanner = run.parts.scanner
            run.parts.monitor.msgbus.subscribe("data.DolphinScan*", published.append)
            await live.wait_for(lambda: run.strategy.counters["scans"] >= 40, 30, "40 scans")
            seen["scanner"] = (scanner.scans_published, scanner.missing_prices)
            seen["counters"] = dict(run.strategy.counters)
            seen["clients"] = sorted(str(c.id) for c in run.node.kernel.data_engine._clients.values())

        live.run_live(cfg, scenario)
    finally:
        live.stop_venue(venue)
    assert seen["clients"] == ["BINANCE"]  # no Hazelcast, no replay: scans are made in the node
    assert seen["scanner"][0] >= 40 and seen["counters"]["scans"] >= 40
    scans = published[:40]
    assert [s.scan_number for s in scans] == list(range(40))
    prices = np.vstack([s.prices for s in scans])
    with_all = np.flatnonzero(np.isfinite(prices).all(axis=1))
    assert len(with_all) >= 30 and with_all[0] < 10  # quotes of all six instruments arrive quickly
    assert (prices[with_all] > 0).all()
    # the features are the eigen kernel's on those prices (same kernel as the synthetic market)
    ref = EigenScanner(len(live.SYMS), (4, 8, 12, 16))
    out = np.vstack([ref.update(p) for p in prices])
    got = np.array([s.vel_div for s in scans])
    full = 16  # max(windows): until 17 price rows are in, the scanner publishes NaN signals (warming)
    assert np.isnan(got[:full]).all()
    np.testing.assert_allclose(got[full:], out[full:, -1], rtol=1e-9, atol=1e-12, equal_nan=True)
    assert np.isfinite(got[with_all[0] + 17 :]).all()  # defined once the longest window has filled
