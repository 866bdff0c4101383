"""``LiveMonitor``: recent-order history, decision latency and the status line of ``dolphin live``.

An actor next to ``DolphinStrategy`` that only observes:

- a bounded history of recent order events (``recent_orders``, newest last), from the message bus
  topic ``events.order.*``;
- per-scan decision latency: it subscribes to ``DolphinScan`` on the bus twice: ahead of the
  strategy (``priority=100``: stamps the scan's arrival) and behind it (priority 0, subscribed on
  the first scan, i.e. after the strategy's own subscription: equal priorities run in subscription
  order; the bus accepts no negative priority). Orders the strategy created in between belong to
  that scan, and ``order.ts_init - arrival`` is the scan-received -> order-submitted latency
  (``submit_order`` is called right after the order is created). ``on_data`` durations of every
  scan are kept as well;
- a status JSON line (``status()``) printed to stdout every ``status_interval_secs``: mode,
  counters, guard state, open positions (venue view from the cache and the engine's view),
  capital, recent orders, latency percentiles and data-client counters;
- the operator's manual kill-switch reset: ``touch <state_dir>/RESET_KILL_SWITCH`` makes it call
  ``strategy.reset_kill_switch()`` within a second and delete the file.
"""

import asyncio
import json
import sys
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from nautilus_trader.common.actor import Actor
from nautilus_trader.config import ActorConfig

STATUS_TIMER: str = "dolphin-status"
CONTROL_TIMER: str = "dolphin-control"
RESET_FILE: str = "RESET_KILL_SWITCH"
"""Operator file in ``state_dir``: its presence re-arms the kill switch (checked every second, then deleted)."""
SCAN_TOPIC: str = "data.DolphinScan*"


def percentiles_ms(values_ns: Any) -> dict[str, float | int]:
    """``n``, ``p50``, ``p99`` and ``max`` of nanosecond samples, in milliseconds."""
    arr = np.asarray(list(values_ns), dtype=np.float64)
    if arr.size == 0:
        return {"n": 0}
    return {
        "n": int(arr.size),
        "p50": round(float(np.percentile(arr, 50)) / 1e6, 4),
        "p99": round(float(np.percentile(arr, 99)) / 1e6, 4),
        "max": round(float(arr.max()) / 1e6, 4),
    }


class LiveMonitor(Actor):
    """Observe the strategy and print status lines (see module docstring).

    Parameters
    ----------
    strategy : DolphinStrategy
        The strategy observed.
    mode : str
        The deployment mode (OFF, SHADOW, PAPER, LIVE), reported in every status line.
    status_interval_secs : float
        Seconds between status lines; 0 disables the timer (``status()`` still works).
    history_size : int
        Recent order events kept.
    extras : callable, optional
        Returns more fields for the status line (e.g. data-client counters).
    out : callable
        Where status lines go (default: print to stdout, flushed).
    control_dir : str, optional
        Directory watched for the ``RESET_KILL_SWITCH`` file (the deployment's ``state_dir``).
    loop : asyncio.AbstractEventLoop, optional
        The node's loop. Nautilus 1.221 runs ``LiveClock`` timer callbacks on its own thread; the
        monitor's timers only hand over to this loop (``call_soon_threadsafe``), where the work runs.
    status_server : StatusServer, optional
        Started on the node's loop with the monitor and stopped with it (``strategies.status_server``).
    """

    def __init__(
        self,
        strategy: Any,
        mode: str,
        status_interval_secs: float = 10.0,
        history_size: int = 1000,
        extras: Callable[[], dict[str, Any]] | None = None,
        out: Callable[[str], None] | None = None,
        control_dir: str | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        status_server: Any = None,
    ) -> None:
        super().__init__(ActorConfig(component_id="DOLPHIN-MONITOR"))
        self.status_server = status_server
        self.strategy = strategy
        self.mode = mode
        self.status_interval_secs = status_interval_secs
        self.recent_orders: deque[dict[str, Any]] = deque(maxlen=history_size)
        self.latency_ns: deque[int] = deque(maxlen=1_000_000)
        self.on_data_ns: deque[int] = deque(maxlen=1_000_000)
        self.status_lines = 0
        self._extras = extras
        self._loop = loop
        self._reset_path = Path(control_dir) / RESET_FILE if control_dir else None
        self.kill_switch_resets = 0
        self._out = out or (lambda line: print(line, file=sys.stdout, flush=True))
        self._arrival_ns = 0
        self._arrival_perf = 0
        self._orders_before = 0
        self._after_subscribed = False
        self._t0 = time.monotonic()

    # ------------------------------------------------------------------ lifecycle
    def on_start(self) -> None:
        self._t0 = time.monotonic()
        self.msgbus.subscribe(SCAN_TOPIC, self._before_scan, priority=100)
        self.msgbus.subscribe("events.order.*", self._on_order_event)
        if self.status_interval_secs > 0:
            self.clock.set_timer(STATUS_TIMER, timedelta(seconds=self.status_interval_secs), callback=self._on_timer)
        if self._reset_path is not None:
            self.clock.set_timer(CONTROL_TIMER, timedelta(seconds=1), callback=self._on_control)
        if self.status_server is not None and self._loop is not None:
            self._loop.create_task(self._start_status_server())

    async def _start_status_server(self) -> None:
        try:
            port = await self.status_server.start()
            self.log.info(f"status endpoint http://{self.status_server.host}:{port}/status")
        except OSError as exc:  # port taken: the node keeps running, the status line still works
            self.log.error(f"status endpoint not started: {exc!r}")

    def on_stop(self) -> None:
        for name in (STATUS_TIMER, CONTROL_TIMER):
            if name in self.clock.timer_names:
                self.clock.cancel_timer(name)
        for handler in (self._before_scan, self._after_scan):
            if self.msgbus.is_subscribed(SCAN_TOPIC, handler):
                self.msgbus.unsubscribe(SCAN_TOPIC, handler)
        self._after_subscribed = False
        if self.msgbus.is_subscribed("events.order.*", self._on_order_event):
            self.msgbus.unsubscribe("events.order.*", self._on_order_event)
        self._emit()  # a last status line on the way down
        if self.status_server is not None and self._loop is not None and not self._loop.is_closed():
            self._loop.create_task(self.status_server.stop())

    # ------------------------------------------------------------------ scans
    def _order_count(self) -> int:
        c = self.strategy.counters
        return int(c.get("orders_entry", 0) + c.get("orders_exit", 0))

    def _before_scan(self, scan: Any) -> None:
        self._arrival_ns = self.clock.timestamp_ns()
        self._arrival_perf = time.perf_counter_ns()
        self._orders_before = self._order_count()
        if not self._after_subscribed:  # now the strategy is subscribed: this one runs after it
            self.msgbus.subscribe(SCAN_TOPIC, self._after_scan)
            self._after_subscribed = True
            self._arrival_perf = 0  # the first scan is not measured

    def _after_scan(self, scan: Any) -> None:
        if self._arrival_perf == 0:
            return
        self.on_data_ns.append(time.perf_counter_ns() - self._arrival_perf)
        self._arrival_perf = 0
        if self._order_count() == self._orders_before:
            return
        for order in self.cache.orders(strategy_id=self.strategy.id):
            if order.ts_init >= self._arrival_ns:
                self.latency_ns.append(order.ts_init - self._arrival_ns)

    # ------------------------------------------------------------------ orders
    def _on_order_event(self, event: Any) -> None:
        order = self.cache.order(event.client_order_id)
        self.recent_orders.append(
            {
                "ts": int(event.ts_event),
                "event": type(event).__name__,
                "client_order_id": event.client_order_id.value,
                "instrument": event.instrument_id.value,
                "side": order.side_string() if order is not None else None,
                "qty": float(order.quantity) if order is not None else None,
                "filled": float(order.filled_qty) if order is not None else None,
                "reduce_only": bool(order.is_reduce_only) if order is not None else None,
                "status": order.status_string() if order is not None else None,
            }
        )

    # ------------------------------------------------------------------ status
    def guard_state(self) -> dict[str, Any] | None:
        """The strategy's risk guard state: kill switch, leverage cap, day start equity, blocks by reason."""
        guard = getattr(self.strategy, "guard", None)
        if guard is None:
            return None
        return {
            "killed": bool(getattr(guard, "killed", False)),
            "kill_reason": getattr(guard, "kill_reason", None),
            "max_leverage": getattr(guard, "max_leverage", None),
            "day_start_equity": getattr(guard, "day_start_equity", None),
            "blocks": {k: v for k, v in dict(getattr(guard, "counters", {})).items() if v},
        }

    def status(self) -> dict[str, Any]:
        """One status record (what the status line prints)."""
        strat = self.strategy
        # net per instrument: after a restart the cache can hold the reconciled position (id ...-BOTH)
        # and the strategy's own (id ...-<strategy>) on one instrument; the venue nets them
        net: dict[str, list[float]] = {}
        for p in self.cache.positions_open():
            acc = net.setdefault(p.instrument_id.value, [0.0, 0.0, 0])
            acc[0] += float(p.signed_qty)
            acc[1] += float(p.signed_qty) * float(p.avg_px_open)
            acc[2] += 1
        positions = [
            {"instrument": iid, "qty": q, "avg_px_open": (n / q) if q else None, "node_positions": k}
            for iid, (q, n, k) in sorted(net.items())
            if abs(q) > 1e-12
        ]
        pos = strat.engine.position
        engine_pos = None
        if pos is not None:
            engine_pos = {
                "asset": pos.asset,
                "direction": pos.direction,
                "qty": pos.quantity,
                "entry_price": pos.entry_price,
                "pending_entry": bool(getattr(pos, "pending_entry", False)),
            }
        out: dict[str, Any] = {
            "type": "dolphin_status",
            "ts": int(self.clock.timestamp_ns()),
            "mode": self.mode,
            "uptime_s": round(time.monotonic() - self._t0, 1),
            "strategy_state": getattr(strat.state, "name", str(strat.state)),
            "counters": dict(strat.counters),
            "guard": self.guard_state(),
            "capital": round(float(strat.engine.capital), 4),
            "engine_position": engine_pos,
            "positions": positions,
            "decisions": len(strat.decisions),
            "last_decision": strat.decisions[-1] if strat.decisions else None,
            "recent_orders": list(self.recent_orders)[-5:],
            "decision_latency_ms": percentiles_ms(self.latency_ns),
            "on_data_ms": percentiles_ms(list(self.on_data_ns)[-10_000:]),
        }
        if self._extras is not None:
            out.update(self._extras())
        return out

    def _emit(self) -> None:
        try:
            line = json.dumps(self.status(), default=str)
        except Exception as exc:  # a status line must never take the node down
            line = json.dumps({"type": "dolphin_status", "error": repr(exc)})
        self.status_lines += 1
        self._out(line)

    def _on_loop(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the node's loop (timer callbacks arrive on the clock's thread)."""
        if self._loop is None:
            fn()
            return
        try:
            self._loop.call_soon_threadsafe(fn)
        except RuntimeError:  # loop closed during shutdown
            pass

    def _on_timer(self, event: Any) -> None:
        self._on_loop(self._emit)

    def _on_control(self, event: Any) -> None:
        self._on_loop(self._check_reset_file)

    def _check_reset_file(self) -> None:
        path = self._reset_path
        if path is None or not path.exists():
            return
        path.unlink(missing_ok=True)
        self.kill_switch_resets += 1
        self.log.warning(f"{RESET_FILE} found in {path.parent}: resetting the kill switch")
        self.strategy.reset_kill_switch()
        self._emit()
