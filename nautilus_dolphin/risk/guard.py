"""Pre-trade risk guard: hard limits in front of every entry, and the daily drawdown kill switch.

Pure library (no Nautilus imports) so the same guard serves the strategy, the live node and tests.
The guard never sizes or resizes anything: it answers ``ok`` or blocks with one stable reason string
(``REASONS``) and counts the blocks. Exits are never blocked by the guard (a reduce-only exit must
always be allowed out); ``check_order_rate`` only tells the caller an exit exceeds the order rate so
it can log it.

Which limit is enforced where (see also ``strategies.config.risk_engine_config``):

- order rate and notional per order are ALSO enforced by Nautilus's ``RiskEngine`` (denies the
  order); the guard checks them first so an entry is blocked before the engine's books change,
- everything else (leverage, open positions, trades per hour, drawdown kill switch, stale price and
  snapshot) only here.
"""

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import fields
from datetime import UTC
from datetime import datetime
from typing import Any

NS_PER_SEC: int = 1_000_000_000
NS_PER_DAY: int = 86_400 * NS_PER_SEC
ORDER_WINDOW_NS: int = 60 * NS_PER_SEC
TRADE_WINDOW_NS: int = 3_600 * NS_PER_SEC
STATE_VERSION: int = 1

REASON_MAX_LEVERAGE: str = "max_leverage"
REASON_MAX_POSITION_NOTIONAL: str = "max_position_notional"
REASON_MAX_OPEN_POSITIONS: str = "max_open_positions"
REASON_ORDER_RATE: str = "order_rate"
REASON_TRADE_RATE: str = "trade_rate"
REASON_KILL_SWITCH: str = "kill_switch"
REASON_STALE_PRICE: str = "stale_price"
REASON_STALE_SNAPSHOT: str = "stale_snapshot"
REASONS: tuple[str, ...] = (
    REASON_MAX_LEVERAGE,
    REASON_MAX_POSITION_NOTIONAL,
    REASON_MAX_OPEN_POSITIONS,
    REASON_ORDER_RATE,
    REASON_TRADE_RATE,
    REASON_KILL_SWITCH,
    REASON_STALE_PRICE,
    REASON_STALE_SNAPSHOT,
)
"""Stable block reasons: keys of ``RiskGuard.counters``, logged and recorded with every block."""


@dataclass(frozen=True, slots=True)
class RiskGuardConfig:
    """Per-deployment limits of the risk guard.

    Parameters
    ----------
    max_leverage : float, default 9.0
        Highest entry leverage allowed; clipped to the engine's ``abs_max_leverage`` by ``RiskGuard``.
        An entry above it is blocked, never resized.
    max_position_notional : float, optional
        Highest entry notional in USDT; None = no limit.
    max_open_positions : int, default 1
        Entries are blocked while this many positions are open (the engine holds at most one).
    max_orders_per_minute : int, default 30
        Orders submitted in any sliding 60 s window (entries blocked above it; exits only logged).
    max_trades_per_hour : int, default 20
        Entries submitted in any sliding 3600 s window.
    daily_drawdown_kill_pct : float, default 0.10
        Kill switch: trips when equity falls this fraction below the UTC day's starting equity.
    max_price_age_secs : float, default 15.0
        No entry when the newest price of the asset is older than this.
    max_snapshot_age_secs : float, optional
        No entry when the newest order-book snapshot of the asset is older than this; None = not checked.
    """

    max_leverage: float = 9.0
    max_position_notional: float | None = None
    max_open_positions: int = 1
    max_orders_per_minute: int = 30
    max_trades_per_hour: int = 20
    daily_drawdown_kill_pct: float = 0.10
    max_price_age_secs: float = 15.0
    max_snapshot_age_secs: float | None = None

    def __post_init__(self) -> None:
        if not self.max_leverage > 0:
            raise ValueError(f"max_leverage must be > 0, was {self.max_leverage}")
        if self.max_position_notional is not None and not self.max_position_notional > 0:
            raise ValueError(f"max_position_notional must be > 0 or None, was {self.max_position_notional}")
        for name in ("max_open_positions", "max_orders_per_minute", "max_trades_per_hour"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, was {value!r}")
        if not 0.0 < self.daily_drawdown_kill_pct <= 1.0:
            raise ValueError(f"daily_drawdown_kill_pct must be in (0, 1], was {self.daily_drawdown_kill_pct}")
        if not self.max_price_age_secs > 0:
            raise ValueError(f"max_price_age_secs must be > 0, was {self.max_price_age_secs}")
        if self.max_snapshot_age_secs is not None and not self.max_snapshot_age_secs > 0:
            raise ValueError(f"max_snapshot_age_secs must be > 0 or None, was {self.max_snapshot_age_secs}")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None) -> "RiskGuardConfig":
        """Build from a config-file table; unknown keys are an error (a typo must not disable a limit)."""
        if mapping is None:
            return cls()
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(mapping) - known)
        if unknown:
            raise ValueError(
                f"unknown risk guard setting(s) {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(sorted(known))}"
            )
        return cls(**dict(mapping))

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a plain dict (round-trips through ``from_mapping``)."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class GuardVerdict:
    """Answer of a check: ``ok``, or blocked for ``reason`` (one of ``REASONS``) with ``detail``."""

    ok: bool
    reason: str | None = None
    detail: str = ""


_OK = GuardVerdict(True)


class RiskGuard:
    """Stateful pre-trade checks, order and trade rate windows, and the daily drawdown kill switch.

    Parameters
    ----------
    config : RiskGuardConfig, optional
        The limits (defaults when None).
    abs_max_leverage : float, optional
        The engine's hard leverage cap; ``max_leverage`` is clipped to it.

    Notes
    -----
    Callers report what they submit (``record_order``, ``record_trade``) and the equity they see
    (``on_equity``); the guard keeps the windows and the UTC day's starting equity. The kill switch
    re-arms itself at the next UTC day, or by ``reset()``.
    """

    def __init__(self, config: RiskGuardConfig | None = None, abs_max_leverage: float | None = None) -> None:
        self.config = config or RiskGuardConfig()
        cap = self.config.max_leverage
        if abs_max_leverage is not None:
            cap = min(cap, float(abs_max_leverage))
        self.max_leverage: float = cap
        self.counters: dict[str, int] = dict.fromkeys(REASONS, 0)
        self._orders: deque[int] = deque()
        self._trades: deque[int] = deque()
        self._day: int | None = None
        self.day_start_equity: float | None = None
        self.killed: bool = False
        self.kill_reason: str | None = None
        self._killed_day: int | None = None

    # ------------------------------------------------------------------ checks
    def check_entry(
        self,
        now_ns: int,
        asset: str,
        notional: float,
        leverage: float,
        open_positions: int,
        price_age_s: float | None,
        snapshot_age_s: float | None = None,
    ) -> GuardVerdict:
        """Check an entry the engine wants; a block is counted under its reason.

        ``price_age_s``/``snapshot_age_s`` of None mean "no price/snapshot seen": stale.
        """
        cfg = self.config
        self._maybe_rearm(now_ns)
        if self.killed:
            return self._blocked(REASON_KILL_SWITCH, self.kill_reason or "kill switch")
        if price_age_s is None or not math.isfinite(price_age_s) or price_age_s > cfg.max_price_age_secs:
            return self._blocked(REASON_STALE_PRICE, f"{asset} price age {price_age_s} s > {cfg.max_price_age_secs} s")
        if cfg.max_snapshot_age_secs is not None and (
            snapshot_age_s is None
            or not math.isfinite(snapshot_age_s)
            or snapshot_age_s > cfg.max_snapshot_age_secs
        ):
            return self._blocked(REASON_STALE_SNAPSHOT,
                                 f"{asset} snapshot age {snapshot_age_s} s > {cfg.max_snapshot_age_secs} s")
        if open_positions >= cfg.max_open_positions:
            return self._blocked(REASON_MAX_OPEN_POSITIONS, f"{open_positions} open >= {cfg.max_open_positions}")
        if not leverage <= self.max_leverage + 1e-9:
            return self._blocked(REASON_MAX_LEVERAGE, f"{asset} leverage {leverage:.4f} > {self.max_leverage}")
        if cfg.max_position_notional is not None and not notional <= cfg.max_position_notional:
            return self._blocked(REASON_MAX_POSITION_NOTIONAL,
                                 f"{asset} notional {notional:.2f} > {cfg.max_position_notional}")
        if self._count(self._trades, now_ns, TRADE_WINDOW_NS) >= cfg.max_trades_per_hour:
            return self._blocked(REASON_TRADE_RATE, f"{cfg.max_trades_per_hour} trades in the last hour")
        rate = self.check_order_rate(now_ns)
        if not rate.ok:
            return self._blocked(rate.reason, rate.detail)
        return _OK

    def _blocked(self, reason: str, detail: str) -> GuardVerdict:
        """Count a block under ``reason`` and return its verdict."""
        self.counters[reason] += 1
        return GuardVerdict(False, reason, detail)

    def check_order_rate(self, now_ns: int) -> GuardVerdict:
        """Return whether one more order fits ``max_orders_per_minute`` (not counted: the caller decides).

        Entries over the rate are blocked (via ``check_entry``); exits are sent anyway and only logged.
        """
        n = self._count(self._orders, now_ns, ORDER_WINDOW_NS)
        if n >= self.config.max_orders_per_minute:
            return GuardVerdict(False, REASON_ORDER_RATE, f"{n} orders in the last minute")
        return _OK

    def record_order(self, now_ns: int) -> None:
        """Note an order submitted at ``now_ns`` (entries and exits)."""
        self._orders.append(int(now_ns))

    def record_trade(self, now_ns: int) -> None:
        """Note an entry (a new trade) submitted at ``now_ns``."""
        self._trades.append(int(now_ns))

    @staticmethod
    def _count(window: deque[int], now_ns: int, span_ns: int) -> int:
        """Drop timestamps older than ``span_ns`` before ``now_ns``; return how many remain."""
        cutoff = now_ns - span_ns
        while window and window[0] <= cutoff:
            window.popleft()
        return len(window)

    # ------------------------------------------------------------------ kill switch
    def on_equity(self, now_ns: int, equity: float) -> bool:
        """Update with the equity seen at ``now_ns``; return True when this call trips the kill switch.

        The first equity of each UTC day is that day's starting equity; a kill switch tripped on an
        earlier day re-arms first.
        """
        day = now_ns // NS_PER_DAY
        self._maybe_rearm(now_ns)
        if day != self._day or self.day_start_equity is None:
            self._day = day
            self.day_start_equity = float(equity)
        if self.killed or not self.day_start_equity > 0:
            return False
        drawdown = 1.0 - float(equity) / self.day_start_equity
        if drawdown >= self.config.daily_drawdown_kill_pct - 1e-12:
            self.trip(now_ns, f"daily drawdown {drawdown:.2%} >= {self.config.daily_drawdown_kill_pct:.2%} "
                              f"(start {self.day_start_equity:.2f}, now {float(equity):.2f})")
            return True
        return False

    def trip(self, now_ns: int, reason: str) -> None:
        """Trip the kill switch (halts entries until the next UTC day or ``reset``)."""
        self.killed = True
        self.kill_reason = reason
        self._killed_day = now_ns // NS_PER_DAY

    def reset(self) -> None:
        """Manual re-arm; the next ``on_equity`` becomes the new starting equity of the day."""
        self.killed = False
        self.kill_reason = None
        self._killed_day = None
        self.day_start_equity = None

    def _maybe_rearm(self, now_ns: int) -> None:
        if self.killed and self._killed_day is not None and now_ns // NS_PER_DAY > self._killed_day:
            self.killed = False
            self.kill_reason = None
            self._killed_day = None

    @property
    def day(self) -> str | None:
        """The UTC date (``YYYY-MM-DD``) the starting equity belongs to."""
        if self._day is None:
            return None
        return datetime.fromtimestamp(self._day * 86_400, tz=UTC).strftime("%Y-%m-%d")

    # ------------------------------------------------------------------ state
    def export_state(self) -> dict[str, Any]:
        """Return the state a restart needs (JSON-safe): day, starting equity, trip, windows, counters."""
        return {
            "version": STATE_VERSION,
            "day": self._day,
            "day_start_equity": self.day_start_equity,
            "killed": self.killed,
            "kill_reason": self.kill_reason,
            "killed_day": self._killed_day,
            "orders": list(self._orders),
            "trades": list(self._trades),
            "counters": dict(self.counters),
        }

    def import_state(self, state: Mapping[str, Any]) -> None:
        """Restore ``export_state`` output (the limits stay those of this guard's config)."""
        version = state.get("version", STATE_VERSION)
        if version != STATE_VERSION:
            raise ValueError(f"risk guard state version {version} is not {STATE_VERSION}")
        self._day = None if state.get("day") is None else int(state["day"])
        sde = state.get("day_start_equity")
        self.day_start_equity = None if sde is None else float(sde)
        self.killed = bool(state.get("killed", False))
        self.kill_reason = state.get("kill_reason")
        kd = state.get("killed_day")
        self._killed_day = None if kd is None else int(kd)
        self._orders = deque(sorted(int(t) for t in state.get("orders", ())))
        self._trades = deque(sorted(int(t) for t in state.get("trades", ())))
        self.counters = dict.fromkeys(REASONS, 0)
        for k, v in dict(state.get("counters", {})).items():
            if k in self.counters:
                self.counters[k] = int(v)
