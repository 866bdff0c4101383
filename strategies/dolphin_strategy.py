"""DolphinStrategy: the DOLPHIN alpha engine as a Nautilus ``Strategy``.

The same class runs in a backtest (day-batched ``BacktestEngine``, see ``strategies.backtest``) and
in a live ``TradingNode``. Per scan it (1) rolls the engine's UTC day when the scan's date changes,
(2) runs the OB feature engine (``step_live`` in live mode; in backtests the runner preloads the day),
(3) calls ``engine.step_bar_row`` and (4) turns the engine's decisions into orders: entries sized
by the engine (capital x fraction x leverage, floored to the instrument's size increment) and
reduce-only exits. Fills, commissions and rejections flow back into the engine (its
``external_fills`` mode), so the engine's capital and position are the venue's.

Every entry passes the risk guard (``nautilus_dolphin.risk.guard``) first: a block is logged (WARNING),
counted (``guard_blocks``) and recorded as a ``BLOCKED`` decision, and the engine stays flat. Exits are
never blocked. The daily drawdown kill switch cancels open entry orders, flattens the engine's position
with a reduce-only market order and halts entries until the next UTC day or ``reset_kill_switch()``.
A venue position that disagrees with the engine's view is reported (``position_mismatch``) and no
other position is opened while it lasts. With ``state_path`` the engine and guard state are written
atomically after every fill and on stop, and loaded on start (restart after a crash).
"""

import asyncio
import json
import os
import tempfile
import threading
from collections import deque
from collections.abc import Mapping
from datetime import UTC
from datetime import datetime
from typing import Any

import numpy as np
from nautilus_trader.model.data import DataType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.events import OrderCanceled
from nautilus_trader.model.events import OrderDenied
from nautilus_trader.model.events import OrderExpired
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderRejected
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.trading.strategy import Strategy

from nautilus_dolphin.config import ENGINE_KWARGS
from nautilus_dolphin.config import VOL_P60_MIN_SEG
from nautilus_dolphin.config import VOL_P60_SEGMENT
from nautilus_dolphin.config import VOL_REFERENCE_ASSET
from nautilus_dolphin.engine import EntryEvent
from nautilus_dolphin.engine import ExitIntent
from nautilus_dolphin.engine import NDAlphaEngine
from nautilus_dolphin.engine import create_boost_engine
from nautilus_dolphin.engine import create_d_liq_engine
from nautilus_dolphin.engine.base import DEFAULT_WARMUP_BARS
from nautilus_dolphin.risk.guard import RiskGuard
from nautilus_dolphin.risk.guard import RiskGuardConfig
from strategies.config import MODES
from strategies.config import OB_MODES
from strategies.config import ORDER_STYLES
from strategies.config import DolphinStrategyConfig
from strategies.data_types import DolphinOBSnapshot
from strategies.data_types import DolphinScan
from strategies.fee_model import TAG_MAKER
from strategies.fee_model import TAG_TAKER

NS_PER_DAY: int = 86_400 * 1_000_000_000
ENGINE_NAMES: tuple[str, ...] = ("d_liq", "boost", "baseline")
ROLE_ENTRY: str = "ENTRY"
ROLE_ENTRY_LIMIT: str = "ENTRY_LIMIT"
ROLE_EXIT: str = "EXIT"
KILL_SWITCH_EXIT: str = "KILL_SWITCH"
REASON_POSITION_MISMATCH: str = "position_mismatch"
POSITION_EVENTS_TOPIC: str = "events.position.*"
STATE_FILE_VERSION: int = 1


def build_engine(name: str, overrides: Mapping[str, Any] | None = None, **extra: Any) -> NDAlphaEngine:
    """Create the named engine with the gold ``ENGINE_KWARGS`` plus ``overrides``."""
    kwargs = {**ENGINE_KWARGS, **dict(overrides or {}), **extra}
    if name == "d_liq":
        return create_d_liq_engine(**kwargs)
    if name == "boost":
        return create_boost_engine("adaptive_beta", **kwargs)
    if name == "baseline":
        return create_boost_engine("baseline", **kwargs)
    raise ValueError(f"unknown engine {name!r}; expected one of {', '.join(ENGINE_NAMES)}")


class StreamOBProvider:
    """Order-book provider fed by ``DolphinOBSnapshot`` data received by the strategy (live mode).

    Serves the newest snapshot per asset; snapshots older than ``max_age_s`` count as missing.
    ``get_all_timestamps`` returns ``[]``: a live provider has no history (seed 000 §1).
    """

    def __init__(self, max_age_s: float = 5.0) -> None:
        self.max_age_s = max_age_s
        self._latest: dict[str, Any] = {}

    def update(self, asset: str, snapshot: Any) -> None:
        """Store the newest snapshot of ``asset``."""
        self._latest[asset] = snapshot

    def get_snapshot(self, asset: str, timestamp: float) -> Any:
        snap = self._latest.get(asset)
        if snap is None or timestamp - snap.timestamp > self.max_age_s:
            return None
        return snap

    def get_all_timestamps(self, asset: str) -> list[float]:
        return []


class DolphinStrategy(Strategy):
    """Trade the DOLPHIN engine's decisions on Binance USDT-M perpetuals (see module docstring)."""

    def __init__(self, config: DolphinStrategyConfig) -> None:
        super().__init__(config)
        if config.order_style not in ORDER_STYLES:
            raise ValueError(f"order_style must be one of {ORDER_STYLES}, was {config.order_style!r}")
        if config.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, was {config.mode!r}")
        if config.ob_mode not in OB_MODES:
            raise ValueError(f"ob_mode must be one of {OB_MODES}, was {config.ob_mode!r}")
        if not 0.0 <= config.min_data_quality <= 1.0:
            raise ValueError(f"min_data_quality must be in [0, 1], was {config.min_data_quality}")
        guard_config = RiskGuardConfig.from_mapping(config.risk)
        if guard_config.max_snapshot_age_secs is not None and config.ob_mode != "live":
            raise ValueError("risk.max_snapshot_age_secs needs ob_mode='live' (snapshots received as data)")
        self.assets: tuple[str, ...] = tuple(config.assets)
        # SHADOW decides and simulates its own fills: no orders ever leave the strategy.
        self.engine: NDAlphaEngine = build_engine(
            config.engine, config.engine_overrides, external_fills=config.mode == "TRADE"
        )
        self.engine.set_assets(self.assets)
        self.guard = RiskGuard(guard_config, abs_max_leverage=self.engine.abs_max_leverage)
        self.instrument_ids: dict[str, InstrumentId] = {
            a: InstrumentId.from_str(f"{a}-PERP.{config.venue}") for a in self.assets
        }
        self._btc_idx = self.assets.index(VOL_REFERENCE_ASSET) if VOL_REFERENCE_ASSET in self.assets else -1
        self.ob_engine = None
        self.ob_provider: StreamOBProvider | None = None
        self._day_num: int | None = None
        self._bar = 0
        self._btc_day: list[float] = []
        self._orders: dict[ClientOrderId, str] = {}
        self._exit_fill = [0.0, 0.0, 0.0]  # qty, qty * px, commission
        self.decisions: deque[dict[str, Any]] = deque(maxlen=1000)
        self.counters: dict[str, int] = {
            "scans": 0,
            "scans_bad_shape": 0,
            "low_quality": 0,
            "orders_entry": 0,
            "orders_exit": 0,
            "fills": 0,
            "rejected": 0,
            "limit_timeouts": 0,
            "adopted_positions": 0,
            "unknown_positions": 0,
            "blocked": 0,
            REASON_POSITION_MISMATCH: 0,
            "exits_over_rate": 0,
            "kill_switch_trips": 0,
            "state_writes": 0,
        }
        self._saved_day: tuple[int, int] | None = None
        self._node_loop: tuple[Any, int] = (None, 0)
        self._snapshot_ts: dict[str, int] = {}
        self._mismatch: tuple[tuple[str, float, float], ...] = ()
        # venue or engine positions may have changed since the last agreement check (position events
        # of any strategy, our fills and failures): the per-scan check runs only then
        self._positions_dirty: bool = True
        self._venue = Venue(config.venue)

    @property
    def guard_blocks(self) -> dict[str, int]:
        """Entries blocked by the risk guard, by reason (the guard's own counters)."""
        return self.guard.counters

    # ------------------------------------------------------------------ wiring
    def set_components(self, ob_engine: Any = None, acb: Any = None, forewarner: Any = None,
                       mc_cfg: Mapping[str, Any] | None = None) -> None:
        """Inject the OB feature engine, ACB and MC-Forewarner (before the strategy starts)."""
        if ob_engine is not None:
            self.ob_engine = ob_engine
            self.engine.set_ob_engine(ob_engine)
        if acb is not None:
            self.engine.set_acb(acb)
        if forewarner is not None:
            self.engine.set_mc_forewarner(forewarner, mc_cfg)

    def prepare_day(self, date_str: str, bar_timestamps: np.ndarray | None = None) -> None:
        """Backtest hook: preload the OB engine for a day before its scans are replayed."""
        if self.ob_engine is not None and self.config.ob_mode in ("mock", "preload"):
            self.ob_engine.preload_date(date_str, list(self.assets), bar_timestamps=bar_timestamps)

    # ------------------------------------------------------------------ lifecycle
    def on_start(self) -> None:
        try:  # a live node starts its strategies on its event loop; a backtest has none running
            self._node_loop = (asyncio.get_running_loop(), threading.get_ident())
        except RuntimeError:
            self._node_loop = (None, threading.get_ident())
        increments: dict[str, float] = {}
        for asset, iid in self.instrument_ids.items():
            inst = self.cache.instrument(iid)
            if inst is None:
                self.log.warning(f"instrument {iid} not in cache: {asset} cannot be traded")
                continue
            increments[asset] = float(inst.size_increment)
        self.engine.size_increments = increments
        self.engine.set_esoteric_hazard_multiplier(self.config.hazard_score)
        if self.config.ob_mode == "live" and self.ob_engine is None:
            from nautilus_dolphin.obf.features import OBFeatureEngine

            self.ob_provider = StreamOBProvider()
            self.set_components(ob_engine=OBFeatureEngine(self.ob_provider))
        scan_client = ClientId(self.config.scan_client_id) if self.config.scan_client_id else None
        self.subscribe_data(DataType(DolphinScan), client_id=scan_client)
        if self.config.ob_mode == "live":
            ob_client = ClientId(self.config.ob_client_id) if self.config.ob_client_id else None
            self.subscribe_data(DataType(DolphinOBSnapshot), client_id=ob_client)
        if self.config.subscribe_quotes:
            for iid in self.instrument_ids.values():
                if self.cache.instrument(iid) is not None:
                    self.subscribe_quote_ticks(iid)
        if self.config.state_path and os.path.exists(self.config.state_path):
            self._load_state_file(self.config.state_path)
        self._reconcile_positions()
        self._positions_dirty = True
        self.msgbus.subscribe(topic=POSITION_EVENTS_TOPIC, handler=self._on_any_position_event)
        self.log.info(
            f"DOLPHIN {self.config.engine} mode={self.config.mode} assets={len(self.assets)} "
            f"caps={self.engine.base_max_leverage}/{self.engine.abs_max_leverage} ob={self.config.ob_mode} "
            f"guard={self.guard.config.to_dict()} max_leverage={self.guard.max_leverage}"
        )

    def on_stop(self) -> None:
        self.msgbus.unsubscribe(topic=POSITION_EVENTS_TOPIC, handler=self._on_any_position_event)
        if self.engine.current_date is not None and self.engine._day:
            self.engine.end_day()
        self._write_state()

    def state_document(self) -> dict[str, Any]:
        """Return what a restart needs (JSON-safe): engine and guard state, mode, UTC day and bar."""
        return {
            "version": STATE_FILE_VERSION,
            "engine": self.engine.export_state(),
            "guard": self.guard.export_state(),
            "mode": self.config.mode,
            "day_num": self._day_num,
            "bar": self._bar,
        }

    def restore_state(self, doc: Mapping[str, Any], source: str) -> None:
        """Restore a ``state_document`` (before ``_reconcile_positions`` checks it against the venue)."""
        self.engine.import_state(doc["engine"])
        self._positions_dirty = True
        if doc.get("guard"):
            self.guard.import_state(doc["guard"])
        if doc.get("day_num") is not None:
            self._saved_day = (int(doc["day_num"]), int(doc.get("bar", 0)))
        saved_mode = doc.get("mode")
        if saved_mode is not None and saved_mode != self.config.mode:
            self.log.warning(f"mode changed by restart: {saved_mode} -> {self.config.mode}")
        self.log.info(
            f"restored state from {source}: capital={self.engine.capital:.2f} "
            f"position={doc['engine']['position']} kill_switch={self.guard.killed}"
        )

    def on_save(self) -> dict[str, bytes]:
        return {"dolphin": json.dumps(self.state_document()).encode()}

    def on_load(self, state: dict[str, bytes]) -> None:
        raw = state.get("dolphin")
        if not raw:
            return
        self.restore_state(json.loads(raw.decode()), "saved strategy state")

    def _load_state_file(self, path: str) -> None:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        if doc.get("version", STATE_FILE_VERSION) != STATE_FILE_VERSION:
            raise ValueError(f"{path}: state file version {doc.get('version')} is not {STATE_FILE_VERSION}")
        self.restore_state(doc, path)

    def _write_state(self) -> None:
        """Write the state file atomically (temp file in the same directory, fsync, rename)."""
        path = self.config.state_path
        if not path:
            return
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".dolphin-state-", suffix=".json", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(self.state_document(), f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        self.counters["state_writes"] += 1

    def reset_kill_switch(self) -> None:
        """Manual re-arm of the daily drawdown kill switch (entries allowed again)."""
        was = self.guard.kill_reason
        self.guard.reset()
        self.log.warning(f"kill switch reset by operator (was: {was})")
        self._write_state()

    def _reconcile_positions(self) -> None:
        """Adopt a venue position the engine does not know; report positions it cannot manage."""
        pos = self.engine.position
        open_positions = [
            p for p in self.cache.positions_open() if p.instrument_id.venue.value == self.config.venue
        ]
        by_asset = {p.instrument_id.symbol.value.removesuffix("-PERP"): p for p in open_positions}
        if pos is not None and pos.asset not in by_asset and self.config.mode == "TRADE":
            self.log.warning(f"saved state holds {pos.asset} but the venue is flat: dropping it")
            self.engine._pos = None
            pos = None
        for asset, p in by_asset.items():
            if pos is not None and asset == pos.asset:
                venue_qty = float(p.quantity)
                direction = 1 if p.is_long else -1
                if direction != pos.direction or abs(venue_qty - pos.quantity) > 1e-9 * max(venue_qty, 1.0):
                    self.counters[REASON_POSITION_MISMATCH] += 1
                    self.log.warning(
                        f"position_mismatch: saved state holds {asset} {pos.direction * pos.quantity}, "
                        f"the venue {direction * venue_qty}: managing the venue's quantity"
                    )
                    pos.direction = direction
                    pos.quantity = venue_qty
                continue
            if pos is None and asset in self.engine._asset_index and self.config.mode == "TRADE":
                direction = 1 if p.is_long else -1
                self.engine.adopt_position(asset, direction, float(p.avg_px_open), float(p.quantity))
                pos = self.engine.position
                self.counters["adopted_positions"] += 1
                self.log.warning(f"adopted venue position {p.instrument_id} qty={p.quantity} px={p.avg_px_open}")
            else:
                self.counters["unknown_positions"] += 1
                self.log.error(f"venue position {p.instrument_id} qty={p.quantity} is not managed by DOLPHIN")

    # ------------------------------------------------------------------ data
    def on_data(self, data: Any) -> None:
        if isinstance(data, DolphinScan):
            self._on_scan(data)
        elif isinstance(data, DolphinOBSnapshot) and self.ob_provider is not None:
            snap = data.to_ob_snapshot()
            self.ob_provider.update(snap.asset, snap)
            self._snapshot_ts[snap.asset] = data.ts_init

    def _roll_day(self, day_num: int) -> None:
        if self._day_num is not None and self.engine._day:
            self.engine.end_day()
        self._day_num = day_num
        date_str = datetime.fromtimestamp(day_num * 86_400, tz=UTC).strftime("%Y-%m-%d")
        self.engine.begin_day(date_str)
        self._bar = 0
        self._btc_day = []
        if self._saved_day is not None and self._saved_day[0] == day_num:
            self._bar = self._saved_day[1]
        self._saved_day = None

    def _vol_ok(self, bar_idx: int) -> bool:
        vol_p60 = self.config.vol_p60
        if vol_p60 is None:
            return bar_idx >= DEFAULT_WARMUP_BARS
        seg = np.asarray(self._btc_day[max(0, bar_idx - VOL_P60_SEGMENT) : bar_idx], dtype=np.float64)
        if len(seg) < VOL_P60_MIN_SEG:
            return False
        dvol = float(np.std(np.diff(seg) / seg[:-1]))
        return bool(np.isfinite(dvol) and dvol > vol_p60)

    def _on_scan(self, scan: DolphinScan) -> None:
        self.counters["scans"] += 1
        if self.config.mode == "OFF":
            return
        day_num = scan.ts_event // NS_PER_DAY
        if day_num != self._day_num:
            self._roll_day(day_num)
        bar_idx = self._bar
        self._bar += 1
        prices = scan.prices
        if prices.shape != (len(self.assets),):
            self.counters["scans_bad_shape"] += 1
            self.log.error(f"scan {scan.scan_number}: {prices.shape[0]} prices for {len(self.assets)} assets")
            return
        if self._btc_idx >= 0:
            self._btc_day.append(float(prices[self._btc_idx]))
        vd = scan.vel_div
        vrok = False
        if vd < self.engine.vel_div_threshold:
            vrok = self._vol_ok(bar_idx)
            quality = float(np.count_nonzero(prices > 0)) / len(prices)
            signals_ok = np.isfinite(scan.v750_lambda_max_velocity) and np.isfinite(scan.instability_50)
            if quality < self.config.min_data_quality or not signals_ok:
                self.counters["low_quality"] += 1
                vrok = False
        if self.config.ob_mode == "live" and self.ob_engine is not None:
            self.ob_engine.step_live(list(self.assets), bar_idx)
        now = self.clock.timestamp_ns()
        if self.guard.on_equity(now, self._equity(prices)):
            self._on_kill_switch(bar_idx, now)
        if self._positions_dirty and self.config.mode == "TRADE" and not self._orders:
            self._check_position_agreement()
        events = self.engine.step_bar_row(
            bar_idx, vd, prices, vrok, scan.v750_lambda_max_velocity, scan.instability_50
        )
        for ev in events:
            if isinstance(ev, EntryEvent):
                self._on_entry_decision(ev, scan, bar_idx)
            elif isinstance(ev, ExitIntent):
                self._on_exit_decision(ev, bar_idx)
            else:
                self._record("EXIT", bar_idx, scan.ts_event, asset=ev.record.asset, reason=ev.record.exit_reason,
                             pnl=ev.record.pnl)

    # ------------------------------------------------------------------ orders
    def _record(self, kind: str, bar_idx: int, ts: int, **fields: Any) -> None:
        self.decisions.append({"kind": kind, "ts": ts, "date": self.engine.current_date, "bar": bar_idx, **fields})

    def _tags(self, maker: bool) -> list[str] | None:
        if not self.config.tag_sp_fees:
            return None
        return [TAG_MAKER if maker else TAG_TAKER]

    # ------------------------------------------------------------------ guard
    def _equity(self, prices: np.ndarray) -> float:
        """Engine capital plus the open position's unrealized PnL at the scan's prices, net of entry fee."""
        pos = self.engine.position
        if pos is None or pos.pending_entry:
            return self.engine.capital
        px = float(prices[pos.asset_idx])
        if not px > 0:
            return self.engine.capital
        return self.engine.capital + pos.direction * pos.quantity * (px - pos.entry_price) - pos.entry_fee

    def _price_age_s(self, asset: str, scan: DolphinScan, now: int) -> float | None:
        """Age of the newest price behind an entry: the scan's, and the venue quote's when subscribed."""
        age = (now - scan.ts_event) / 1e9
        if self.config.subscribe_quotes:
            quote = self.cache.quote_tick(self.instrument_ids[asset])
            if quote is None:
                return None
            age = max(age, (now - quote.ts_init) / 1e9)
        return age

    def _snapshot_age_s(self, asset: str, now: int) -> float | None:
        ts = self._snapshot_ts.get(asset)
        return None if ts is None else (now - ts) / 1e9

    def _venue_positions(self) -> dict[str, float]:
        """Signed net venue quantity per asset (open positions at this strategy's venue)."""
        out: dict[str, float] = {}
        for p in self.cache.positions_open(venue=self._venue):
            asset = p.instrument_id.symbol.value.removesuffix("-PERP")
            out[asset] = out.get(asset, 0.0) + float(p.signed_qty)
        return {a: q for a, q in out.items() if q != 0.0}

    def _check_position_agreement(self) -> bool:
        """Compare venue positions with the engine's (no orders in flight); report a new disagreement.

        Returns True when they agree. A disagreement (e.g. a phantom position left by a late fill) is
        logged once per distinct state (WARNING) and counted as ``position_mismatch``; entries are
        blocked while it lasts. It is not traded away: an operator decides.
        """
        self._positions_dirty = False
        venue = self._venue_positions()
        assets = set(venue)
        pos = self.engine.position
        if pos is not None:
            assets.add(pos.asset)
        mismatch = []
        for asset in sorted(assets):
            v, e = venue.get(asset, 0.0), self.engine_position_qty(asset)
            if abs(v - e) > 1e-9 * max(abs(v), abs(e), 1.0):
                mismatch.append((asset, v, e))
        state = tuple(mismatch)
        if state and state != self._mismatch:
            self.counters[REASON_POSITION_MISMATCH] += 1
            detail = ", ".join(f"{a} venue={v} engine={e}" for a, v, e in state)
            self.log.warning(f"position_mismatch: {detail}; no new entries until resolved")
        self._mismatch = state
        return not state

    def _on_any_position_event(self, event: Any) -> None:
        """A position of any strategy opened, changed or closed: re-check agreement at the next scan."""
        self._positions_dirty = True

    def _block(self, ev: EntryEvent, bar_idx: int, ts: int, reason: str, detail: str) -> None:
        """Undo the engine's entry (it stays flat, capital unchanged), log, record, count."""
        if self.engine.external_fills:
            self.engine.on_entry_rejected()
        else:  # SHADOW: the engine booked a simulated fill; undo it the same way
            self.engine._pos = None
        self.counters["blocked"] += 1
        self.log.warning(f"BLOCKED entry {ev.asset} {ev.direction:+d} lev={ev.leverage:.3f}: {reason} ({detail})")
        self._record("BLOCKED", bar_idx, ts, asset=ev.asset, reason=reason, detail=detail,
                     leverage=ev.leverage, notional=ev.quantity * ev.price)

    def _on_kill_switch(self, bar_idx: int, now: int) -> None:
        """Kill switch tripped: cancel entry orders, flatten the engine's position, halt entries."""
        self.counters["kill_switch_trips"] += 1
        self.log.error(f"KILL SWITCH: {self.guard.kill_reason}; flattening and halting entries until the next "
                       f"UTC day or reset_kill_switch()")
        self._record("KILL_SWITCH", bar_idx, now, reason=self.guard.kill_reason)
        if self.config.mode != "TRADE":
            pos = self.engine.position
            if pos is not None and pos.exit_reason is None and self.engine._hist.n > 0:
                rec = self.engine._execute_exit(bar_idx, self.engine._hist.n - 1, KILL_SWITCH_EXIT)
                if rec is not None:
                    self._record("EXIT", bar_idx, now, asset=rec.asset, reason=rec.exit_reason, pnl=rec.pnl)
            return
        for coid, role in list(self._orders.items()):
            order = self.cache.order(coid)
            if role == ROLE_ENTRY_LIMIT and order is not None and order.is_open:
                self.cancel_order(order)  # a market entry in flight is flattened when it fills
        self._flatten(bar_idx)
        self._write_state()

    def _flatten(self, bar_idx: int) -> None:
        """Close the engine's filled position with a reduce-only market order (unless an exit is in flight)."""
        pos = self.engine.position
        if pos is None or pos.pending_entry:
            return  # an entry in flight is flattened when it fills
        if ROLE_EXIT in self._orders.values():
            self.log.warning("kill switch: an exit is already in flight, not sending another")
            return
        pos.exit_reason = KILL_SWITCH_EXIT
        pos.exit_bar = bar_idx
        pos.exit_date = self.engine.current_date or ""
        pos.exit_maker = False
        self._submit_exit(ExitIntent(pos.asset, pos.direction, pos.quantity, KILL_SWITCH_EXIT, False), bar_idx)

    def _on_entry_decision(self, ev: EntryEvent, scan: DolphinScan, bar_idx: int) -> None:
        self._record("ENTRY", bar_idx, scan.ts_event, asset=ev.asset, direction=ev.direction, price=ev.price,
                     quantity=ev.quantity, leverage=ev.leverage, vel_div=scan.vel_div)
        if self.config.mode == "OFF":
            return
        now = self.clock.timestamp_ns()
        trading = self.config.mode == "TRADE"
        venue = self._venue_positions() if trading else {}
        if venue or self._mismatch:
            self._check_position_agreement()  # reports (once per distinct state) and counts
            self._block(ev, bar_idx, now, REASON_POSITION_MISMATCH, f"venue positions {venue} while the engine "
                        f"has no filled position")
            return
        # the engine decides entries only when flat and any venue position was blocked above, so no
        # position is open here: max_open_positions is in effect enforced by the block above
        verdict = self.guard.check_entry(
            now, ev.asset, ev.quantity * ev.price, ev.leverage, 0,
            self._price_age_s(ev.asset, scan, now), self._snapshot_age_s(ev.asset, now),
        )
        if not verdict.ok:
            self._block(ev, bar_idx, now, verdict.reason, verdict.detail)
            return
        self.guard.record_trade(now)
        if not trading:
            return
        iid = self.instrument_ids[ev.asset]
        inst = self.cache.instrument(iid)
        if inst is None:
            self.engine.on_entry_rejected()
            self.counters["rejected"] += 1
            return
        qty = Quantity(ev.quantity, inst.size_precision)
        side = OrderSide.BUY if ev.direction > 0 else OrderSide.SELL
        if self.config.order_style == "maker_limit":
            order = self.order_factory.limit(
                iid, side, qty, Price(ev.price, inst.price_precision), post_only=True, tags=self._tags(True)
            )
            self._orders[order.client_order_id] = ROLE_ENTRY_LIMIT
            alert = self.clock.timestamp_ns() + int(self.config.limit_timeout_secs * 1e9)
            self.clock.set_time_alert_ns(f"limit-timeout-{order.client_order_id}", alert, self._on_limit_timeout)
        else:
            order = self.order_factory.market(iid, side, qty, time_in_force=TimeInForce.GTC,
                                              tags=self._tags(ev.maker))
            self._orders[order.client_order_id] = ROLE_ENTRY
        self.counters["orders_entry"] += 1
        self.guard.record_order(now)
        self.submit_order(order)

    def _on_exit_decision(self, ev: ExitIntent, bar_idx: int) -> None:
        self._record("EXIT_INTENT", bar_idx, self.clock.timestamp_ns(), asset=ev.asset, reason=ev.reason)
        if ROLE_EXIT in self._orders.values():
            self.log.warning(f"exit of {ev.asset} ({ev.reason}) already in flight: not sending another")
            return
        self._submit_exit(ev, bar_idx)

    def _submit_exit(self, ev: ExitIntent, bar_idx: int) -> None:
        """Send a reduce-only market exit; never blocked, only logged when above the order rate."""
        now = self.clock.timestamp_ns()
        rate = self.guard.check_order_rate(now)
        if not rate.ok:
            self.counters["exits_over_rate"] += 1
            self.log.warning(f"exit {ev.asset} sent above the order rate ({rate.detail}): exits are never blocked")
        iid = self.instrument_ids[ev.asset]
        inst = self.cache.instrument(iid)
        side = OrderSide.SELL if ev.direction > 0 else OrderSide.BUY
        order = self.order_factory.market(
            iid, side, Quantity(ev.quantity, inst.size_precision), time_in_force=TimeInForce.GTC,
            reduce_only=True, tags=self._tags(ev.maker),
        )
        self._orders[order.client_order_id] = ROLE_EXIT
        self._exit_fill = [0.0, 0.0, 0.0]
        self.counters["orders_exit"] += 1
        self.guard.record_order(now)
        self.submit_order(order)

    def _on_limit_timeout(self, event: Any) -> None:
        """Time alert of a resting maker entry: cancel it (the cancel event sends the market fallback).

        A live node's ``LiveClock`` calls alerts on its own thread in 1.221, so the work is handed to
        the node's loop; in a backtest it runs at once.
        """
        name = event.name
        loop, thread = self._node_loop
        if loop is not None and threading.get_ident() != thread:
            try:
                loop.call_soon_threadsafe(self._cancel_timed_out_limit, name)
            except RuntimeError:  # loop closed while stopping
                pass
            return
        self._cancel_timed_out_limit(name)

    def _cancel_timed_out_limit(self, name: str) -> None:
        coid = ClientOrderId(name.removeprefix("limit-timeout-"))
        order = self.cache.order(coid)
        if order is not None and order.is_open:
            self.counters["limit_timeouts"] += 1
            self.cancel_order(order)

    def on_order_filled(self, event: OrderFilled) -> None:
        role = self._orders.get(event.client_order_id)
        if role is None:
            return
        self._positions_dirty = True
        self.counters["fills"] += 1
        px, qty, fee = float(event.last_px), float(event.last_qty), float(event.commission.as_double())
        if role in (ROLE_ENTRY, ROLE_ENTRY_LIMIT):
            self.engine.on_entry_filled(px, qty, fee)
        else:
            acc = self._exit_fill
            acc[0] += qty
            acc[1] += qty * px
            acc[2] += fee
            order = self.cache.order(event.client_order_id)
            if order is not None and order.is_closed:
                self.engine.on_exit_filled(acc[1] / acc[0], acc[2])
        order = self.cache.order(event.client_order_id)
        if order is not None and order.is_closed:
            self._orders.pop(event.client_order_id, None)
            if role in (ROLE_ENTRY, ROLE_ENTRY_LIMIT) and self.guard.killed:
                self._flatten(self._bar)  # the kill switch tripped while this entry was in flight
        self._write_state()

    def _on_order_failed(self, client_order_id: ClientOrderId, what: str) -> None:
        role = self._orders.pop(client_order_id, None)
        if role is None:
            return
        self._positions_dirty = True
        order = self.cache.order(client_order_id)
        filled = float(order.filled_qty) if order is not None else 0.0
        if role == ROLE_ENTRY_LIMIT and what == "canceled" and self.guard.killed:
            # canceled by the kill switch: keep what filled (and flatten it), nothing more
            if filled == 0.0:
                self.engine.on_entry_rejected()
            else:
                self._flatten(self._bar)
            return
        if role == ROLE_ENTRY_LIMIT and what == "canceled":
            leaves = float(order.leaves_qty) if order is not None else 0.0
            pos = self.engine.position
            if leaves > 0 and pos is not None:
                inst = self.cache.instrument(order.instrument_id)
                market = self.order_factory.market(
                    order.instrument_id, order.side, Quantity(leaves, inst.size_precision),
                    time_in_force=TimeInForce.GTC, tags=self._tags(False),
                )
                self._orders[market.client_order_id] = ROLE_ENTRY
                self.guard.record_order(self.clock.timestamp_ns())
                self.submit_order(market)
            return
        self.counters["rejected"] += 1
        self.log.warning(f"{role} order {client_order_id} {what}")
        if role in (ROLE_ENTRY, ROLE_ENTRY_LIMIT):
            if filled == 0.0:
                self.engine.on_entry_rejected()
        elif role == ROLE_EXIT:
            acc = self._exit_fill
            if acc[0] > 0 and self.engine.position is not None:
                self.engine.position.quantity -= acc[0]  # partly closed: manage the rest
            self._exit_fill = [0.0, 0.0, 0.0]
            self.engine.on_exit_rejected()

    def on_order_rejected(self, event: OrderRejected) -> None:
        self._on_order_failed(event.client_order_id, f"rejected: {event.reason}")

    def on_order_denied(self, event: OrderDenied) -> None:
        self._on_order_failed(event.client_order_id, f"denied: {event.reason}")

    def on_order_canceled(self, event: OrderCanceled) -> None:
        self._on_order_failed(event.client_order_id, "canceled")

    def on_order_expired(self, event: OrderExpired) -> None:
        self._on_order_failed(event.client_order_id, "expired")

    # ------------------------------------------------------------------ checks
    def venue_position_qty(self, asset: str) -> float:
        """Return the venue's signed net quantity of ``asset`` (from the cache)."""
        iid = self.instrument_ids[asset]
        total = 0.0
        for p in self.cache.positions_open(instrument_id=iid):
            total += float(p.signed_qty)
        return total

    def engine_position_qty(self, asset: str) -> float:
        """Return the engine's signed quantity of ``asset``."""
        pos = self.engine.position
        if pos is None or pos.asset != asset or pos.pending_entry:
            return 0.0
        return pos.direction * pos.quantity
