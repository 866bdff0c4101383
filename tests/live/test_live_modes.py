"""``dolphin live`` modes through ``build_live_node``: LIVE fills at the venue, PAPER in the sandbox,
SHADOW decides without orders, OFF idles. Real TradingNode, real Binance adapter against the
loopback venue, real hazelcast client against the TEST member (order-book snapshots)."""

import json

import pytest


def _scenario(live, until_flat: bool):
    async def scenario(run) -> None:
        client = run.client("SCAN")
        await live.wait_for(lambda: client.finished or client.failure, 40, "scan replay finished")
        assert client.failure is None, client.failure
        if until_flat:
            eng = run.strategy.engine
            await live.wait_for(lambda: eng.trade_history and eng.position is None, 15, "exit fill booked")
        await live.wait_for(lambda: len(run.lines) >= 2, 5, "status lines")
        run.parts.seen = {
            "status": run.parts.monitor.status(),
            "orders": [
                (o.side.name, o.is_reduce_only, o.status.name, float(o.quantity))
                for o in sorted(run.cache.orders(), key=lambda o: o.ts_init)
            ],
            "hz": run.client("HAZELCAST").counters(),
        }

    return scenario


def _assert_one_take_profit(run, live) -> None:
    strat = run.strategy
    trades = strat.engine.trade_history
    assert [(t.asset, t.direction, t.entry_bar, t.exit_reason) for t in trades] == [("ETHUSDT", 1, 150, "FIXED_TP")]
    seen = run.parts.seen
    qty = trades[0].quantity
    assert seen["orders"] == [("BUY", False, "FILLED", qty), ("SELL", True, "FILLED", qty)]
    assert strat.counters["fills"] == 2 and strat.counters["scans"] == live.N_SCANS
    assert all(strat.venue_position_qty(s) == 0.0 for s in live.SYMS)
    # the strategy consumed real order-book snapshots from Hazelcast
    assert seen["hz"]["published_ob"] > 0
    status = seen["status"]
    assert status["mode"] in ("LIVE", "PAPER") and status["counters"]["orders_entry"] == 1
    assert status["decision_latency_ms"]["n"] == 2  # the entry and the exit, each from its scan
    assert len(run.parts.monitor.on_data_ns) == live.N_SCANS - 1  # every scan but the first timed
    assert [o["event"] for o in run.parts.monitor.recent_orders].count("OrderFilled") == 2
    line = json.loads(run.lines[0])
    assert line["type"] == "dolphin_status" and "guard" in line and "positions" in line


def _run_take_profit(live, scenario_venue, member, tmp_path, mode: str):
    """Run the scenario in ``mode`` until flat, check its one take-profit; return the run and the venue."""
    venue, path, _ = scenario_venue
    cfg = live.make_config(tmp_path, venue, member, mode, path)
    run = live.run_live(cfg, _scenario(live, until_flat=True))
    _assert_one_take_profit(run, live)
    return run, venue


@pytest.mark.binance_exec
@pytest.mark.slow
@pytest.mark.timeout(150)
def test_live_mode_fills_at_the_venue(live, scenario_venue, member, books, secrets_env, tmp_path):
    run, venue = _run_take_profit(live, scenario_venue, member, tmp_path, "LIVE")
    state = venue.state()
    assert state["positions"] == {}
    assert [(o["side"], o["reduceOnly"], o["status"]) for o in state["orders"]] == [
        ("BUY", False, "FILLED"), ("SELL", True, "FILLED")
    ]
    assert run.strategy.engine.capital == pytest.approx(float(state["balances"]["wallet"]), abs=0.01)
    # the secret never reaches a status line
    assert not any(live.API_SECRET in line for line in run.lines)


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_paper_mode_fills_in_the_sandbox(live, scenario_venue, member, books, secrets_env, tmp_path):
    _run, venue = _run_take_profit(live, scenario_venue, member, tmp_path, "PAPER")
    state = venue.state()
    assert state["orders"] == [] and state["trades"] == [] and state["positions"] == {}
    assert float(state["balances"]["wallet"]) == live.CAPITAL  # nothing reached the venue's account


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_shadow_mode_records_decisions_and_sends_nothing(live, scenario_venue, member, books, secrets_env,
                                                         tmp_path):
    import asyncio
    import json
    import urllib.error
    import urllib.request

    from support.subprocs import port_closed

    venue, path, _ = scenario_venue
    cfg = live.make_config(tmp_path, venue, member, "SHADOW", path, status_port=0)
    base = _scenario(live, until_flat=False)
    http: dict = {}

    def get(url: str) -> tuple[int, object]:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, None

    async def scenario(run) -> None:
        await base(run)
        server = run.parts.monitor.status_server
        await live.wait_for(lambda: server.bound_port, 5, "status endpoint bound")
        root = f"http://127.0.0.1:{server.bound_port}"
        http["port"] = server.bound_port
        for name in ("status", "decisions?n=5", "orders", "decisions?n=x"):
            http[name] = await asyncio.to_thread(get, f"{root}/{name}")

    run = live.run_live(cfg, scenario)
    code, status = http["status"]
    assert code == 200 and status["mode"] == "SHADOW" and status["counters"]["scans"] == live.N_SCANS
    assert live.API_SECRET not in json.dumps(status)
    code, decisions = http["decisions?n=5"]
    assert code == 200 and [d["kind"] for d in decisions][-2:] == ["ENTRY", "EXIT"]
    assert http["orders"] == (200, []) and http["decisions?n=x"][0] == 400
    assert port_closed(http["port"])  # the endpoint went down with the node
    strat = run.strategy
    assert strat.config.mode == "SHADOW" and run.node.kernel.exec_engine.registered_clients == []
    entries = [d for d in strat.decisions if d["kind"] == "ENTRY"]
    assert [(d["asset"], d["bar"], d["direction"]) for d in entries] == [("ETHUSDT", 150, 1)]
    assert entries[0]["vel_div"] == pytest.approx(-0.03)  # the decision is recorded with its inputs
    assert [t.exit_reason for t in strat.engine.trade_history] == ["FIXED_TP"]  # simulated by the engine
    assert run.parts.seen["orders"] == [] and strat.counters["orders_entry"] == 0
    state = venue.state()
    assert state["orders"] == [] and state["trades"] == [] and state["positions"] == {}
    assert not any(k.startswith("POST /fapi/v1/order") for k in state["requests"])


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_off_mode_idles_and_a_mode_change_is_logged(live, scenario_venue, member, books, secrets_env, tmp_path,
                                                    caplog):
    venue, path, _ = scenario_venue
    cfg = live.make_config(tmp_path, venue, member, "OFF", path)
    cfg.mode_path.parent.mkdir(parents=True)
    cfg.mode_path.write_text("SHADOW\n")  # the previous run was SHADOW
    with caplog.at_level("WARNING", logger="dolphin.live"):
        run = live.run_live(cfg, _scenario(live, until_flat=False))
    assert "mode changed SHADOW -> OFF" in caplog.text
    assert cfg.mode_path.read_text().strip() == "OFF" and run.parts.previous_mode == "SHADOW"
    strat = run.strategy
    assert strat.counters["scans"] == live.N_SCANS  # data flows ...
    assert list(strat.decisions) == [] and strat.engine.trade_history == []  # ... the strategy idles
    assert run.parts.seen["orders"] == []
