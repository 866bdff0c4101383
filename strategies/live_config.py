"""``LiveConfig``: the deployment file of ``dolphin live`` (TOML or YAML).

One file describes one live node: the mode, where market data comes from (Binance USDT-M for
prices, Hazelcast for order-book snapshots, and scans from Hazelcast, the project's own scanner
actor or a recorded file), the strategy, the risk limits and where state is kept. Every field has a
default and a doc line (``dolphin live --print-config`` prints them all); an unknown key is an
error naming the file and the key, so a typo never silently falls back to a default.

Secrets never appear in the file: ``binance.api_key_env`` / ``binance.api_secret_env`` name the
environment variables that hold them, read only when the node is built (``LiveConfig.secrets``).
"""

import dataclasses
import json
import math
import tomllib
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from nautilus_dolphin.data.universe import ASSETS

LIVE_MODES: tuple[str, ...] = ("OFF", "SHADOW", "PAPER", "LIVE")
SCAN_SOURCES: tuple[str, ...] = ("hazelcast", "scanner", "replay")
RISK_FIELDS: tuple[str, ...] = (
    "max_leverage",
    "max_position_notional",
    "max_open_positions",
    "max_orders_per_minute",
    "max_trades_per_hour",
    "daily_drawdown_kill_pct",
    "max_price_age_secs",
    "max_snapshot_age_secs",
)
"""Fields of ``nautilus_dolphin.risk.guard.RiskGuardConfig`` accepted in the ``[risk]`` section."""


def _f(default: Any, doc: str) -> Any:
    """A dataclass field with a default and its one-line documentation."""
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class StrategySection:
    """``[strategy]``: the DOLPHIN engine and how its decisions become orders."""

    engine: str = _f("d_liq", "d_liq (D_LIQ_GOLD), boost (adaptive_beta) or baseline")
    assets: tuple[str, ...] = _f(tuple(ASSETS), "symbols traded, in scan price order")
    engine_overrides: dict = field(
        default_factory=dict, metadata={"doc": "changes to the gold ENGINE_KWARGS (e.g. {use_ob_edge = false})"}
    )
    order_style: str = _f("market", "market, or maker_limit (post-only at the scan price, then market)")
    limit_timeout_secs: float = _f(10.0, "maker_limit: seconds before the rest is sent as a market order")
    min_data_quality: float = _f(0.9, "scans with a smaller fraction of valid prices never open positions")
    vol_p60: float | None = _f(None, "volatility regime threshold; unset = 100-scan warm-up rule")
    hazard_score: float = _f(0.0, "esoteric hazard multiplier input at start (0 = full soft cap)")
    ob_mode: str = _f("live", "live (order-book features from Hazelcast snapshots) or none")
    tag_sp_fees: bool = _f(False, "tag orders with maker/taker draws (backtest parity only)")


@dataclass(frozen=True)
class BinanceSection:
    """``[binance]``: Binance USDT-M futures data (always) and execution (mode LIVE)."""

    testnet: bool = _f(True, "use the Binance futures testnet (run there first)")
    api_key_env: str = _f("BINANCE_API_KEY", "NAME of the environment variable holding the API key")
    api_secret_env: str = _f("BINANCE_API_SECRET", "NAME of the environment variable holding the secret")
    base_url_http: str | None = _f(None, "REST base URL override (e.g. a loopback venue); unset = Binance's")
    base_url_ws: str | None = _f(None, "WebSocket base URL override; unset = Binance's")
    futures_leverage: int | None = _f(None, "leverage pushed to the venue per symbol on connect; unset = keep")
    max_retries: int = _f(3, "order command retries on transient errors")
    recv_window_ms: int = _f(5000, "signed request receive window (ms)")


@dataclass(frozen=True)
class PaperSection:
    """``[paper]``: the Nautilus sandbox account of mode PAPER (venue BINANCE, live market data)."""

    starting_balance: float = _f(25_000.0, "USDT balance of the sandbox account")
    default_leverage: float = _f(10.0, "sandbox account leverage per instrument")


@dataclass(frozen=True)
class HazelcastSection:
    """``[hazelcast]``: the cluster holding order-book snapshots (and upstream scans)."""

    members: tuple[str, ...] = _f(("127.0.0.1:5701",), "host:port addresses of the cluster")
    cluster_name: str = _f("dev", "cluster name presented at authentication")
    map_name: str = _f("DOLPHIN_FEATURES", "IMap of the order-book payloads (seed 000 section 2)")
    key_pattern: str = _f("asset_{symbol}_ob", "key of one asset's payload ({symbol} is replaced)")
    scan_map: str = _f("DOLPHIN_FEATURES", "IMap of the upstream scanner's latest scan (scans.source=hazelcast)")
    scan_key: str = _f("latest_eigen_scan", "key of the upstream scanner's latest scan")
    mode: str = _f("listen", "listen (entry listeners + resync on reconnect) or poll")
    max_snapshot_age_s: float = _f(10.0, "the data client counts snapshots older than this as stale")
    heartbeat_timeout_s: float = _f(15.0, "a silent member is dropped after this")
    cluster_connect_timeout_s: float = _f(60.0, "one client's reconnect budget before it is rebuilt")


@dataclass(frozen=True)
class ScansSection:
    """``[scans]``: where ``DolphinScan`` data comes from."""

    source: str = _f("hazelcast", "hazelcast (upstream scanner), scanner (own actor on live quotes), replay")
    interval_secs: float = _f(5.0, "scanner: seconds between scans (the engine's bar length)")
    windows: tuple[int, ...] = _f((50, 150, 300, 750), "scanner: eigenvalue windows in scans, ascending")
    warmup_path: str | None = _f(None, "scanner: vbt_cache-layout file whose last rows warm the windows at start")
    tail_max_age_secs: float = _f(3600.0, "scanner: reuse the saved price tail (state_dir) when younger than this")
    replay_path: str | None = _f(None, "replay: vbt_cache-layout parquet/csv file of scans")
    replay_speed: float = _f(1.0, "replay: multiple of real time")
    replay_venue_control_url: str | None = _f(None, "replay: loopback venue to step in lock-step (tests)")
    replay_preroll_rows: int = _f(0, "replay: leading rows that only step the venue")


@dataclass(frozen=True)
class NodeSection:
    """``[node]``: TradingNode timeouts and reconciliation."""

    timeout_connection: float = _f(30.0, "seconds for every client to connect before the node gives up")
    timeout_reconciliation: float = _f(10.0, "seconds for start-up reconciliation with the venue")
    reconciliation_lookback_mins: int | None = _f(None, "how far back start-up reconciliation looks")
    inflight_check_interval_ms: int = _f(2000, "how often in-flight orders are checked")
    inflight_check_threshold_ms: int = _f(5000, "age after which an in-flight order is queried")
    open_check_interval_secs: float | None = _f(10.0, "periodic open-order check against the venue")


@dataclass(frozen=True)
class LiveConfig:
    """The whole deployment file (top-level keys, then one table per section)."""

    mode: str = _f("SHADOW", "OFF (idle), SHADOW (decide, no orders), PAPER (sandbox), LIVE (Binance)")
    trader_id: str = _f("DOLPHIN-001", "Nautilus trader id (NAME-NNN)")
    state_dir: str = _f("./dolphin_state", "directory of the strategy state file and the last run's mode")
    status_interval_secs: float = _f(10.0, "seconds between status JSON lines on stdout (0 = never)")
    log_level: str = _f("INFO", "Nautilus log level (DEBUG, INFO, WARNING, ERROR)")
    history_size: int = _f(1000, "decisions and orders kept in memory for the status and post-mortems")
    status_port: int | None = _f(None, "read-only status JSON endpoint (/status, /decisions, /orders); 0 = any free port")
    status_host: str = _f("127.0.0.1", "interface of the status endpoint (loopback by default)")
    strategy: StrategySection = field(default_factory=StrategySection)
    risk: dict = field(default_factory=dict)
    binance: BinanceSection = field(default_factory=BinanceSection)
    paper: PaperSection = field(default_factory=PaperSection)
    hazelcast: HazelcastSection = field(default_factory=HazelcastSection)
    scans: ScansSection = field(default_factory=ScansSection)
    node: NodeSection = field(default_factory=NodeSection)

    def __post_init__(self) -> None:
        if self.mode not in LIVE_MODES:
            raise ValueError(f"mode must be one of {LIVE_MODES}, was {self.mode!r}")
        if self.scans.source not in SCAN_SOURCES:
            raise ValueError(f"scans.source must be one of {SCAN_SOURCES}, was {self.scans.source!r}")
        if self.scans.source == "replay" and not self.scans.replay_path:
            raise ValueError("scans.source = 'replay' needs scans.replay_path")
        if self.strategy.ob_mode not in ("live", "none"):
            raise ValueError(f"strategy.ob_mode must be 'live' or 'none', was {self.strategy.ob_mode!r}")
        if not self.strategy.assets:
            raise ValueError("strategy.assets is empty")
        unknown = sorted(set(self.risk) - set(RISK_FIELDS))
        if unknown:
            raise ValueError(f"unknown key(s) in [risk]: {unknown}; expected {list(RISK_FIELDS)}")

    # ------------------------------------------------------------------ derived
    @property
    def state_path(self) -> Path:
        """The strategy's JSON state file inside ``state_dir``."""
        return Path(self.state_dir) / "strategy_state.json"

    @property
    def mode_path(self) -> Path:
        """File remembering the mode of the last run (for the 'mode changed' log line)."""
        return Path(self.state_dir) / "last_mode"

    def secrets(self) -> tuple[str, str]:
        """Read the API key and secret from the environment variables the config names.

        Raises KeyError naming the variable (never its value) when one is unset or empty.
        """
        import os

        out = []
        for name in (self.binance.api_key_env, self.binance.api_secret_env):
            value = os.environ.get(name, "")
            if not value:
                raise KeyError(f"environment variable {name!r} (named in [binance]) is not set")
            out.append(value)
        return out[0], out[1]

    def replace(self, **changes: Any) -> "LiveConfig":
        """A copy with top-level fields changed (e.g. ``mode`` from the command line)."""
        return dataclasses.replace(self, **changes)


SECTIONS: dict[str, type] = {
    "strategy": StrategySection,
    "binance": BinanceSection,
    "paper": PaperSection,
    "hazelcast": HazelcastSection,
    "scans": ScansSection,
    "node": NodeSection,
}


def _coerce(cls: type, name: str, value: Any, where: str) -> Any:
    """Turn TOML/YAML lists into tuples where the field is a tuple; check obvious types."""
    fld = cls.__dataclass_fields__[name]
    default = fld.default if fld.default is not dataclasses.MISSING else fld.default_factory()
    if isinstance(default, tuple):
        if not isinstance(value, list | tuple):
            raise ValueError(f"{where}: expected a list, got {value!r}")
        return tuple(value)
    if isinstance(default, bool) and not isinstance(value, bool):
        raise ValueError(f"{where}: expected true/false, got {value!r}")
    if isinstance(default, float) and not isinstance(value, bool) and isinstance(value, int):
        return float(value)
    if isinstance(default, dict) and not isinstance(value, dict):
        raise ValueError(f"{where}: expected a table, got {value!r}")
    return value


def _check_keys(raw: Any, known: list[str], source: str, prefix: str | None = None) -> None:
    """Raise ValueError naming ``source`` unless ``raw`` is a table whose keys are all ``known``."""
    if not isinstance(raw, dict):
        where = f"[{prefix}]" if prefix else "the top level"
        raise ValueError(f"{source}: {where} must be a table, got {raw!r}")
    unknown = sorted(set(raw) - set(known))
    if unknown:
        key = f"{prefix}.{unknown[0]}" if prefix else unknown[0]
        raise ValueError(f"{source}: unknown key '{key}' (known: {known})")


def _section(cls: type, raw: Any, source: str, prefix: str) -> Any:
    _check_keys(raw, sorted(cls.__dataclass_fields__), source, prefix)
    kwargs = {k: _coerce(cls, k, v, f"{source}: {prefix}.{k}") for k, v in raw.items()}
    return cls(**kwargs)


def config_from_dict(raw: dict[str, Any], source: str = "<dict>") -> LiveConfig:
    """Build a ``LiveConfig`` from parsed TOML/YAML; unknown keys raise ValueError naming ``source``."""
    _check_keys(raw, sorted(LiveConfig.__dataclass_fields__), source)
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        if key in SECTIONS:
            kwargs[key] = _section(SECTIONS[key], value, source, key)
        elif key == "risk":
            _check_keys(value, list(RISK_FIELDS), source, key)
            kwargs[key] = dict(value)
        else:
            kwargs[key] = _coerce(LiveConfig, key, value, f"{source}: {key}")
    try:
        return LiveConfig(**kwargs)
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from None


def load_live_config(path: str | Path) -> LiveConfig:
    """Load a ``.toml`` or ``.yaml``/``.yml`` deployment file."""
    p = Path(path)
    text = p.read_text()
    if p.suffix == ".toml":
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{p}: {exc}") from None
    elif p.suffix in (".yaml", ".yml"):
        import yaml

        raw = yaml.safe_load(text) or {}
    else:
        raise ValueError(f"{p}: expected a .toml, .yaml or .yml file")
    return config_from_dict(raw, str(p))


# ---------------------------------------------------------------------- printing
def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot print {value!r} as TOML")


def _lines(obj: Any) -> list[str]:
    out = []
    for fld in dataclasses.fields(obj):
        if fld.name in SECTIONS or fld.name == "risk":
            continue
        value = getattr(obj, fld.name)
        doc = fld.metadata.get("doc", "")
        if value is None:
            out.append(f"# {fld.name} =   # (unset) {doc}")
        else:
            out.append(f"{fld.name} = {_toml_value(value)}   # {doc}")
    return out


def risk_defaults() -> dict[str, Any]:
    """Defaults of the ``[risk]`` fields from ``RiskGuardConfig`` (empty if it is not importable)."""
    try:
        from nautilus_dolphin.risk.guard import RiskGuardConfig
    except ImportError:
        return {}
    cfg = RiskGuardConfig()
    return {name: getattr(cfg, name) for name in RISK_FIELDS if hasattr(cfg, name)}


def format_config(cfg: LiveConfig) -> str:
    """The fully defaulted config as TOML with one comment per field (``--print-config``)."""
    lines = ["# dolphin live configuration (every field, with its value and meaning)", *_lines(cfg)]
    for name in SECTIONS:
        section = getattr(cfg, name)
        lines += ["", f"[{name}]", "# " + type(section).__doc__.splitlines()[0].replace("``", ""), *_lines(section)]
    lines += ["", "[risk]", "# strategy-side risk guard (RiskGuardConfig); unset keys keep these defaults"]
    merged = {**risk_defaults(), **cfg.risk}
    for name in RISK_FIELDS:
        if name in merged and merged[name] is not None:
            lines.append(f"{name} = {_toml_value(merged[name])}")
        else:
            lines.append(f"# {name} =   # (unset)")
    return "\n".join(lines) + "\n"
