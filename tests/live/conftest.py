"""Fixtures for ``dolphin live`` tests: the loopback Binance venue, the Hazelcast test member, a book pusher.

Real parts: the node is built by ``strategies.live_node.build_live_node`` (real ``TradingNode``, the
real Nautilus Binance adapter talking to the loopback venue subprocess, the real hazelcast client
talking to the in-process TEST member). Scans come from ``ReplayScanDataClient`` in lock-step with
the venue replaying the same file (``scans.source = "replay"``). The only test-side writer is
``BookPusher``: it stores neutral order-book payloads into the member (``put_direct``, which fires
the member's entry events as a client ``put`` would), standing in for ``dolphin obf-publish``.

The scenario (``tests/support/engine_frames.scenario_frame`` on six universe symbols, as in
``tests/venues/binance_futures/test_node_strategy.py``): D_LIQ enters ETHUSDT long at scan 150
(after the 100-scan warm-up) and its 1.2 % rise from scan 160 is a take-profit.

Clean process for the real Binance execution client (see docs/loopback-venues.md, "BINANCE account
registry trap"): once a backtest or a PAPER (sandbox) node for venue BINANCE ran in a process, every
later ``BINANCE-...`` account there double-counts fees. Tests that run the real Binance execution
client (mode LIVE) are marked ``binance_exec``; in a tainted process such a test runs alone in a fresh
``python -m pytest <nodeid>`` subprocess and its result is reported here (the shared hook of
``tests/support/clean_process.py``, as for ``tests/venues/binance_futures``).
"""

import asyncio
import os
import threading
import time
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from support.clean_process import pytest_runtest_protocol  # noqa: F401  (this folder's hook)
from support.engine_frames import SIGNAL_BAR
from support.engine_frames import scenario_replay_frame
from support.node_run import drive_node
from support.node_run import wait_for
from support.subprocs import VenueProcess
from support.subprocs import read_banner
from support.subprocs import spawn_module
from support.subprocs import stop_process

REPO = Path(__file__).resolve().parents[2]
SYMS: tuple[str, ...] = ("ETHUSDT", "BTCUSDT", "BNBUSDT", "BCHUSDT", "APTUSDT", "SUIUSDT")
N_SCANS = 175
PREROLL = 3
CAPITAL = 25_000.0
OVERRIDES = {"use_ob_edge": False, "use_sp_slippage": False}
API_KEY = "loopback-live-key"
API_SECRET = "loopback-live-secret-never-logged-5c1e"
KEY_ENV = "DOLPHIN_TEST_LIVE_KEY"
SECRET_ENV = "DOLPHIN_TEST_LIVE_SECRET"
VENUE_LIFETIME_SECS = 900.0


# -- clean-process isolation for the real Binance execution client: support.clean_process -------
# (its ``pytest_runtest_protocol`` hook is imported above, so pytest registers it for this folder)


def replay_frame(n_scans: int = N_SCANS, tp_bar: int = SIGNAL_BAR + 10) -> pd.DataFrame:
    """The scenario as a vbt_cache-layout frame over SYMS, PREROLL copies of row 0 in front."""
    return scenario_replay_frame(SYMS, n_scans, PREROLL, tp_bar)


# -- processes ---------------------------------------------------------------------------------


Venue = VenueProcess  # the loopback venue subprocess (support.subprocs)


def start_venue(replay: Path | None, symbols: tuple[str, ...] = SYMS, wallet: float = CAPITAL,
                lifetime: float = VENUE_LIFETIME_SECS) -> Venue:
    """Start the venue subprocess replaying ``replay`` (paused: it moves when stepped), or with
    ``replay=None`` a seeded random walk stepping every 0.05 s."""
    market = (["--step-interval", "0", "--replay", str(replay)] if replay is not None
              else ["--step-interval", "0.05", "--step-ms", "5000", "--vol", "0.001", "--seed", "7"])
    cmd = ["--symbols", *symbols, "--api-key", API_KEY, "--duration", str(lifetime), *market, "--wallet", str(wallet)]
    proc, banner = spawn_module("adapters.loopback.binance_futures", cmd, env={"DOLPHIN_VENUE_API_SECRET": API_SECRET},
                                what="venue")
    return Venue(proc=proc, port=banner["port"], http=banner["http"], ws=banner["ws"])


def stop_venue(venue: Venue) -> None:
    stop_process(venue.proc, venue.port)


class BookPusher:
    """Test-side writer of neutral 5-level books for ``assets`` into the member, every ``period`` s.

    ``pause()`` stops the pushes (the books in the member then age: stale data), ``resume()``
    restarts them. Payloads carry ``_pushed_at = now`` (the freshness the node measures).
    """

    def __init__(self, member: Any, assets: tuple[str, ...], period: float = 0.2) -> None:
        from nautilus_dolphin.obf.codec import OBPayloadCodec

        self.member = member
        self.assets = assets
        self.period = period
        self.codec = OBPayloadCodec()
        self.pushes = 0
        self.errors = 0
        self._run = threading.Event()
        self._run.set()
        self._quit = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="book-pusher", daemon=True)

    def start(self) -> "BookPusher":
        self._thread.start()
        return self

    def push_once(self) -> None:
        from nautilus_dolphin.obf.types import OBSnapshot

        now = time.time()
        levels = np.arange(1.0, 6.0)
        for asset in self.assets:
            snap = OBSnapshot(asset=asset, timestamp=now, bid_notional=levels * 1e5, ask_notional=levels * 1e5,
                              bid_depth=levels * 0.5, ask_depth=levels * 0.5, pushed_at=now, push_seq=self.pushes)
            self.member.put_direct("DOLPHIN_FEATURES", f"asset_{asset}_ob", self.codec.encode(snap))
        self.pushes += 1

    def _loop(self) -> None:
        while not self._quit.is_set():
            if self._run.is_set():
                try:
                    self.push_once()
                except Exception:  # member restarting: try again next period
                    self.errors += 1
            self._quit.wait(self.period)

    def pause(self) -> None:
        self._run.clear()

    def resume(self) -> None:
        self._run.set()

    def close(self) -> None:
        self._quit.set()
        self._thread.join(5.0)


# -- config and node ---------------------------------------------------------------------------


def make_config(tmp: Path, venue: Venue, member: Any, mode: str, replay: Path, **changes: Any) -> Any:
    """A ``LiveConfig`` against the loopback venue and the member, scans replayed in lock-step."""
    from strategies.live_config import config_from_dict

    raw: dict[str, Any] = {
        "mode": mode,
        "trader_id": "LIVETEST-001",
        "state_dir": str(tmp / "state"),
        "status_interval_secs": 0.5,
        "log_level": os.environ.get("DOLPHIN_LIVE_TEST_LOG", "ERROR"),
        "strategy": {"assets": list(SYMS), "engine_overrides": dict(OVERRIDES), "ob_mode": "live"},
        "binance": {"testnet": False, "api_key_env": KEY_ENV, "api_secret_env": SECRET_ENV,
                    "base_url_http": venue.http, "base_url_ws": venue.ws, "max_retries": 1},
        "paper": {"starting_balance": CAPITAL},
        "hazelcast": {"members": [member.address], "heartbeat_timeout_s": 5.0,
                      "cluster_connect_timeout_s": 30.0},
        "scans": {"source": "replay", "replay_path": str(replay), "replay_venue_control_url": venue.http,
                  "replay_preroll_rows": PREROLL,
                  "replay_speed": float(os.environ.get("DOLPHIN_REPLAY_SPEED", "400"))},
        "node": {"timeout_connection": 15.0, "inflight_check_interval_ms": 500,
                 "inflight_check_threshold_ms": 1500},
    }
    for section, values in changes.items():
        if isinstance(values, dict) and isinstance(raw.get(section), dict):
            raw[section] = {**raw[section], **values}
        else:
            raw[section] = values
    return config_from_dict(raw, "<test>")


def toml_text(cfg: Any) -> str:
    """``cfg`` as a TOML file (for ``dolphin live`` subprocesses)."""
    from strategies.live_config import format_config

    return format_config(cfg)


@dataclass
class LiveRun:
    """What a scenario gets: the node and its parts."""

    node: Any
    parts: Any
    lines: list[str]

    @property
    def strategy(self) -> Any:
        return self.parts.strategy

    @property
    def cache(self) -> Any:
        return self.node.kernel.cache

    def client(self, name: str) -> Any:
        return self.parts.data_client(name, self.node)


def run_live(cfg: Any, scenario: Callable[[LiveRun], Awaitable[None]], deadline: float = 60.0,
             wait_started: bool = True) -> LiveRun:
    """Build the node of ``cfg``, run ``scenario`` once the strategy runs, stop and dispose the node."""
    from strategies.live_node import build_live_node

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    lines: list[str] = []
    node = build_live_node(cfg, loop=loop, status_out=lines.append)
    run = LiveRun(node=node, parts=node.dolphin, lines=lines)
    drive_node(
        node, loop, lambda: scenario(run),
        started=(lambda: run.strategy.is_running) if wait_started else None,
        start_timeout=cfg.node.timeout_connection + 20, deadline=deadline,
        hard_stop_secs=deadline + cfg.node.timeout_connection + 40,
    )
    return run


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The venue's key and secret in the environment variables the test configs name."""
    monkeypatch.setenv(KEY_ENV, API_KEY)
    monkeypatch.setenv(SECRET_ENV, API_SECRET)


@pytest.fixture
def member() -> Any:
    """The Hazelcast TEST member on an OS-chosen port, closed (port freed) at teardown."""
    from adapters.loopback.hazelcast import HazelcastTestMember

    m = HazelcastTestMember(port=0).start()
    try:
        yield m
    finally:
        m.close()


@pytest.fixture
def books(member: Any) -> Any:
    """A started ``BookPusher`` for SYMS; closed at teardown."""
    pusher = BookPusher(member, SYMS).start()
    try:
        yield pusher
    finally:
        pusher.close()


@pytest.fixture
def scenario_venue(tmp_path: Path) -> Any:
    """A paused loopback venue replaying the scenario file; yields (venue, file, frame)."""
    frame = replay_frame()
    path = tmp_path / "replay.parquet"
    frame.to_parquet(path)
    venue = start_venue(path)
    try:
        yield venue, path, frame
    finally:
        stop_venue(venue)


@pytest.fixture
def live() -> SimpleNamespace:
    """Helpers of the live tests (test modules cannot import this conftest)."""
    return SimpleNamespace(
        make_config=make_config, run_live=run_live, wait_for=wait_for, start_venue=start_venue,
        stop_venue=stop_venue, replay_frame=replay_frame, toml_text=toml_text, read_banner=read_banner,
        BookPusher=BookPusher, SYMS=SYMS, N_SCANS=N_SCANS, PREROLL=PREROLL, CAPITAL=CAPITAL, REPO=REPO,
        KEY_ENV=KEY_ENV, SECRET_ENV=SECRET_ENV, API_KEY=API_KEY, API_SECRET=API_SECRET, OVERRIDES=OVERRIDES,
    )
