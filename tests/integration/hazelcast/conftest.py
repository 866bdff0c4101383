"""Fixtures for tests that drive the REAL hazelcast-python-client against the loopback TEST member.

Every fixture cleans up after itself: clients are shut down, the member's loop thread is stopped,
and ``no_leaks`` checks that no thread started by a test is still alive and the member's port is
free again.
"""

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import hazelcast
import pytest
from hazelcast.config import ReconnectMode
from support.subprocs import REPO
from support.subprocs import read_banner

from adapters.loopback.hazelcast import HazelcastTestMember
from adapters.loopback.hazelcast import wait_until


def port_is_free(port: int) -> bool:
    """True when 127.0.0.1:port can be bound for listening again."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[list[int]]:
    """Fail a test that leaves a thread alive or a port bound; tests append ports to check."""
    before = set(threading.enumerate())
    ports: list[int] = []
    yield ports
    wait_until(lambda: not [t for t in threading.enumerate() if t not in before and t.is_alive()], 10.0, 0.05)
    leftover = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not leftover, f"threads left behind: {leftover}"
    for port in ports:
        assert port_is_free(port), f"port {port} still bound"


@pytest.fixture()
def member(no_leaks: list[int]) -> Iterator[HazelcastTestMember]:
    """A started TEST member on an OS-chosen port, closed at teardown."""
    m = HazelcastTestMember(port=0).start()
    no_leaks.append(m.port)
    try:
        yield m
    finally:
        m.close()


@pytest.fixture()
def make_client() -> Iterator[Callable[..., Any]]:
    """Factory for real clients with fast, degrade-gracefully defaults; all shut down at teardown."""
    clients: list[Any] = []

    def make(address: str, **overrides: Any) -> Any:
        kwargs: dict[str, Any] = {
            "cluster_name": "dev",
            "cluster_members": [address],
            "connection_timeout": 2.0,
            "cluster_connect_timeout": 10.0,
            "reconnect_mode": ReconnectMode.ASYNC,
            "heartbeat_interval": 1.0,
            "heartbeat_timeout": 10.0,
            "invocation_timeout": 10.0,
        }
        kwargs.update(overrides)
        client = hazelcast.HazelcastClient(**kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        with contextlib.suppress(Exception):
            client.shutdown()


@pytest.fixture(autouse=True)
def _quiet_hazelcast_logs() -> Iterator[None]:
    """The client logs every failed attempt with a traceback; keep test output readable."""
    logger = logging.getLogger("hazelcast")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


@pytest.fixture()
def payloads() -> Callable[..., str]:
    """Factory of seed-000 §2 payloads (encoded by the shared codec), pushed "now" by default."""
    import numpy as np

    from nautilus_dolphin.obf.codec import OBPayloadCodec
    from nautilus_dolphin.obf.types import OBSnapshot

    codec = OBPayloadCodec()

    def make(asset: str, seq: int, ts: float | None = None, scale: float = 1.0) -> str:
        now = time.time() if ts is None else ts
        levels = np.arange(1.0, 6.0) * scale
        snap = OBSnapshot(asset=asset, timestamp=now, bid_notional=levels * 1e5, ask_notional=levels * 9e4,
                          bid_depth=levels * 0.5, ask_depth=levels * 0.45, pushed_at=now, push_seq=seq)
        return codec.encode(snap)

    return make


class NodeRun:
    """What a ``run_node`` call observed: the recorder actor, the data client and timings."""

    def __init__(self) -> None:
        self.actor: Any = None
        self.client: Any = None
        self.node: Any = None
        self.error: BaseException | None = None
        self.trader_started = False
        self.wall_s = 0.0


@pytest.fixture()
def run_node() -> Callable[..., NodeRun]:
    """Run a real ``TradingNode`` with the Hazelcast data client and a recording actor.

    ``run_node(settings, scenario, max_seconds)`` builds the node (no exec client), adds a
    ``Recorder`` actor subscribing to ``DolphinOBSnapshot`` (and ``DolphinScan``) through
    ``ClientId("HAZELCAST")``, runs the node on the test's main thread and runs
    ``scenario(run)`` on a helper thread once the actor is running; the node stops when the
    scenario returns or after ``max_seconds``. Scenario exceptions are re-raised. ``setup(node)``
    runs after the build (e.g. to add a strategy).
    """
    import asyncio

    from nautilus_trader.common.actor import Actor
    from nautilus_trader.config import ActorConfig
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.config import TradingNodeConfig
    from nautilus_trader.live.node import TradingNode
    from nautilus_trader.model.data import DataType
    from nautilus_trader.model.identifiers import ClientId

    from adapters.hazelcast.config import HZ_CLIENT_ID
    from adapters.hazelcast.config import HazelcastDataClientConfig
    from adapters.hazelcast.factories import HazelcastLiveDataClientFactory
    from strategies.data_types import DolphinOBSnapshot
    from strategies.data_types import DolphinScan

    class Recorder(Actor):
        """Test actor: records every snapshot/scan with its arrival wall-clock time."""

        def __init__(self, scans: bool, bounded: bool = False) -> None:
            super().__init__(ActorConfig(component_id="HZ-RECORDER"))
            self.scans = scans
            self.bounded = bounded  # soak: keep only latencies and the newest seq per asset
            self.arrivals: list[float] = []
            self.latencies_ms: list[float] = []
            self.newest: dict[str, int] = {}
            self.received: list[tuple[float, Any]] = []
            self.lock = threading.Lock()
            self.loop_thread: int | None = None
            self.foreign_thread_calls = 0

        def on_start(self) -> None:
            self.loop_thread = threading.get_ident()
            self.subscribe_data(DataType(DolphinOBSnapshot), client_id=ClientId(HZ_CLIENT_ID))
            if self.scans:
                self.subscribe_data(DataType(DolphinScan), client_id=ClientId(HZ_CLIENT_ID))

        def on_data(self, data: Any) -> None:
            if threading.get_ident() != self.loop_thread:
                self.foreign_thread_calls += 1
            now = time.time()
            with self.lock:
                if not self.bounded:
                    self.received.append((now, data))
                    return
                if isinstance(data, DolphinOBSnapshot):
                    self.arrivals.append(now)
                    self.latencies_ms.append((now - data.pushed_at_ns / 1e9) * 1e3)
                    self.newest[data.asset] = max(self.newest.get(data.asset, -1), data.push_seq)

        def snapshots(self) -> list[tuple[float, Any]]:
            with self.lock:
                return [(t, d) for t, d in self.received if isinstance(d, DolphinOBSnapshot)]

        def scan_list(self) -> list[Any]:
            with self.lock:
                return [d for _, d in self.received if isinstance(d, DolphinScan)]

    nodes: list[Any] = []

    def run(settings: Any, scenario: Callable[[NodeRun], None], max_seconds: float = 20.0,
            scans: bool = False, bounded: bool = False, setup: Callable[[Any], None] | None = None) -> NodeRun:
        result = NodeRun()
        loop = asyncio.new_event_loop()
        config = TradingNodeConfig(
            trader_id="TESTER-001",
            logging=LoggingConfig(log_level="WARNING"),
            data_clients={HZ_CLIENT_ID: HazelcastDataClientConfig(hazelcast=settings)},
            timeout_connection=5.0,
            timeout_disconnection=5.0,
            timeout_post_stop=0.5,
        )
        node = TradingNode(config=config, loop=loop)
        nodes.append(node)
        node.add_data_client_factory(HZ_CLIENT_ID, HazelcastLiveDataClientFactory)
        node.build()
        actor = Recorder(scans, bounded)
        node.trader.add_actor(actor)
        if setup is not None:  # e.g. add a strategy next to the recorder
            setup(node)
        result.actor, result.node = actor, node
        result.client = node.kernel.data_engine.registered_clients and next(
            c for c in node.kernel.data_engine._clients.values() if str(c.id) == HZ_CLIENT_ID)

        def drive() -> None:
            try:
                assert wait_until(lambda: actor.is_running, 15.0), "trader/actor never started"
                result.trader_started = True
                scenario(result)
            except BaseException as exc:
                result.error = exc
            finally:
                loop.call_soon_threadsafe(node.stop)

        t0 = time.monotonic()
        driver = threading.Thread(target=drive, name="node-scenario", daemon=True)
        loop.call_later(max_seconds, node.stop)
        driver.start()
        try:
            node.run()
        finally:
            driver.join(max_seconds)
            node.dispose()
            result.wall_s = time.monotonic() - t0
        if result.error is not None:
            raise result.error
        return result

    return run


# -- OB publisher end to end: the loopback Binance venue and the publisher as subprocesses -------

VENUE_KEY = "loopback-obf-key"
VENUE_SECRET = "loopback-obf-secret-do-not-log-7f3a"
KEY_ENV = "DOLPHIN_TEST_OBF_KEY"
SECRET_ENV = "DOLPHIN_TEST_OBF_SECRET"


class Proc:
    """A subprocess started by a test, with its banner (first stdout line) when it printed one."""

    def __init__(self, proc: Any, banner: dict | None = None) -> None:
        self.proc = proc
        self.banner = banner or {}
        self.out = ""
        self.err = ""

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, then SIGKILL after ``timeout``; collect output; return the exit code."""
        import subprocess

        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate(timeout=5)
        self.out += out or ""
        self.err += err or ""
        return self.proc.returncode


@pytest.fixture()
def spawn() -> Iterator[Callable[..., Proc]]:
    """Start subprocesses (``python -m ...``) that are always stopped at teardown.

    ``spawn(args, env=None, banner=False, deadline=20)``: with ``banner=True`` waits (bounded)
    for a JSON first line on stdout and parses it.
    """
    import os
    import subprocess
    import sys

    procs: list[Proc] = []

    def start(args: list[str], env: dict[str, str] | None = None, banner: bool = False,
              deadline: float = 20.0) -> Proc:
        full_env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
        p = subprocess.Popen([sys.executable, *args], cwd=REPO, env=full_env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        handle = Proc(p)
        procs.append(handle)
        if banner:
            handle.banner = read_banner(p, deadline, str(args[:2]))
        return handle

    yield start
    for handle in procs:
        handle.stop()


@pytest.fixture()
def binance_venue(spawn: Callable[..., Proc], no_leaks: list[int]) -> Callable[..., Proc]:
    """Start the loopback Binance USDT-M venue (a TEST STAND-IN) for some symbols; stopped at teardown."""

    def start(symbols: tuple[str, ...], lifetime: float = 120.0, step_interval: float = 0.05) -> Proc:
        v = spawn(["-m", "adapters.loopback.binance_futures", "--symbols", *symbols, "--api-key", VENUE_KEY,
                   "--duration", str(lifetime), "--step-interval", str(step_interval), "--step-ms", str(int(step_interval * 1000)),
                   "--vol", "0.0005"],
                  env={"DOLPHIN_VENUE_API_SECRET": VENUE_SECRET}, banner=True)
        no_leaks.append(v.banner["port"])
        return v

    return start


def publisher_args(venue: Proc, member_address: str, symbols: tuple[str, ...], duration: float,
                   *extra: str) -> tuple[list[str], dict[str, str]]:
    """Command line and env of ``python -m adapters.hazelcast.publisher_cli`` against ``venue``."""
    port = venue.banner["port"]
    args = ["-m", "adapters.hazelcast.publisher_cli", "--assets", *symbols, "--hz-members", member_address,
            "--api-key-env", KEY_ENV, "--api-secret-env", SECRET_ENV,
            "--base-url-http", f"http://127.0.0.1:{port}", "--base-url-ws", f"ws://127.0.0.1:{port}",
            "--duration", str(duration), "--log-every", "1", *extra]
    return args, {KEY_ENV: VENUE_KEY, SECRET_ENV: VENUE_SECRET}


@pytest.fixture()
def obf() -> Any:
    """Constants and the command-line builder of the publisher tests (tests cannot import conftest)."""
    from types import SimpleNamespace

    return SimpleNamespace(key=VENUE_KEY, secret=VENUE_SECRET, key_env=KEY_ENV, secret_env=SECRET_ENV,
                           args=publisher_args)
