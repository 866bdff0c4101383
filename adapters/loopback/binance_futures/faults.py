"""Fault injection of the loopback Binance USDT-M venue (a TEST STAND-IN).

Faults are armed through the control API (``POST /_control/faults``) or the in-process handle and
are consumed as they fire, so a test states exactly how many events, orders or requests are hit:

- ``drop_user_events``: swallow the next N user-stream events matching an event type (and
  optionally an execution type such as ``TRADE``, or a symbol); the venue state still changes.
- ``delay_user_events``: hold the next N matching events for ``seconds`` before sending.
- ``reject_orders``: fail the next N ``POST /fapi/v1/order`` with a given code/message/status.
- ``stall``: hold the next N requests whose path starts with a prefix for ``seconds``.
- ``rate_limit``: answer the next N matching requests with 429 (-1003) and ``Retry-After``.
Actions that happen at once (close WebSockets, expire the listen key) live on the server.
"""

from dataclasses import dataclass
from dataclasses import field


@dataclass
class EventFault:
    """Drop or delay user-stream events."""

    count: int
    event: str | None = None  # e.g. ORDER_TRADE_UPDATE; None = any
    exec_type: str | None = None  # ORDER_TRADE_UPDATE o.x, e.g. TRADE
    symbol: str | None = None
    seconds: float = 0.0

    def matches(self, event: dict) -> bool:
        """Whether ``event`` (the ``data`` of a user-stream message) is targeted."""
        if self.count <= 0:
            return False
        if self.event is not None and event.get("e") != self.event:
            return False
        inner = event.get("o", {}) if event.get("e") == "ORDER_TRADE_UPDATE" else {}
        if self.exec_type is not None and inner.get("x") != self.exec_type:
            return False
        symbol = inner.get("s") or event.get("s")
        return not (self.symbol is not None and symbol != self.symbol)


@dataclass
class RequestFault:
    """Stall or rate-limit requests on a path prefix, or reject orders with a code."""

    count: int
    path_prefix: str = "/fapi/"
    method: str | None = None
    seconds: float = 0.0
    code: int = -2019
    msg: str = "Margin is insufficient."
    status: int = 400
    retry_after: int = 1

    def matches(self, method: str, path: str) -> bool:
        """Whether a request is targeted."""
        if self.count <= 0 or not path.startswith(self.path_prefix):
            return False
        return self.method is None or self.method.upper() == method.upper()


@dataclass
class Faults:
    """Armed faults and a log of what fired (for assertions)."""

    drops: list[EventFault] = field(default_factory=list)
    delays: list[EventFault] = field(default_factory=list)
    rejects: list[RequestFault] = field(default_factory=list)
    stalls: list[RequestFault] = field(default_factory=list)
    rate_limits: list[RequestFault] = field(default_factory=list)
    fired: list[dict] = field(default_factory=list)

    @staticmethod
    def _take(faults: list, *args: object) -> object | None:
        for fault in faults:
            if fault.matches(*args):
                fault.count -= 1
                return fault
        return None

    def take_drop(self, event: dict) -> bool:
        """Consume a drop fault for ``event``; True if the event must be swallowed."""
        fault = self._take(self.drops, event)
        if fault is not None:
            self.fired.append({"fault": "drop", "event": event})
        return fault is not None

    def take_delay(self, event: dict) -> float:
        """Consume a delay fault for ``event``; the delay in seconds (0 when none)."""
        fault = self._take(self.delays, event)
        if fault is None:
            return 0.0
        self.fired.append({"fault": "delay", "event": event, "seconds": fault.seconds})
        return fault.seconds

    def take_reject(self) -> RequestFault | None:
        """Consume an order-reject fault."""
        fault = self._take(self.rejects, "POST", "/fapi/v1/order")
        if fault is not None:
            self.fired.append({"fault": "reject", "code": fault.code})
        return fault

    def take_stall(self, method: str, path: str) -> float:
        """Consume a stall fault; seconds to hold the request."""
        fault = self._take(self.stalls, method, path)
        if fault is None:
            return 0.0
        self.fired.append({"fault": "stall", "path": path, "seconds": fault.seconds})
        return fault.seconds

    def take_rate_limit(self, method: str, path: str) -> RequestFault | None:
        """Consume a rate-limit fault."""
        fault = self._take(self.rate_limits, method, path)
        if fault is not None:
            self.fired.append({"fault": "rate_limit", "path": path})
        return fault

    def arm(self, spec: dict) -> None:
        """Arm one fault from a JSON spec ``{"kind": ..., ...}`` (raises ValueError on bad input)."""
        kind = spec.get("kind")
        args = {k: v for k, v in spec.items() if k != "kind"}
        args.setdefault("count", 1)
        try:
            if kind == "drop_user_events":
                self.drops.append(EventFault(**args))
            elif kind == "delay_user_events":
                self.delays.append(EventFault(**args))
            elif kind == "reject_orders":
                self.rejects.append(RequestFault(**args))
            elif kind == "stall":
                self.stalls.append(RequestFault(**args))
            elif kind == "rate_limit":
                args.setdefault("status", 429)
                self.rate_limits.append(RequestFault(**args))
            else:
                raise ValueError(f"unknown fault kind {kind!r}")
        except TypeError as exc:
            raise ValueError(f"bad fault spec {spec!r}: {exc}") from None

    def clear(self) -> None:
        """Disarm every fault (the fired log is kept)."""
        self.drops.clear()
        self.delays.clear()
        self.rejects.clear()
        self.stalls.clear()
        self.rate_limits.clear()
