"""Fixtures for the loopback Binance USDT-M venue tests.

- ``venue``: the loopback venue (a TEST STAND-IN) in a subprocess started with
  ``python -m adapters.loopback.binance_futures``, with a start deadline and a bounded lifetime,
  torn down after the test with its port checked closed.
- ``node_kit``: builds and runs a real ``TradingNode`` with the real Nautilus Binance data client
  and either the real Binance execution client or the sandbox (paper) execution client, with
  ``ProbeStrategy`` (a small test strategy that records what it receives and places orders on
  request). A *scenario* coroutine runs on the node's loop, asserts each step with its own
  deadline, and stops the node; a hard deadline stops the node whatever happens.

A process-global trap of Nautilus 1.221 (``nautilus_trader.accounting.factory``): any
``BacktestExecClient`` for a venue named ``BINANCE`` (a backtest, or the sandbox execution
client of a paper node) calls ``AccountFactory.register_calculated_account("BINANCE")``, which
cannot be undone. Every ``BINANCE-...`` account created later *in the same process* then also
computes its balance from fills on top of the venue's ``ACCOUNT_UPDATE``: commissions and PnL
are counted twice (seen in CI: 9999.0999990 instead of 9999.5499995 after one fill, because the
e2e backtests run first). Tests that run the real Binance execution client are therefore marked
``binance_exec``; when this process is already tainted (``binance_accounts_calculated()``) such a
test is run in a fresh ``python -m pytest <nodeid>`` subprocess and its result reported here, and
``run_node`` refuses to run the real Binance execution client in a tainted process.
"""

import asyncio
import os
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from support.clean_process import pytest_runtest_protocol  # noqa: F401  (this folder's hook)
from support.node_run import drive_node
from support.node_run import wait_for
from support.subprocs import VenueProcess
from support.subprocs import spawn_module
from support.subprocs import stop_process

from strategies.live_node import binance_accounts_calculated

REPO = Path(__file__).resolve().parents[3]
SYMBOLS = ("BTCUSDT", "ETHUSDT")
API_KEY = "loopback-test-key"
API_SECRET = "loopback-test-secret"
START_DEADLINE_SECS = 20.0
VENUE_LIFETIME_SECS = 240.0


# -- clean-process isolation for the real Binance execution client: support.clean_process -------
# (its ``pytest_runtest_protocol`` hook is imported above, so pytest registers it for this folder)


# -- the venue subprocess ----------------------------------------------------------------------


def start_venue(extra: list[str] | None = None) -> VenueProcess:
    """Start the venue subprocess and wait (bounded) for its JSON banner."""
    args = ["--symbols", *SYMBOLS, "--api-key", API_KEY, "--duration", str(VENUE_LIFETIME_SECS),
            "--step-interval", "0.05", "--step-ms", "5000", "--vol", "0.0002", *(extra or [])]
    proc, banner = spawn_module("adapters.loopback.binance_futures", args,
                                env={"DOLPHIN_VENUE_API_SECRET": API_SECRET}, deadline=START_DEADLINE_SECS,
                                what="venue")
    return VenueProcess(proc=proc, port=banner["port"], http=banner["http"], ws=banner["ws"])


def stop_venue(venue: VenueProcess) -> None:
    """Terminate the subprocess (kill after 5 s) and check its port is released."""
    stop_process(venue.proc, venue.port)


@pytest.fixture
def venue() -> VenueProcess:
    """A fresh loopback venue subprocess for one test."""
    handle = start_venue()
    try:
        yield handle
    finally:
        stop_venue(handle)


# -- the probe strategy ------------------------------------------------------------------------


def _probe_classes() -> tuple[type, type]:
    from nautilus_trader.config import StrategyConfig
    from nautilus_trader.model.data import Bar
    from nautilus_trader.model.data import BarType
    from nautilus_trader.model.data import QuoteTick
    from nautilus_trader.model.data import TradeTick
    from nautilus_trader.model.enums import OrderSide
    from nautilus_trader.model.enums import TimeInForce
    from nautilus_trader.model.identifiers import InstrumentId
    from nautilus_trader.model.objects import Price
    from nautilus_trader.model.objects import Quantity
    from nautilus_trader.trading.strategy import Strategy

    class ProbeConfig(StrategyConfig, frozen=True):
        """Test strategy config; ``oms_type`` pinned to NETTING as the backtest uses."""

        instrument_ids: tuple[str, ...] = ()
        subscribe_bars: bool = True
        subscribe_trades: bool = True

    class ProbeStrategy(Strategy):
        """Records data and order events; places orders when a scenario asks."""

        def __init__(self, config: ProbeConfig) -> None:
            super().__init__(config)
            self.started = False
            self.quotes: dict[str, int] = {}
            self.trades: dict[str, int] = {}
            self.bars: list[Any] = []
            self.events: list[Any] = []

        def on_start(self) -> None:
            self.started = True
            for raw in self.config.instrument_ids:
                iid = InstrumentId.from_str(raw)
                self.subscribe_quote_ticks(iid)
                if self.config.subscribe_trades:
                    self.subscribe_trade_ticks(iid)
                if self.config.subscribe_bars:
                    self.subscribe_bars(BarType.from_str(f"{raw}-1-MINUTE-LAST-EXTERNAL"))

        def on_stop(self) -> None:
            self.started = False

        def on_quote_tick(self, tick: QuoteTick) -> None:
            key = str(tick.instrument_id)
            self.quotes[key] = self.quotes.get(key, 0) + 1

        def on_trade_tick(self, tick: TradeTick) -> None:
            key = str(tick.instrument_id)
            self.trades[key] = self.trades.get(key, 0) + 1

        def on_bar(self, bar: Bar) -> None:
            self.bars.append(bar)

        def on_event(self, event: Any) -> None:
            self.events.append(event)

        def event_names(self) -> list[str]:
            return [type(e).__name__ for e in self.events]

        def market(self, instrument_id: str, side: str, qty: str, reduce_only: bool = False) -> Any:
            order = self.order_factory.market(
                instrument_id=InstrumentId.from_str(instrument_id),
                order_side=OrderSide[side],
                quantity=Quantity.from_str(qty),
                reduce_only=reduce_only,
            )
            self.submit_order(order)
            return order

        def limit(self, instrument_id: str, side: str, qty: str, price: str, post_only: bool = False) -> Any:
            order = self.order_factory.limit(
                instrument_id=InstrumentId.from_str(instrument_id),
                order_side=OrderSide[side],
                quantity=Quantity.from_str(qty),
                price=Price.from_str(price),
                time_in_force=TimeInForce.GTC,
                post_only=post_only,
            )
            self.submit_order(order)
            return order

    return ProbeConfig, ProbeStrategy


# -- node runner -------------------------------------------------------------------------------


@dataclass
class NodeRun:
    """What a scenario gets: the node, the probe strategy and the venue."""

    node: Any
    strategy: Any
    venue: VenueProcess
    iids: tuple[str, ...]
    notes: dict = field(default_factory=dict)

    @property
    def cache(self) -> Any:
        return self.node.kernel.cache

    def account(self) -> Any:
        from nautilus_trader.adapters.binance import BINANCE_VENUE

        return self.node.kernel.portfolio.account(BINANCE_VENUE)


Scenario = Callable[[NodeRun], Awaitable[None]]


def run_node(
    venue: VenueProcess,
    scenario: Scenario,
    *,
    exec_kind: str = "binance",
    api_secret: str = API_SECRET,
    deadline: float = 60.0,
    timeout_connection: float = 15.0,
    wait_started: bool = True,
    exec_engine_kwargs: dict | None = None,
    strategy_kwargs: dict | None = None,
    symbols: tuple[str, ...] = SYMBOLS,
    strategy: Any = None,
    extra_data_clients: dict[str, tuple[Any, Any]] | None = None,
    sandbox_balance: str = "10000 USDT",
) -> NodeRun:
    """Build a TradingNode against ``venue``, run ``scenario`` on its loop, dispose the node.

    The scenario starts once the probe strategy is RUNNING (unless ``wait_started`` is False) and
    must return within ``deadline`` seconds; any assertion it raises is re-raised here.
    ``strategy`` replaces the probe (then started = ``strategy.is_running``);
    ``extra_data_clients`` maps more client names to ``(config, factory)``; ``symbols`` are the
    instruments loaded; ``sandbox_balance`` is the paper account's starting balance.
    """
    from nautilus_trader.adapters.binance import BINANCE
    from nautilus_trader.adapters.binance import BinanceAccountType
    from nautilus_trader.adapters.binance import BinanceDataClientConfig
    from nautilus_trader.adapters.binance import BinanceExecClientConfig
    from nautilus_trader.adapters.binance import BinanceLiveDataClientFactory
    from nautilus_trader.adapters.binance import BinanceLiveExecClientFactory
    from nautilus_trader.adapters.sandbox.config import SandboxExecutionClientConfig
    from nautilus_trader.adapters.sandbox.factory import SandboxLiveExecClientFactory
    from nautilus_trader.config import InstrumentProviderConfig
    from nautilus_trader.config import LiveExecEngineConfig
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.config import TradingNodeConfig
    from nautilus_trader.live.node import TradingNode
    from nautilus_trader.model.identifiers import InstrumentId

    if exec_kind == "binance" and binance_accounts_calculated():
        raise AssertionError(
            "this process already ran a BINANCE backtest or sandbox, so Nautilus would count the "
            "live account's fees and PnL twice; mark the test 'binance_exec' (see conftest docstring)"
        )
    iids = tuple(f"{s}-PERP.BINANCE" for s in symbols)
    provider = InstrumentProviderConfig(load_ids=frozenset(iids))
    data_cfg = BinanceDataClientConfig(
        api_key=API_KEY,
        api_secret=api_secret,
        account_type=BinanceAccountType.USDT_FUTURES,
        base_url_http=venue.http,
        base_url_ws=venue.ws,
        instrument_provider=provider,
    )
    if exec_kind == "binance":
        exec_cfg: Any = BinanceExecClientConfig(
            api_key=API_KEY,
            api_secret=api_secret,
            account_type=BinanceAccountType.USDT_FUTURES,
            base_url_http=venue.http,
            base_url_ws=venue.ws,
            instrument_provider=provider,
            max_retries=1,
        )
        exec_factory: Any = BinanceLiveExecClientFactory
    else:
        exec_cfg = SandboxExecutionClientConfig(
            venue="BINANCE",
            starting_balances=[sandbox_balance],
            base_currency=None,
            oms_type="NETTING",
            account_type="MARGIN",
            default_leverage=Decimal(10),
            leverages={InstrumentId.from_str(i): Decimal(10) for i in iids},
        )
        exec_factory = SandboxLiveExecClientFactory
    engine_kwargs = {
        "reconciliation": True,
        "graceful_shutdown_on_exception": True,
        "inflight_check_interval_ms": 500,
        "inflight_check_threshold_ms": 1500,
        "reconciliation_startup_delay_secs": 1.0,
    } | (exec_engine_kwargs or {})
    config = TradingNodeConfig(
        trader_id="LOOPBACK-001",
        logging=LoggingConfig(log_level=os.environ.get("LOOPBACK_NODE_LOG", "ERROR"), bypass_logging=False),
        data_clients={BINANCE: data_cfg, **{k: v[0] for k, v in (extra_data_clients or {}).items()}},
        exec_clients={BINANCE: exec_cfg},
        exec_engine=LiveExecEngineConfig(**engine_kwargs),
        timeout_connection=timeout_connection,
        timeout_reconciliation=10.0,
        timeout_portfolio=5.0,
        timeout_disconnection=2.0,
        timeout_post_stop=1.0,
    )
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    node = TradingNode(config=config, loop=loop)
    node.add_data_client_factory(BINANCE, BinanceLiveDataClientFactory)
    node.add_exec_client_factory(BINANCE, exec_factory)
    for name, (_, factory) in (extra_data_clients or {}).items():
        node.add_data_client_factory(name, factory)
    if strategy is None:
        ProbeConfig, ProbeStrategy = _probe_classes()
        strategy = ProbeStrategy(ProbeConfig(instrument_ids=iids, oms_type="NETTING", **(strategy_kwargs or {})))
        started = lambda: strategy.started  # noqa: E731
    else:
        started = lambda: strategy.is_running  # noqa: E731
    run = NodeRun(node=node, strategy=strategy, venue=venue, iids=iids)

    def prepare() -> None:
        node.build()
        node.trader.add_strategy(strategy)

    drive_node(
        node, loop, lambda: scenario(run),
        started=started if wait_started else None,
        start_timeout=timeout_connection + 15, deadline=deadline,
        hard_stop_secs=deadline + timeout_connection + 30, prepare=prepare,
    )
    return run


@pytest.fixture
def node_kit() -> Any:
    """Helpers for node tests: ``run_node``, ``wait_for``, ``start_venue``/``stop_venue``."""

    class Kit:
        pass

    kit = Kit()
    kit.run_node = run_node
    kit.wait_for = wait_for
    kit.start_venue = start_venue
    kit.stop_venue = stop_venue
    kit.API_KEY = API_KEY
    kit.API_SECRET = API_SECRET
    return kit
