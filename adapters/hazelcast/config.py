"""Configuration of the Hazelcast order-book feed (``HZOBProvider``) and the Nautilus data client.

The defaults follow ``shared/notes/hazelcast-test-member.md`` ("settings that degrade
gracefully"): ``async_start=True`` so no constructor ever blocks on a dead or silent member,
``reconnect_mode=ASYNC`` so calls fail at once while offline instead of queueing, a 15 s
heartbeat timeout so a hung member is noticed, a finite cluster-connect timeout after which the
client shuts itself down and the feed rebuilds it, and a get_all resync on every CONNECTED.
"""

from typing import Any

from nautilus_trader.common.config import NautilusConfig
from nautilus_trader.config import LiveDataClientConfig

from nautilus_dolphin.data.universe import ASSETS

DEFAULT_MAP: str = "DOLPHIN_FEATURES"
DEFAULT_KEY_PATTERN: str = "asset_{symbol}_ob"
HZ_CLIENT_ID: str = "HAZELCAST"
"""Default client id of the data client in a ``TradingNodeConfig.data_clients`` mapping."""


class HazelcastClientSettings(NautilusConfig, frozen=True):
    """Where the snapshots live and how the Hazelcast client connects.

    Parameters
    ----------
    cluster_name : str
        Cluster name presented at authentication ("dev" on a stock member).
    members : tuple[str, ...]
        ``host:port`` addresses to try.
    map_name : str
        IMap holding the order-book payloads (seed 000 §2).
    key_pattern : str
        Key of one asset's payload, formatted with ``symbol=``.
    assets : tuple[str, ...]
        Symbols to follow (default: the 48-asset universe).
    scan_map, scan_key : str | None
        Where an upstream scanner writes its latest scan (JSON); None = no scans.
    mode : str
        "listen" (entry listeners + get_all on (re)connect) or "poll" (get_all every
        ``poll_interval_s``).
    poll_interval_s : float
        Poll period in "poll" mode.
    max_snapshot_age_s : float
        ``HZOBProvider.get_snapshot`` returns None for a snapshot older than this (age measured
        from ``_pushed_at`` when present, else from ``timestamp``).
    smart_routing : bool
        Hazelcast smart routing (one connection per member) or unisocket.
    connection_timeout_s, heartbeat_interval_s, heartbeat_timeout_s, invocation_timeout_s : float
        Client timeouts; a hung member is dropped after ``heartbeat_timeout_s``.
    cluster_connect_timeout_s : float
        How long one client keeps trying to reach the cluster before it shuts itself down (the
        feed then rebuilds it after ``rebuild_backoff_s``). -1 = forever.
    retry_initial_backoff_s, retry_max_backoff_s : float
        The client's reconnect backoff.
    rebuild_backoff_s : float
        Pause before a shut-down client is replaced.
    """

    cluster_name: str = "dev"
    members: tuple[str, ...] = ("127.0.0.1:5701",)
    map_name: str = DEFAULT_MAP
    key_pattern: str = DEFAULT_KEY_PATTERN
    assets: tuple[str, ...] = tuple(ASSETS)
    scan_map: str | None = None
    scan_key: str | None = None
    mode: str = "listen"
    poll_interval_s: float = 0.1
    max_snapshot_age_s: float = 10.0
    smart_routing: bool = True
    connection_timeout_s: float = 5.0
    heartbeat_interval_s: float = 5.0
    heartbeat_timeout_s: float = 15.0
    invocation_timeout_s: float = 10.0
    cluster_connect_timeout_s: float = 60.0
    retry_initial_backoff_s: float = 0.5
    retry_max_backoff_s: float = 5.0
    rebuild_backoff_s: float = 5.0

    def __post_init__(self) -> None:
        if self.mode not in ("listen", "poll"):
            raise ValueError(f"HazelcastClientSettings.mode must be 'listen' or 'poll', was {self.mode!r}")
        if not self.members:
            raise ValueError("HazelcastClientSettings.members is empty")
        if "{symbol}" not in self.key_pattern:
            raise ValueError(
                f"HazelcastClientSettings.key_pattern needs '{{symbol}}', was {self.key_pattern!r}"
            )
        if (self.scan_map is None) != (self.scan_key is None):
            raise ValueError("HazelcastClientSettings: set both scan_map and scan_key, or neither")
        for name in (
            "poll_interval_s",
            "max_snapshot_age_s",
            "connection_timeout_s",
            "heartbeat_interval_s",
            "heartbeat_timeout_s",
            "invocation_timeout_s",
            "rebuild_backoff_s",
        ):
            if not getattr(self, name) > 0:
                raise ValueError(f"HazelcastClientSettings.{name} must be > 0, was {getattr(self, name)!r}")

    def key_for(self, symbol: str) -> str:
        """Map key of ``symbol``'s payload."""
        return self.key_pattern.format(symbol=symbol)

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``hazelcast.HazelcastClient`` (never blocking at construction)."""
        from hazelcast.config import ReconnectMode

        return {
            "cluster_name": self.cluster_name,
            "cluster_members": list(self.members),
            "smart_routing": self.smart_routing,
            "async_start": True,
            "reconnect_mode": ReconnectMode.ASYNC,
            "connection_timeout": self.connection_timeout_s,
            "cluster_connect_timeout": self.cluster_connect_timeout_s,
            "heartbeat_interval": self.heartbeat_interval_s,
            "heartbeat_timeout": self.heartbeat_timeout_s,
            "invocation_timeout": self.invocation_timeout_s,
            "retry_initial_backoff": self.retry_initial_backoff_s,
            "retry_max_backoff": self.retry_max_backoff_s,
            "statistics_enabled": False,
        }


class HazelcastDataClientConfig(LiveDataClientConfig, frozen=True):
    """Configuration of ``HazelcastDataClient`` (a Nautilus live data client).

    Parameters
    ----------
    hazelcast : HazelcastClientSettings
        Cluster, map, keys, assets, mode and timeouts.
    publish_stale : bool
        Also publish snapshots older than ``max_snapshot_age_s`` (e.g. from a resync after a long
        outage); False drops and counts them.
    """

    hazelcast: HazelcastClientSettings = HazelcastClientSettings()
    publish_stale: bool = True
