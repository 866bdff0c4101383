"""``build_live_node``: a ``TradingNode`` for one ``LiveConfig`` (the engine room of ``dolphin live``).

What the node holds, by mode:

===========  ==========================  =======================  ==================
mode         execution client            strategy mode            orders
===========  ==========================  =======================  ==================
OFF          none                        OFF (receives, idle)     never
SHADOW       none                        SHADOW (decides, logs)   never
PAPER        Nautilus sandbox (BINANCE)  TRADE                    simulated fills
LIVE         Binance USDT-M              TRADE                    at the venue
===========  ==========================  =======================  ==================

Data clients: Binance USDT-M (prices; ``base_url_http``/``base_url_ws`` overrides for the
testnet or a loopback venue), Hazelcast (order-book snapshots when ``strategy.ob_mode = "live"``,
scans when ``scans.source = "hazelcast"``), or the replay client (``scans.source = "replay"``).
With ``scans.source = "scanner"`` a ``ScannerActor`` computes the scans from live quotes. A
``LiveMonitor`` actor keeps the recent-order history, measures decision latency and prints the
status line. Nautilus's ``RiskEngine`` gets the order-rate and per-order-notional limits
(``strategies.config.risk_engine_config``), the strategy's ``RiskGuard`` everything else.

Recovery: reconciliation is on, the strategy's state file is ``LiveConfig.state_path``; at start
the strategy adopts the venue's position of a traded asset (entry bar/price/leverage from the
state file when it matches) and reports positions it does not manage.
"""

import asyncio
import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from nautilus_trader.config import InstrumentProviderConfig
from nautilus_trader.config import LiveExecEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.identifiers import InstrumentId

from strategies.live_config import LiveConfig
from strategies.replay_client import REPLAY_CLIENT_ID

STRATEGY_MODES: dict[str, str] = {"OFF": "OFF", "SHADOW": "SHADOW", "PAPER": "TRADE", "LIVE": "TRADE"}
BINANCE_CLIENT: str = "BINANCE"
HZ_CLIENT: str = "HAZELCAST"
REPLAY_CLIENT: str = REPLAY_CLIENT_ID

log = logging.getLogger("dolphin.live")


@dataclass
class LiveParts:
    """What ``build_live_node`` put into the node (attached to it as ``node.dolphin``)."""

    config: LiveConfig
    strategy: Any
    monitor: Any
    scanner: Any | None
    previous_mode: str | None

    def data_client(self, name: str, node: TradingNode) -> Any | None:
        """The node's data client called ``name`` (e.g. ``HAZELCAST``, ``SCAN``), or None."""
        for client in node.kernel.data_engine._clients.values():
            if str(client.id) == name:
                return client
        return None


def note_mode_change(cfg: LiveConfig) -> str | None:
    """Compare with the mode of the last run in ``state_dir``, log a change, store this mode.

    Returns the previous mode (None on a first run). A change is logged at WARNING as
    ``mode changed X -> Y``: modes only change through a restart.
    """
    path = cfg.mode_path
    path.parent.mkdir(parents=True, exist_ok=True)
    previous = path.read_text().strip() if path.exists() else None
    if previous is not None and previous != cfg.mode:
        log.warning(f"mode changed {previous} -> {cfg.mode}")
    path.write_text(cfg.mode + "\n")
    return previous


def instrument_ids(cfg: LiveConfig) -> list[str]:
    """``{SYMBOL}-PERP.BINANCE`` of every traded asset."""
    return [f"{a}-PERP.BINANCE" for a in cfg.strategy.assets]


def _binance_common(cfg: LiveConfig, key: str, secret: str) -> dict[str, Any]:
    from nautilus_trader.adapters.binance import BinanceAccountType

    return {
        "api_key": key,
        "api_secret": secret,
        "account_type": BinanceAccountType.USDT_FUTURES,
        "testnet": cfg.binance.testnet,
        "base_url_http": cfg.binance.base_url_http,
        "base_url_ws": cfg.binance.base_url_ws,
        "instrument_provider": InstrumentProviderConfig(load_ids=frozenset(instrument_ids(cfg))),
    }


def _exec_client(cfg: LiveConfig, key: str, secret: str) -> tuple[Any, Any] | None:
    """(config, factory) of the execution client of ``cfg.mode``; None for OFF and SHADOW."""
    if cfg.mode == "LIVE":
        from nautilus_trader.adapters.binance import BinanceExecClientConfig
        from nautilus_trader.adapters.binance import BinanceLiveExecClientFactory
        from nautilus_trader.adapters.binance.common.symbol import BinanceSymbol

        leverages = None
        if cfg.binance.futures_leverage is not None:
            leverages = {BinanceSymbol(a): int(cfg.binance.futures_leverage) for a in cfg.strategy.assets}
        exec_cfg = BinanceExecClientConfig(
            **_binance_common(cfg, key, secret),
            futures_leverages=leverages,
            max_retries=cfg.binance.max_retries,
            recv_window_ms=cfg.binance.recv_window_ms,
        )
        return exec_cfg, BinanceLiveExecClientFactory
    if cfg.mode == "PAPER":
        from nautilus_trader.adapters.sandbox.config import SandboxExecutionClientConfig
        from nautilus_trader.adapters.sandbox.factory import SandboxLiveExecClientFactory

        lev = Decimal(str(cfg.paper.default_leverage))
        exec_cfg = SandboxExecutionClientConfig(
            venue="BINANCE",
            starting_balances=[f"{cfg.paper.starting_balance} USDT"],
            base_currency=None,
            oms_type="NETTING",
            account_type="MARGIN",
            default_leverage=lev,
            # InstrumentId keys: string keys fail at build (notes/nautilus-1.221.md section 4)
            leverages={InstrumentId.from_str(i): lev for i in instrument_ids(cfg)},
        )
        return exec_cfg, SandboxLiveExecClientFactory
    return None


def _hazelcast_client(cfg: LiveConfig) -> Any | None:
    from adapters.hazelcast.config import HazelcastClientSettings
    from adapters.hazelcast.config import HazelcastDataClientConfig

    want_ob = cfg.strategy.ob_mode == "live"
    want_scans = cfg.scans.source == "hazelcast"
    if not (want_ob or want_scans):
        return None
    h = cfg.hazelcast
    settings = HazelcastClientSettings(
        cluster_name=h.cluster_name,
        members=tuple(h.members),
        map_name=h.map_name,
        key_pattern=h.key_pattern,
        assets=tuple(cfg.strategy.assets),
        scan_map=h.scan_map if want_scans else None,
        scan_key=h.scan_key if want_scans else None,
        mode=h.mode,
        max_snapshot_age_s=h.max_snapshot_age_s,
        heartbeat_timeout_s=h.heartbeat_timeout_s,
        cluster_connect_timeout_s=h.cluster_connect_timeout_s,
    )
    return HazelcastDataClientConfig(hazelcast=settings)


def strategy_config(cfg: LiveConfig) -> Any:
    """The ``DolphinStrategyConfig`` of a deployment (mode, risk limits and state file included)."""
    from strategies.config import DolphinStrategyConfig

    s = cfg.strategy
    if cfg.scans.source == "hazelcast":
        scan_client = HZ_CLIENT
    elif cfg.scans.source == "replay":
        scan_client = REPLAY_CLIENT
    else:
        scan_client = None  # the scanner actor publishes on the message bus
    kwargs: dict[str, Any] = {
        "engine": s.engine,
        "engine_overrides": dict(s.engine_overrides) or None,
        "assets": tuple(s.assets),
        "venue": "BINANCE",
        "scan_client_id": scan_client,
        "ob_client_id": HZ_CLIENT if s.ob_mode == "live" else None,
        "subscribe_quotes": True,
        "order_style": s.order_style,
        "limit_timeout_secs": s.limit_timeout_secs,
        "min_data_quality": s.min_data_quality,
        "vol_p60": s.vol_p60,
        "hazard_score": s.hazard_score,
        "ob_mode": s.ob_mode,
        "tag_sp_fees": s.tag_sp_fees,
        "mode": STRATEGY_MODES[cfg.mode],
        "oms_type": "NETTING",  # the live futures client declares HEDGING; the engine nets
        "risk": dict(cfg.risk) or None,
        "state_path": str(cfg.state_path),
    }
    return DolphinStrategyConfig(**kwargs)


def _risk_engine(cfg: LiveConfig) -> Any:
    """Nautilus ``LiveRiskEngineConfig`` backing the guard's order-rate and notional limits."""
    from nautilus_trader.config import LiveRiskEngineConfig

    from strategies.config import risk_engine_config

    base = risk_engine_config(dict(cfg.risk) or None, instrument_ids(cfg))
    return LiveRiskEngineConfig(
        max_order_submit_rate=base.max_order_submit_rate,
        max_notional_per_order=base.max_notional_per_order,
        graceful_shutdown_on_exception=True,
    )


def node_config(cfg: LiveConfig, key: str, secret: str) -> tuple[TradingNodeConfig, dict[str, Any]]:
    """The ``TradingNodeConfig`` and the client factories by name."""
    from nautilus_trader.adapters.binance import BinanceDataClientConfig
    from nautilus_trader.adapters.binance import BinanceLiveDataClientFactory

    data_clients: dict[str, Any] = {BINANCE_CLIENT: BinanceDataClientConfig(**_binance_common(cfg, key, secret))}
    factories: dict[str, Any] = {"data": {BINANCE_CLIENT: BinanceLiveDataClientFactory}, "exec": {}}
    hz = _hazelcast_client(cfg)
    if hz is not None:
        from adapters.hazelcast.factories import HazelcastLiveDataClientFactory

        data_clients[HZ_CLIENT] = hz
        factories["data"][HZ_CLIENT] = HazelcastLiveDataClientFactory
    if cfg.scans.source == "replay":
        from strategies.replay_client import ReplayScanDataClientConfig
        from strategies.replay_client import ReplayScanDataClientFactory

        sc = cfg.scans
        data_clients[REPLAY_CLIENT] = ReplayScanDataClientConfig(
            frame_path=sc.replay_path,
            assets=tuple(cfg.strategy.assets),
            speed=sc.replay_speed,
            venue_control_url=sc.replay_venue_control_url,
            preroll_rows=sc.replay_preroll_rows,
        )
        factories["data"][REPLAY_CLIENT] = ReplayScanDataClientFactory
    exec_clients: dict[str, Any] = {}
    ex = _exec_client(cfg, key, secret)
    if ex is not None:
        exec_clients[BINANCE_CLIENT] = ex[0]
        factories["exec"][BINANCE_CLIENT] = ex[1]
    n = cfg.node
    config = TradingNodeConfig(
        trader_id=cfg.trader_id,
        logging=LoggingConfig(log_level=cfg.log_level),
        data_clients=data_clients,
        exec_clients=exec_clients,
        risk_engine=_risk_engine(cfg),
        exec_engine=LiveExecEngineConfig(
            reconciliation=True,
            reconciliation_lookback_mins=n.reconciliation_lookback_mins,
            inflight_check_interval_ms=n.inflight_check_interval_ms,
            inflight_check_threshold_ms=n.inflight_check_threshold_ms,
            open_check_interval_secs=n.open_check_interval_secs,
            reconciliation_startup_delay_secs=1.0,
            graceful_shutdown_on_exception=True,
        ),
        timeout_connection=n.timeout_connection,
        timeout_reconciliation=n.timeout_reconciliation,
        timeout_portfolio=5.0,
        timeout_disconnection=3.0,
        timeout_post_stop=1.0,
    )
    return config, factories


def _extras(parts: LiveParts, node: TradingNode) -> Any:
    def extras() -> dict[str, Any]:
        out: dict[str, Any] = {}
        hz = parts.data_client(HZ_CLIENT, node)
        if hz is not None:
            c = hz.counters()
            out["hazelcast"] = {
                k: c.get(k, 0) for k in ("published_ob", "published_scans", "events", "resyncs", "reconnects")
            } | {"connected": bool(c.get("connected", False))}
        rp = parts.data_client(REPLAY_CLIENT, node)
        if rp is not None:
            out["replay"] = dict(rp.counters)
        if parts.scanner is not None:
            out["scanner"] = {"scans": parts.scanner.scans_published, "missing_prices": parts.scanner.missing_prices}
        return out

    return extras


def warm_kernels(n_assets: int, lookback: int = 100) -> None:
    """Load the entry path's numba kernels (IRP, direction check, sizing) before the first scan.

    They are compiled with ``cache=True``; the first call of each in a process still loads it from
    the cache (several ms), which would otherwise land on the first live entry decision (measured:
    the first order of a soak took 8-10 ms, the next ones 0.4-0.7 ms). Called by ``build_live_node``.
    """
    import numpy as np

    from nautilus_dolphin.kernels.direction import check_dc_nb
    from nautilus_dolphin.kernels.irp import compute_irp_nb
    from nautilus_dolphin.kernels.sizing import compute_sizing_nb

    window = np.linspace(1.0, 2.0, (lookback + 1) * n_assets).reshape(lookback + 1, n_assets)
    compute_irp_nb(window, 1)
    check_dc_nb(1.0, 1.01, 1, 0.5)
    compute_sizing_nb(-0.03, -0.02, -0.05, 0.5, 5.0, 3.0, True)


def binance_accounts_calculated() -> bool:
    """Whether this process creates ``BINANCE-...`` accounts that compute their own state from fills.

    Nautilus 1.221 registers venue ``BINANCE`` as a calculated-account venue, process-wide and for
    good, as soon as a backtest or a sandbox execution client for ``BINANCE`` is built. A real
    Binance account created afterwards in the same process then books every commission and
    realised PnL twice (once from its fills, once from the venue's ``ACCOUNT_UPDATE``). A probe
    account is created and inspected; nothing is registered.
    """
    from nautilus_trader.accounting.factory import AccountFactory
    from nautilus_trader.core.uuid import UUID4
    from nautilus_trader.model.currencies import USDT
    from nautilus_trader.model.enums import AccountType
    from nautilus_trader.model.events import AccountState
    from nautilus_trader.model.identifiers import AccountId
    from nautilus_trader.model.objects import AccountBalance
    from nautilus_trader.model.objects import Money

    one, zero = Money(1, USDT), Money(0, USDT)
    probe = AccountState(
        account_id=AccountId("BINANCE-USDT_FUTURES-master"), account_type=AccountType.MARGIN,
        base_currency=None, reported=True, balances=[AccountBalance(one, zero, one)], margins=[], info={},
        event_id=UUID4(), ts_event=0, ts_init=0,
    )
    return bool(AccountFactory.create(probe).calculate_account_state)


def build_live_node(
    cfg: LiveConfig, loop: asyncio.AbstractEventLoop | None = None, status_out: Any = None
) -> TradingNode:
    """Build (not run) the node of ``cfg``; the parts are at ``node.dolphin`` (``LiveParts``).

    Reads the API key/secret from the environment variables ``cfg.binance`` names (KeyError naming
    the variable when unset), logs a mode change against the last run in ``state_dir``, and
    creates ``state_dir``. ``status_out`` receives status lines (default: stdout).
    """
    from strategies.dolphin_strategy import DolphinStrategy
    from strategies.live_monitor import LiveMonitor
    from strategies.status_server import StatusServer

    if cfg.mode == "LIVE" and binance_accounts_calculated():
        raise RuntimeError(
            "refusing to build a LIVE node: a BINANCE backtest or sandbox (PAPER) node already ran in this "
            "process, so Nautilus 1.221 would count the live account's fees and PnL twice; run LIVE in its "
            "own process (`dolphin live` does)"
        )
    key, secret = cfg.secrets()
    previous = note_mode_change(cfg)  # creates state_dir
    config, factories = node_config(cfg, key, secret)
    if loop is None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    node = TradingNode(config=config, loop=loop)
    for name, factory in factories["data"].items():
        node.add_data_client_factory(name, factory)
    for name, factory in factories["exec"].items():
        node.add_exec_client_factory(name, factory)
    node.build()
    strategy = DolphinStrategy(strategy_config(cfg))
    warm_kernels(len(cfg.strategy.assets))
    scanner = None
    if cfg.scans.source == "scanner":
        from strategies.scanner_actor import ScannerActor
        from strategies.scanner_actor import ScannerActorConfig

        scanner = ScannerActor(
            ScannerActorConfig(
                component_id="DOLPHIN-SCANNER",
                assets=tuple(cfg.strategy.assets),
                interval_secs=cfg.scans.interval_secs,
                windows=tuple(cfg.scans.windows),
                tail_path=str(Path(cfg.state_dir) / "scanner_tail.npz"),
                tail_max_age_secs=cfg.scans.tail_max_age_secs,
                warmup_path=cfg.scans.warmup_path,
            ),
            loop=loop,
        )
        node.trader.add_actor(scanner)
    parts = LiveParts(config=cfg, strategy=strategy, monitor=None, scanner=scanner, previous_mode=previous)
    monitor = LiveMonitor(
        strategy,
        cfg.mode,
        status_interval_secs=cfg.status_interval_secs,
        history_size=cfg.history_size,
        extras=_extras(parts, node),
        out=status_out,
        control_dir=cfg.state_dir,
        loop=loop,
    )
    if cfg.status_port is not None:
        monitor.status_server = StatusServer(monitor, cfg.status_host, cfg.status_port)
    parts.monitor = monitor
    node.trader.add_actor(monitor)
    node.trader.add_strategy(strategy)
    node.dolphin = parts
    mode_note = f" (previous run: {previous})" if previous and previous != cfg.mode else ""
    log.info(
        json.dumps(
            {
                "type": "dolphin_live_built",
                "mode": cfg.mode,
                "strategy_mode": STRATEGY_MODES[cfg.mode],
                "exec_client": bool(factories["exec"]),
                "data_clients": sorted(factories["data"]),
                "scans": cfg.scans.source,
                "assets": len(cfg.strategy.assets),
            }
        )
        + mode_note
    )
    return node
