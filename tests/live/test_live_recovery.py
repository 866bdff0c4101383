"""Recovery and safety of ``dolphin live`` through real nodes: crash mid-position and restart, a venue
position the strategy does not know, stale order-book data blocking entries, the kill switch."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest


@pytest.mark.binance_exec
@pytest.mark.slow
@pytest.mark.timeout(200)
def test_node_killed_mid_position_restarts_with_one_position_and_exits_it(
    live, scenario_venue, member, books, secrets_env, tmp_path
):
    venue, _path, frame = scenario_venue
    pre = live.PREROLL
    # run 1 (a `dolphin live` subprocess) replays scans 0..154: the entry (scan 150) fills, then SIGKILL
    first = tmp_path / "first.parquet"
    frame.iloc[: pre + 155].to_parquet(first)
    cfg1 = live.make_config(tmp_path, venue, member, "LIVE", first)
    conf = tmp_path / "live.toml"
    conf.write_text(live.toml_text(cfg1))
    out = open(tmp_path / "run1.out", "w")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "nautilus_dolphin.cli", "live", "--config", str(conf),
                             "--duration", "120"], cwd=live.REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        doc = None
        while time.monotonic() < deadline and proc.poll() is None:
            state = venue.state()
            if state["positions"] and cfg1.state_path.exists():
                doc = json.loads(cfg1.state_path.read_text())
                if doc["engine"]["position"] and not doc["engine"]["position"].get("pending_entry"):
                    break
            time.sleep(0.2)
        assert doc and doc["engine"]["position"], f"run 1 never held a position: {(tmp_path / 'run1.out').read_text()[-3000:]}"
        time.sleep(1.0)  # a few more scans, no more orders: the crash hits a node holding a position
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        out.close()
    assert proc.returncode == -signal.SIGKILL
    held = venue.state()
    assert list(held["positions"]) == ["ETHUSDT"] and len(held["orders"]) == 1
    entry_qty = abs(float(held["positions"]["ETHUSDT"]["positionAmt"]))

    # run 2 (in-process): the rest of the file; the saved position is reconciled and exited at the take-profit
    second = tmp_path / "second.parquet"
    frame.iloc[pre + 153 :].to_parquet(second)
    cfg2 = live.make_config(tmp_path, venue, member, "LIVE", second, scans={"replay_preroll_rows": 2})
    seen = {}

    async def scenario(run) -> None:
        strat = run.strategy
        pos = strat.engine.position
        seen["start"] = (pos.asset, pos.direction, pos.quantity, pos.entry_bar) if pos else None
        seen["venue_start"] = {s: strat.venue_position_qty(s) for s in live.SYMS}
        before = {o.client_order_id for o in run.cache.orders()}
        client = run.client("SCAN")
        await live.wait_for(lambda: client.finished or client.failure, 40, "scan replay finished")
        assert client.failure is None, client.failure
        eng = strat.engine
        await live.wait_for(lambda: eng.trade_history and eng.position is None, 15, "exit fill booked")
        seen["reconciled"] = [(o.side.name, o.status.name) for o in run.cache.orders() if o.client_order_id in before]
        seen["orders"] = [
            (o.side.name, o.is_reduce_only, o.status.name)
            for o in run.cache.orders()
            if o.client_order_id not in before
        ]
        seen["counters"] = dict(strat.counters)

    run = live.run_live(cfg2, scenario)
    strat = run.strategy
    # exactly one position after the restart: the saved one (entry bar 150 from the state file)
    assert seen["start"] == ("ETHUSDT", 1, pytest.approx(entry_qty), 150)
    assert seen["venue_start"]["ETHUSDT"] == pytest.approx(entry_qty)
    assert sum(1 for q in seen["venue_start"].values() if q) == 1
    assert seen["counters"]["adopted_positions"] == 0 and seen["counters"]["unknown_positions"] == 0
    # managed to its exit, no second entry
    assert [(t.asset, t.entry_bar, t.exit_reason) for t in strat.engine.trade_history] == [
        ("ETHUSDT", 150, "FIXED_TP")
    ]
    assert seen["reconciled"] == [("BUY", "FILLED")]  # run 1's entry, from the venue's history
    assert seen["orders"] == [("SELL", True, "FILLED")]  # the only order run 2 sent
    state = venue.state()
    assert state["positions"] == {}
    assert [(o["side"], o["reduceOnly"], o["status"]) for o in state["orders"]] == [
        ("BUY", False, "FILLED"), ("SELL", True, "FILLED")
    ]


@pytest.mark.binance_exec
@pytest.mark.slow
@pytest.mark.timeout(150)
def test_a_venue_position_the_strategy_does_not_know_is_reported_not_traded(
    live, scenario_venue, member, books, secrets_env, tmp_path
):
    venue, path, frame = scenario_venue
    # two positions at the venue before the node starts and no state file: the engine can manage one
    venue.control("seed_position", {"symbol": "ETHUSDT", "qty": 0.5, "price": float(frame["ETHUSDT"].iloc[0])})
    venue.control("seed_position", {"symbol": "BNBUSDT", "qty": -2.0, "price": float(frame["BNBUSDT"].iloc[0])})
    cfg = live.make_config(tmp_path, venue, member, "LIVE", path)
    seen = {}

    async def scenario(run) -> None:
        pos = run.strategy.engine.position
        seen["managed"] = pos.asset if pos is not None else None
        client = run.client("SCAN")
        await live.wait_for(lambda: client.finished or client.failure, 40, "scan replay finished")
        seen["counters"] = dict(run.strategy.counters)
        seen["trades"] = list(run.strategy.engine.trade_history)
        await live.wait_for(lambda: run.strategy.engine.position is None, 15, "adopted position exited")
        seen["blocked"] = [(d["asset"], d["reason"]) for d in run.strategy.decisions if d["kind"] == "BLOCKED"]
        seen["orders"] = [o for o in run.cache.orders() if "EXTERNAL" not in (o.tags or [])]  # not the seeds
        seen["status"] = run.parts.monitor.status()

    live.run_live(cfg, scenario)
    c = seen["counters"]
    assert c["adopted_positions"] == 1 and c["unknown_positions"] == 1
    managed = seen["managed"]
    assert managed in ("ETHUSDT", "BNBUSDT")
    unknown = "BNBUSDT" if managed == "ETHUSDT" else "ETHUSDT"
    # the adopted one is managed to its exit by the engine's rules (a reduce-only order) ...
    assert [(t.asset, t.entry_bar) for t in seen["trades"]] == [(managed, -1)]  # -1: adopted, no entry bar
    assert [(o.instrument_id.symbol.value, o.is_reduce_only) for o in seen["orders"]] == [(f"{managed}-PERP", True)]
    # ... the unknown one is untouched: no order for it, same quantity at the venue, still reported
    state = venue.state()
    expected = {"ETHUSDT": 0.5, "BNBUSDT": -2.0}
    assert list(state["positions"]) == [unknown]
    assert float(state["positions"][unknown]["positionAmt"]) == expected[unknown]
    # the node's cache holds the reconciled position (id ...-BOTH) and the strategy's closing one (id
    # ...-DolphinStrategy-000) side by side; the status line nets them per instrument as the venue does
    assert [(p["instrument"], p["qty"]) for p in seen["status"]["positions"]] == [
        (f"{unknown}-PERP.BINANCE", expected[unknown])
    ]
    # and no entry while a position the engine does not manage exists (the scan-150 signal is blocked)
    assert seen["blocked"] == [("ETHUSDT", "position_mismatch")]


@pytest.mark.binance_exec
@pytest.mark.slow
@pytest.mark.timeout(150)
def test_stale_order_books_block_the_entry(live, scenario_venue, member, secrets_env, tmp_path):
    venue, path, _frame = scenario_venue
    pusher = live.BookPusher(member, live.SYMS)
    pusher.push_once()  # books exist in Hazelcast, but nobody refreshes them: they go stale
    cfg = live.make_config(tmp_path, venue, member, "LIVE", path, risk={"max_snapshot_age_secs": 1.0},
                           scans={"replay_speed": 100.0})
    seen = {}

    async def scenario(run) -> None:
        client = run.client("SCAN")
        await live.wait_for(lambda: client.finished or client.failure, 40, "scan replay finished")
        seen["orders"] = list(run.cache.orders())
        seen["hz"] = run.client("HAZELCAST").counters()

    run = live.run_live(cfg, scenario)
    strat = run.strategy
    assert seen["hz"]["published_ob"] >= len(live.SYMS)  # the books did arrive through Hazelcast
    blocked = [d for d in strat.decisions if d["kind"] == "BLOCKED"]
    assert [(d["asset"], d["bar"], d["reason"]) for d in blocked] == [("ETHUSDT", 150, "stale_snapshot")]
    assert strat.guard_blocks["stale_snapshot"] == 1
    assert seen["orders"] == [] and venue.state()["orders"] == []
    assert run.parts.monitor.status()["guard"]["blocks"] == {"stale_snapshot": 1}


@pytest.mark.binance_exec
@pytest.mark.slow
@pytest.mark.timeout(150)
def test_kill_switch_flattens_halts_and_is_reset_by_the_operator_file(live, member, books, secrets_env,
                                                                       tmp_path):
    frame = live.replay_frame(tp_bar=10**6)  # no take-profit: ETH falls 1 % after the entry instead
    pre = live.PREROLL
    frame.loc[pre + 155 :, "ETHUSDT"] = (frame.loc[pre + 155 :, "ETHUSDT"] * 0.99).round(2)
    frame.loc[pre + 170, "vel_div"] = -0.03  # a second signal while the switch is tripped
    path = tmp_path / "kill.parquet"
    frame.to_parquet(path)
    venue = live.start_venue(path)
    try:
        # 0.05 % of 25,000 USDT = 12.5 USDT: the 1 % fall of a ~5,000 USDT position trips it
        cfg = live.make_config(tmp_path, venue, member, "LIVE", path, risk={"daily_drawdown_kill_pct": 0.0005})
        seen = {}

        async def scenario(run) -> None:
            strat, client = run.strategy, run.client("SCAN")
            await live.wait_for(lambda: client.finished or client.failure, 40, "scan replay finished")
            await live.wait_for(lambda: strat.engine.position is None and strat.engine.trade_history, 15,
                                "flattened")
            seen["killed"] = strat.guard.killed
            seen["decisions"] = [(d["kind"], d["bar"], d.get("reason")) for d in strat.decisions
                                 if d["kind"] in ("ENTRY", "KILL_SWITCH", "BLOCKED")]
            seen["orders"] = [(o.side.name, o.is_reduce_only, o.status.name) for o in run.cache.orders()]
            seen["trades"] = [(t.asset, t.exit_reason) for t in strat.engine.trade_history]
            (tmp_path / "state" / "RESET_KILL_SWITCH").touch()  # the operator's manual reset
            await live.wait_for(lambda: not strat.guard.killed, 10, "kill switch reset by the file")
            seen["status"] = run.parts.monitor.status()
            seen["resets"] = run.parts.monitor.kill_switch_resets

        live.run_live(cfg, scenario)
        state = venue.state()
    finally:
        live.stop_venue(venue)
    assert seen["killed"] is True
    kinds = [k for k, _, _ in seen["decisions"]]
    assert kinds[:2] == ["ENTRY", "KILL_SWITCH"] and seen["decisions"][0][1] == 150
    assert ("BLOCKED", 170, "kill_switch") in seen["decisions"]  # halted: the second signal is blocked
    assert seen["trades"] == [("ETHUSDT", "KILL_SWITCH")]
    assert seen["orders"] == [("BUY", False, "FILLED"), ("SELL", True, "FILLED")]  # flattened reduce-only
    assert state["positions"] == {}
    assert seen["resets"] == 1 and seen["status"]["guard"]["killed"] is False
    assert not (tmp_path / "state" / "RESET_KILL_SWITCH").exists()


@pytest.mark.binance_exec
@pytest.mark.slow
@pytest.mark.timeout(150)
def test_stale_venue_prices_block_the_entry(live, member, books, secrets_env, tmp_path):
    frame = live.replay_frame()
    path = tmp_path / "scans.parquet"
    frame.to_parquet(path)
    venue = live.start_venue(None)  # random walk, quotes every 0.05 s, until paused
    try:
        # scans from the file on their own clock (no lock-step); the venue's quotes stop half-way
        cfg = live.make_config(tmp_path, venue, member, "LIVE", path, risk={"max_price_age_secs": 3.0},
                               scans={"replay_venue_control_url": None, "replay_speed": 50.0})
        seen = {}

        async def scenario(run) -> None:
            strat, client, cache = run.strategy, run.client("SCAN"), run.cache
            iids = list(strat.instrument_ids.values())
            await live.wait_for(lambda: all(cache.quote_tick(i) is not None for i in iids), 10, "quotes")
            await venue.acontrol("pause", {})  # the venue goes quiet: no more quotes
            seen["paused_at_scan"] = strat.counters["scans"]
            await live.wait_for(lambda: client.finished or client.failure, 60, "scan replay finished")
            seen["orders"] = list(cache.orders())
            seen["quote_age_s"] = (run.node.kernel.clock.timestamp_ns() - cache.quote_tick(iids[0]).ts_init) / 1e9

        run = live.run_live(cfg, scenario)
        state = venue.state()
    finally:
        live.stop_venue(venue)
    strat = run.strategy
    assert seen["paused_at_scan"] < 100 and seen["quote_age_s"] > 3.0
    blocked = [(d["asset"], d["bar"], d["reason"]) for d in strat.decisions if d["kind"] == "BLOCKED"]
    assert blocked == [("ETHUSDT", 150, "stale_price")]
    assert strat.guard_blocks["stale_price"] == 1
    assert seen["orders"] == [] and state["orders"] == []
