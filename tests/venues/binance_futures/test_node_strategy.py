"""DolphinStrategy in a real TradingNode against the loopback Binance USDT-M venue (a test stand-in).

One replayed window built so it must trade (``support.engine_frames.scenario_frame`` with its six
made-up assets renamed to six universe symbols and rescaled to their prices, on each tick grid;
AAA's 1.2% rise after the entry is a take-profit) is written to a parquet file. The venue replays
that file (``--replay``, paused) and ``ReplayScanDataClient`` replays the same file as
``DolphinScan`` data in lock-step with it (it steps the venue, waits for the quotes, then emits the
scan). The node runs the real Binance data client with either the real Binance execution client
(live) or the Nautilus sandbox execution client (paper), or runs the strategy in SHADOW mode.
"""

import asyncio
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support.engine_frames import scenario_replay_frame

from nautilus_dolphin.data.universe import UNIVERSE

# The six scenario assets as universe symbols, AAA (the IRP pick) first.
SYMS: tuple[str, ...] = ("ETHUSDT", "BTCUSDT", "BNBUSDT", "BCHUSDT", "APTUSDT", "SUIUSDT")
N_SCANS = 175  # entry at scan 150 (after the 100-bar warm-up), take-profit from scan 160
PREROLL = 3  # leading rows that only step the venue (its first row is consumed at start-up)
CAPITAL = 25_000.0  # ENGINE_KWARGS initial_capital = the venue wallet = the paper account
OVERRIDES = {"use_ob_edge": False, "use_sp_slippage": False}  # deterministic decisions


def replay_frame() -> pd.DataFrame:
    """The scenario as a vbt_cache-layout frame over SYMS, PREROLL copies of row 0 in front."""
    return scenario_replay_frame(SYMS, N_SCANS, PREROLL)


def reference_trades(frame: pd.DataFrame) -> list:
    """The standalone D_LIQ engine on the scan rows (internal fills): the decisions to expect."""
    from nautilus_dolphin.config import ENGINE_KWARGS
    from nautilus_dolphin.engine import create_d_liq_engine

    scans = frame.iloc[PREROLL:].reset_index(drop=True)
    eng = create_d_liq_engine(
        **{**ENGINE_KWARGS, **OVERRIDES}, size_increments={s: UNIVERSE[s].step_size for s in SYMS}
    )
    eng.process_day("2026-01-01", scans, list(SYMS), vol_regime_ok=np.arange(len(scans)) >= 100)
    return eng.trade_history


@pytest.fixture
def replay_venue(tmp_path: Path, node_kit):
    """A paused loopback venue replaying the scenario file; yields (venue, file, frame)."""
    frame = replay_frame()
    path = tmp_path / "replay.parquet"
    frame.to_parquet(path)
    venue = node_kit.start_venue(
        extra=["--symbols", *SYMS, "--step-interval", "0", "--replay", str(path), "--wallet", str(CAPITAL)]
    )
    try:
        yield venue, path, frame
    finally:
        node_kit.stop_venue(venue)


def write_scan_catalog(frame: pd.DataFrame, root: Path) -> Path:
    """Write the frame's scans into a ParquetDataCatalog at ``root`` (+ the asset order file)."""
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    from strategies.replay_client import rows_from_frame

    rows = rows_from_frame(frame, SYMS, "scenario")
    ParquetDataCatalog(str(root)).write_data(
        [rows.scan(i, int(rows.ts_ns[i]), int(rows.ts_ns[i])) for i in range(len(rows))]
    )
    (root / "dolphin_catalog.json").write_text(json.dumps({"assets": list(SYMS)}))
    return root


def _run(node_kit, venue, path: Path, mode: str, exec_kind: str, catalog: Path | None = None) -> dict:
    """Run DolphinStrategy + the replay client in a node until the replay (and the trade) is done.

    The client replays ``path`` (the venue's own file) or, with ``catalog``, the same scans from a
    catalog window.
    """
    from strategies.config import DolphinStrategyConfig
    from strategies.dolphin_strategy import DolphinStrategy
    from strategies.replay_client import ReplayScanDataClientConfig
    from strategies.replay_client import ReplayScanDataClientFactory

    strategy = DolphinStrategy(
        DolphinStrategyConfig(
            engine="d_liq",
            engine_overrides=OVERRIDES,
            assets=SYMS,
            venue="BINANCE",
            scan_client_id="SCAN",
            subscribe_quotes=True,
            order_style="market",
            mode=mode,
            oms_type="NETTING",
        )
    )
    frame = pd.read_parquet(path)
    source = (
        {"frame_path": str(path)}
        if catalog is None
        else {
            "catalog_path": str(catalog),
            "start": str(frame["timestamp"].iloc[0]),
            "end": str(frame["timestamp"].iloc[-1]),
        }
    )
    replay = ReplayScanDataClientConfig(
        **source,
        assets=SYMS,
        speed=float(os.environ.get("DOLPHIN_REPLAY_SPEED", "400")),  # 5-second scans every 12.5 ms
        venue_control_url=venue.http,
        preroll_rows=PREROLL,
        quote_timeout_secs=5.0,
    )
    seen: dict = {}
    wait_for = node_kit.wait_for

    async def scenario(run) -> None:
        from nautilus_trader.model.currencies import USDT

        client = next(c for c in run.node.kernel.data_engine._clients.values() if str(c.id) == "SCAN")
        strat = run.strategy
        await wait_for(lambda: client.finished or client.failure, 30, "scan replay finished")
        assert client.failure is None, client.failure
        # ``finished`` = every scan handed to the node; the live data engine queues data, so the
        # last scans may still be on their way to the strategy
        await wait_for(
            lambda: strat.counters["scans"] >= client.counters["emitted"],
            10,
            "every emitted scan reached the strategy",
            show=lambda: (strat.counters["scans"], client.counters["emitted"]),
        )
        if mode == "TRADE":
            await wait_for(
                lambda: strat.engine.trade_history and strat.engine.position is None, 10, "exit fill booked"
            )

            def usdt() -> float:
                return float(run.account().balance_total(USDT).as_double())

            # the account follows its own event (ACCOUNT_UPDATE live, the sandbox's state on paper),
            # which may come a moment after the fill the engine booked
            await wait_for(
                lambda: abs(usdt() - strat.engine.capital) <= 0.01,
                10,
                "account balance = engine capital",
                show=lambda: (usdt(), strat.engine.capital),
            )
        seen["client"] = dict(client.counters)
        seen["scans"] = strat.counters["scans"]
        seen["strategy_counters"] = dict(strat.counters)
        seen["decisions"] = list(strat.decisions)
        seen["trades"] = list(strat.engine.trade_history)
        seen["capital"] = strat.engine.capital
        seen["engine_qty"] = {s: strat.engine_position_qty(s) for s in SYMS}
        seen["node_qty"] = {s: strat.venue_position_qty(s) for s in SYMS}
        seen["orders"] = [
            (o.side.name, o.is_reduce_only, o.status.name, float(o.quantity), float(o.filled_qty))
            for o in sorted(run.cache.orders(), key=lambda o: o.ts_init)
        ]
        seen["account_usdt"] = float(run.account().balance_total(USDT).as_double())
        seen["venue"] = await run.venue.acontrol("state")

    node_kit.run_node(
        venue,
        scenario,
        exec_kind=exec_kind,
        deadline=45,
        symbols=SYMS,
        strategy=strategy,
        extra_data_clients={"SCAN": (replay, ReplayScanDataClientFactory)},
        sandbox_balance=f"{CAPITAL:.0f} USDT",
    )
    return seen


def _assert_traded_like_the_backtest(seen: dict, frame: pd.DataFrame) -> None:
    ref = reference_trades(frame)
    assert len(ref) == 1 and ref[0].exit_reason == "FIXED_TP"  # the scenario is built to do this
    assert seen["client"]["emitted"] == N_SCANS and seen["scans"] == N_SCANS
    assert seen["client"]["quote_timeouts"] == 0  # every scan met its own prices in the node
    got = seen["trades"]
    assert len(got) == 1
    t, r = got[0], ref[0]
    assert (t.asset, t.direction, t.entry_bar, t.exit_reason) == (
        r.asset,
        r.direction,
        r.entry_bar,
        "FIXED_TP",
    )
    # the exit is decided on the first scan at/after the take-profit bar once the entry fill has
    # come back (live fills are asynchronous; 10 scans = 125 ms at this speed is the usual margin)
    assert r.exit_bar <= t.exit_bar < N_SCANS
    assert t.quantity == pytest.approx(r.quantity)
    # one entry (BUY) and its reduce-only exit (SELL), both filled in full
    assert seen["orders"] == [
        ("BUY", False, "FILLED", r.quantity, r.quantity),
        ("SELL", True, "FILLED", r.quantity, r.quantity),
    ]
    assert seen["strategy_counters"]["fills"] == 2 and seen["strategy_counters"]["rejected"] == 0
    # flat everywhere: the engine, the node's positions
    assert all(q == 0.0 for q in seen["engine_qty"].values())
    assert all(q == 0.0 for q in seen["node_qty"].values())
    assert t.pnl > 0  # a take-profit net of fees
    # the engine's books are the account's: capital equals the node's USDT balance
    assert seen["capital"] == pytest.approx(seen["account_usdt"], abs=0.01)
    assert seen["capital"] == pytest.approx(CAPITAL + t.pnl, abs=1e-6)


@pytest.mark.slow
@pytest.mark.binance_exec
@pytest.mark.timeout(120)
def test_dolphin_strategy_trades_live_against_the_venue(replay_venue, node_kit):
    venue, path, frame = replay_venue
    seen = _run(node_kit, venue, path, mode="TRADE", exec_kind="binance")
    _assert_traded_like_the_backtest(seen, frame)
    state = seen["venue"]
    assert state["positions"] == {}  # the venue is flat as the engine is
    assert [(o["side"], o["reduceOnly"], o["status"]) for o in state["orders"]] == [
        ("BUY", False, "FILLED"),
        ("SELL", True, "FILLED"),
    ]
    assert len(state["trades"]) >= 2
    assert state["requests"].get("POST /fapi/v1/order") == 2
    wallet = float(state["balances"]["wallet"])
    assert seen["capital"] == pytest.approx(wallet, abs=0.01)  # commission rounding only


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_dolphin_strategy_trades_on_paper_with_venue_data(replay_venue, node_kit):
    venue, path, frame = replay_venue
    seen = _run(node_kit, venue, path, mode="TRADE", exec_kind="sandbox")
    _assert_traded_like_the_backtest(seen, frame)
    # the sandbox filled at the venue's quotes: entry at the ask, exit at the bid of the scan's price
    t = seen["trades"][0]
    tick = UNIVERSE[t.asset].tick_size
    scans = frame.iloc[PREROLL:].reset_index(drop=True)
    assert t.entry_price == pytest.approx(scans.loc[t.entry_bar, t.asset] + tick)
    assert t.exit_price == pytest.approx(scans.loc[t.exit_bar, t.asset])
    state = seen["venue"]
    assert state["orders"] == [] and state["trades"] == []  # paper trading sent nothing to the venue
    assert float(state["balances"]["wallet"]) == CAPITAL


@pytest.mark.slow
@pytest.mark.binance_exec
@pytest.mark.timeout(120)
def test_dolphin_strategy_shadow_mode_sends_no_orders(replay_venue, node_kit, tmp_path):
    venue, path, frame = replay_venue
    catalog = write_scan_catalog(frame, tmp_path / "catalog")  # this run replays a catalog window
    seen = _run(node_kit, venue, path, mode="SHADOW", exec_kind="binance", catalog=catalog)
    assert seen["client"]["emitted"] == N_SCANS and seen["client"]["quote_timeouts"] == 0
    entries = [d for d in seen["decisions"] if d["kind"] == "ENTRY"]
    ref = reference_trades(frame)[0]
    assert [(d["asset"], d["bar"], d["direction"]) for d in entries] == [
        (ref.asset, ref.entry_bar, ref.direction)
    ]
    assert entries[0]["quantity"] == pytest.approx(ref.quantity)
    assert [t.exit_reason for t in seen["trades"]] == ["FIXED_TP"]  # simulated by the engine itself
    assert seen["orders"] == [] and seen["strategy_counters"]["orders_entry"] == 0
    state = seen["venue"]
    assert state["orders"] == [] and state["trades"] == [] and state["positions"] == {}
    assert not any(k.startswith(("POST /fapi/v1/order", "POST /fapi/v1/batch")) for k in state["requests"])
    assert state["requests"].get("GET /fapi/v1/exchangeInfo", 0) >= 1  # the node did talk to the venue


def test_replay_rows_from_file_and_catalog_agree_and_bad_frames_are_named(tmp_path):
    from strategies.replay_client import rows_from_catalog
    from strategies.replay_client import rows_from_frame

    frame = replay_frame()
    rows = rows_from_frame(frame, SYMS, "scenario")
    assert len(rows) == N_SCANS + PREROLL and rows.assets == SYMS
    root = write_scan_catalog(frame, tmp_path / "catalog")
    window = rows_from_catalog(
        str(root), str(frame["timestamp"].iloc[PREROLL]), str(frame["timestamp"].iloc[-1])
    )
    assert len(window) == N_SCANS and window.assets == SYMS
    np.testing.assert_array_equal(window.prices, rows.prices[PREROLL:])
    np.testing.assert_array_equal(window.ts_ns, rows.ts_ns[PREROLL:])
    assert window.scan(0, 1, 2).vel_div == rows.scan(PREROLL, 1, 2).vel_div
    with pytest.raises(ValueError, match=r"f\.parquet: missing signal column\(s\) \['vel_div'\]"):
        rows_from_frame(frame.drop(columns=["vel_div"]), SYMS, "f.parquet")
    bad = frame.copy()
    bad.loc[7, "instability_50"] = np.nan
    with pytest.raises(ValueError, match=r"column 'instability_50', row 7: not finite"):
        rows_from_frame(bad, SYMS, "f.parquet")
    with pytest.raises(ValueError, match=r"missing asset column\(s\) \['XRPUSDT'\]"):
        rows_from_frame(frame, (*SYMS, "XRPUSDT"), "f.parquet")
    with pytest.raises(ValueError, match="differ from the catalog's order"):
        rows_from_catalog(str(root), None, None, tuple(reversed(SYMS)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of frame_path or catalog_path"),
        ({"frame_path": "a.parquet", "catalog_path": "c"}, "exactly one of frame_path or catalog_path"),
        ({"frame_path": "a.json"}, r"frame_path must be a \.parquet or \.csv file"),
        ({"frame_path": "a.parquet", "start": "2026-01-01"}, "start/end select a catalog window"),
        ({"catalog_path": "c", "start": "yesterday-ish"}, r"\.start: cannot parse 'yesterday-ish'"),
        ({"catalog_path": "c", "start": "2026-01-02", "end": "2026-01-01"}, "is after end"),
        ({"frame_path": "a.parquet", "assets": ()}, "assets must be non-empty"),
        ({"frame_path": "a.parquet", "assets": ("BTCUSDT", "BTCUSDT")}, "without repeats"),
        ({"frame_path": "a.parquet", "speed": -1.0}, "speed must be finite and >= 0"),
        ({"frame_path": "a.parquet", "speed": float("nan")}, "speed must be finite and >= 0"),
        ({"frame_path": "a.parquet", "timestamps": "wall"}, "timestamps must be one of"),
        ({"frame_path": "a.parquet", "venue_control_url": "127.0.0.1:80"}, "must be an http"),
        ({"frame_path": "a.parquet", "quote_timeout_secs": 0.0}, "quote_timeout_secs must be > 0"),
        ({"frame_path": "a.parquet", "preroll_rows": -1}, "preroll_rows must be >= 0"),
    ],
)
def test_replay_config_rejects_bad_inputs_by_name(kwargs, message):
    from strategies.replay_client import ReplayScanDataClientConfig

    with pytest.raises(ValueError, match=message):
        ReplayScanDataClientConfig(**kwargs)


def test_replay_factory_fails_at_build_on_a_bad_source(tmp_path):
    """The factory loads the rows, so a missing file or a bad column stops the node's build."""
    from nautilus_trader.cache.cache import Cache
    from nautilus_trader.common.component import LiveClock
    from nautilus_trader.common.component import MessageBus
    from nautilus_trader.model.identifiers import TraderId

    from strategies.replay_client import ReplayScanDataClientConfig
    from strategies.replay_client import ReplayScanDataClientFactory

    clock = LiveClock()
    loop = asyncio.new_event_loop()
    parts = {"msgbus": MessageBus(TraderId("TEST-001"), clock), "cache": Cache(), "clock": clock}

    def create(**cfg):
        return ReplayScanDataClientFactory.create(
            loop=loop, name="SCAN", config=ReplayScanDataClientConfig(**cfg), **parts
        )

    try:
        with pytest.raises(FileNotFoundError, match=r"scan replay file not found: .*nope\.parquet"):
            create(frame_path=str(tmp_path / "nope.parquet"))
        with pytest.raises(FileNotFoundError, match="scan replay catalog not found"):
            create(catalog_path=str(tmp_path / "no_catalog"))
        frame = replay_frame()
        frame.drop(columns=["BTCUSDT"]).to_parquet(tmp_path / "bad.parquet")
        with pytest.raises(ValueError, match=r"bad\.parquet: missing asset column\(s\) \['BTCUSDT'\]"):
            create(frame_path=str(tmp_path / "bad.parquet"), assets=SYMS)
        frame.to_parquet(tmp_path / "good.parquet")
        with pytest.raises(ValueError, match="leaves no scan"):
            create(frame_path=str(tmp_path / "good.parquet"), assets=SYMS, preroll_rows=len(frame))
        client = create(frame_path=str(tmp_path / "good.parquet"), assets=SYMS, preroll_rows=PREROLL)
        assert str(client.id) == "SCAN" and client.counters["rows"] == len(frame)
        assert client.rows.assets == SYMS and client.finished is False and client.failure is None
    finally:
        loop.close()
