"""NDAlphaEngine: the base DOLPHIN alpha engine (spec 001 §4-§5).

Signal: ``vel_div < vel_div_threshold`` opens a position in the engine's direction (LONG by
default: mean reversion after the eigenspace velocity divergence turns sharply negative). Entry
path, in order: volatility regime filter, IRP asset selection, direction confirmation, OB edge
gate, convex sizing, leverage clamp

    clamped_max = min(base_max_leverage * regime_size_mult * market_ob_mult, abs_max_leverage)
    leverage    = min(size_lev * dc_lev_mult * regime_size_mult * market_ob_mult, clamped_max)

then the layers' boost (capped at ``abs_max_leverage``). One position at a time; it is checked
every bar for STOP_LOSS, FIXED_TP, OB_TAIL_AVOIDANCE and MAX_HOLD (in that order), and closed
with HIBERNATE_HALT on an MC RED day. Fees and slippage follow the SP model (``fees.py``). Every
random choice comes from one ``numpy`` Generator seeded with ``seed``.

The engine is driven through ``begin_day`` / ``step_bar`` / ``end_day`` (streaming) or
``process_day`` (a day's DataFrame); both run the same per-bar code.
"""

import logging
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from nautilus_dolphin.config import BASE_ABS_MAX_LEVERAGE
from nautilus_dolphin.data.schema import INSTABILITY_COLS
from nautilus_dolphin.data.schema import VEL_DIV_COL
from nautilus_dolphin.data.schema import VELOCITY_COLS
from nautilus_dolphin.engine import ob_policy
from nautilus_dolphin.engine.fees import SPFeeModel
from nautilus_dolphin.engine.history import PriceHistory
from nautilus_dolphin.engine.records import FIXED_TP
from nautilus_dolphin.engine.records import HIBERNATE_HALT
from nautilus_dolphin.engine.records import MAX_HOLD
from nautilus_dolphin.engine.records import OB_TAIL_AVOIDANCE
from nautilus_dolphin.engine.records import STOP_LOSS
from nautilus_dolphin.engine.records import NDTradeRecord
from nautilus_dolphin.kernels.direction import check_dc_nb
from nautilus_dolphin.kernels.irp import compute_irp_nb
from nautilus_dolphin.kernels.sizing import compute_sizing_nb

log = logging.getLogger(__name__)

HAZARD_FLOOR_LEVERAGE: float = 3.0
MIN_IRP_ASSETS: int = 5
DEFAULT_WARMUP_BARS: int = 100
MC_ORANGE_LEVERAGE_MULT: float = 0.5
MC_STATUSES: tuple[str, ...] = ("OK", "ORANGE", "RED")


class BetSizer:
    """Convex sizer: leverage from the signal strength (see ``kernels.sizing``)."""

    def __init__(
        self,
        min_leverage: float,
        max_leverage: float,
        convexity: float,
        threshold: float,
        extreme: float,
        dynamic: bool,
    ) -> None:
        self.min_leverage = min_leverage
        self.max_leverage = max_leverage
        self.convexity = convexity
        self.threshold = threshold
        self.extreme = extreme
        self.dynamic = dynamic

    def leverage(self, vel_div: float) -> float:
        """Return the sizer leverage for ``vel_div`` (capped at ``max_leverage``)."""
        return float(
            compute_sizing_nb(
                vel_div,
                self.threshold,
                self.extreme,
                self.min_leverage,
                self.max_leverage,
                self.convexity,
                self.dynamic,
            )
        )


@dataclass(slots=True)
class OpenPosition:
    """The engine's single open position."""

    asset_idx: int
    asset: str
    direction: int
    ref_entry_price: float
    entry_price: float
    entry_date: str
    entry_bar: int
    leverage: float
    notional: float
    quantity: float
    capital_at_entry: float
    entry_fee: float
    entry_maker: bool
    stop_pct: float
    liq_armed: bool
    vel_div_entry: float
    boost_scale: float
    proxy_b_entry: float
    bars_held: int = 0
    pending_entry: bool = False
    exit_reason: str | None = None
    exit_bar: int = -1
    exit_date: str = ""
    exit_maker: bool = False


@dataclass(frozen=True, slots=True)
class EntryEvent:
    """The engine opened a position at this bar."""

    asset: str
    direction: int
    price: float
    quantity: float
    notional: float
    leverage: float
    maker: bool


@dataclass(frozen=True, slots=True)
class ExitEvent:
    """The engine closed its position at this bar."""

    record: NDTradeRecord


@dataclass(frozen=True, slots=True)
class ExitIntent:
    """External execution: the engine wants its position closed (reduce-only) for ``reason``."""

    asset: str
    direction: int
    quantity: float
    reason: str
    maker: bool


class NDAlphaEngine:
    """The base DOLPHIN alpha engine (plain leverage: soft cap ``max_leverage``, hard cap 6x)."""

    def __init__(
        self,
        initial_capital: float = 25000.0,
        vel_div_threshold: float = -0.02,
        vel_div_extreme: float = -0.05,
        min_leverage: float = 0.5,
        max_leverage: float = 5.0,
        leverage_convexity: float = 3.0,
        fraction: float = 0.20,
        fixed_tp_pct: float = 0.0095,
        stop_pct: float = 1.0,
        max_hold_bars: int = 120,
        use_direction_confirm: bool = True,
        dc_lookback_bars: int = 7,
        dc_min_magnitude_bps: float = 0.75,
        dc_skip_contradicts: bool = True,
        dc_leverage_boost: float = 1.0,
        dc_leverage_reduce: float = 0.5,
        use_asset_selection: bool = True,
        min_irp_alignment: float = 0.45,
        use_sp_fees: bool = True,
        use_sp_slippage: bool = True,
        sp_maker_entry_rate: float = 0.62,
        sp_maker_exit_rate: float = 0.50,
        use_ob_edge: bool = True,
        ob_edge_bps: float = 5.0,
        ob_confirm_rate: float = 0.40,
        lookback: int = 100,
        use_alpha_layers: bool = True,
        use_dynamic_leverage: bool = True,
        seed: int = 42,
        direction: int = 1,
        default_asset: str = "BTCUSDT",
        abs_max_leverage: float = BASE_ABS_MAX_LEVERAGE,
        external_fills: bool = False,
        size_increments: Mapping[str, float] | None = None,
    ) -> None:
        if initial_capital <= 0:
            raise ValueError(f"initial_capital must be > 0, was {initial_capital}")
        if vel_div_extreme >= vel_div_threshold:
            raise ValueError(
                f"vel_div_extreme ({vel_div_extreme}) must be below vel_div_threshold ({vel_div_threshold})"
            )
        if direction not in (1, -1):
            raise ValueError(f"direction must be +1 or -1, was {direction}")
        if lookback < 2 or dc_lookback_bars < 1 or max_hold_bars < 1:
            raise ValueError("lookback >= 2, dc_lookback_bars >= 1 and max_hold_bars >= 1 are required")
        self.initial_capital = float(initial_capital)
        self.capital = float(initial_capital)
        self.vel_div_threshold = vel_div_threshold
        self.vel_div_extreme = vel_div_extreme
        self.fraction = fraction
        self.fixed_tp_pct = fixed_tp_pct
        self.stop_pct = stop_pct
        self.max_hold_bars = int(max_hold_bars)
        self.use_direction_confirm = use_direction_confirm
        self.dc_lookback_bars = int(dc_lookback_bars)
        self.dc_min_magnitude_bps = dc_min_magnitude_bps
        self.dc_skip_contradicts = dc_skip_contradicts
        self.dc_leverage_boost = dc_leverage_boost
        self.dc_leverage_reduce = dc_leverage_reduce
        self.use_asset_selection = use_asset_selection
        self.min_irp_alignment = min_irp_alignment
        self.use_ob_edge = use_ob_edge
        self.ob_edge_bps = ob_edge_bps
        self.ob_confirm_rate = ob_confirm_rate
        self.lookback = int(lookback)
        self.use_alpha_layers = use_alpha_layers
        self.seed = seed
        self.direction = direction
        self.default_direction = direction
        self.default_asset = default_asset
        self.external_fills = bool(external_fills)
        self.size_increments = dict(size_increments or {})

        self.base_max_leverage = float(max_leverage)
        self.abs_max_leverage = float(abs_max_leverage)
        self.bet_sizer = BetSizer(
            min_leverage,
            max_leverage,
            leverage_convexity,
            vel_div_threshold,
            vel_div_extreme,
            use_dynamic_leverage,
        )
        self._rng = np.random.default_rng(seed)
        self.fees = SPFeeModel(
            self._rng,
            use_sp_fees=use_sp_fees,
            use_sp_slippage=use_sp_slippage,
            maker_entry_rate=sp_maker_entry_rate,
            maker_exit_rate=sp_maker_exit_rate,
        )

        self.trade_history: list[NDTradeRecord] = []
        self.day_history: list[dict[str, Any]] = []
        self.liq_stops = 0
        self.tick_hook = None
        self.counters: dict[str, int] = {
            "bars": 0,
            "bars_skipped": 0,
            "bad_prices": 0,
            "signals": 0,
            "blocked_vol": 0,
            "blocked_irp": 0,
            "blocked_dc": 0,
            "blocked_ob": 0,
            "blocked_halt": 0,
            "blocked_size": 0,
            "entries": 0,
            "entry_rejected": 0,
            "exit_rejected": 0,
        }

        self._ob_engine = None
        self._acb = None
        self._forewarner = None
        self._mc_cfg: dict[str, Any] = {}
        self.mc_seen_leverage: float | None = None
        self._pending_stop_override: float | None = None

        self.assets: list[str] = []
        self._asset_index: dict[str, int] = {}
        self._hist: PriceHistory | None = None
        self._pos: OpenPosition | None = None
        self._events: list = []
        self._trade_seq = 0

        # day state
        self.current_date: str | None = None
        self.regime_size_mult = 1.0
        self.day_beta = 0.0
        self.mc_status = "OK"
        self._halted = False
        self._day: dict[str, Any] = {}

    # ------------------------------------------------------------------ wiring
    def set_ob_engine(self, ob_engine) -> None:
        """Use an ``OBFeatureEngine`` for the OB edge gate, ``market_ob_mult`` and tail exits."""
        self._ob_engine = ob_engine

    def set_acb(self, acb) -> None:
        """Use an ``AdaptiveCircuitBreaker`` for the per-day boost and beta."""
        self._acb = acb

    def set_mc_forewarner(self, forewarner, mc_base_cfg: Mapping[str, Any] | None = None) -> None:
        """Use an MC-Forewarner; ``mc_base_cfg`` is the configuration it is shown each day."""
        self._forewarner = forewarner
        self._mc_cfg = dict(mc_base_cfg or {})

    def set_esoteric_hazard_multiplier(self, hazard_score: float) -> None:
        """Scale the soft leverage cap down with an external hazard score in [0, 1].

        ``base_max_leverage = ceiling - hazard * (ceiling - 3.0)`` with ``ceiling`` the extended
        soft cap when the engine has one (8.0 for D_LIQ) and 6.0 otherwise: the §9 bug fix (the
        old code hard-coded 6.0 and stomped D_LIQ's 8x).
        """
        if not np.isfinite(hazard_score):
            raise ValueError(f"hazard_score must be finite, was {hazard_score}")
        h = min(max(float(hazard_score), 0.0), 1.0)
        ceiling = getattr(self, "_extended_soft_cap", BASE_ABS_MAX_LEVERAGE)
        lev = ceiling - h * (ceiling - HAZARD_FLOOR_LEVERAGE)
        self.base_max_leverage = lev
        self.bet_sizer.max_leverage = lev

    # ------------------------------------------------------------------ assets
    def set_assets(self, assets: Sequence[str]) -> None:
        """Fix the engine's asset universe (done automatically by the first day or bar)."""
        if self.assets:
            if list(assets) != self.assets:
                raise ValueError("the engine's asset universe is already set; create a new engine")
            return
        self.assets = list(assets)
        self._asset_index = {a: i for i, a in enumerate(self.assets)}
        keep = max(self.lookback, self.dc_lookback_bars) + 1
        self._hist = PriceHistory(len(self.assets), keep)

    @property
    def position(self) -> OpenPosition | None:
        """The open position, or None."""
        return self._pos

    # ------------------------------------------------------------------ days
    def begin_day(self, date_str: str, posture: str = "APEX", direction: int | None = None) -> None:
        """Start a UTC day: ACB boost/beta, MC-Forewarner status, day counters."""
        if self.current_date is not None and self._day:
            log.warning("begin_day(%s) without end_day(%s); closing the previous day", date_str, self.current_date)
            self.end_day()
        self.current_date = date_str
        self.direction = self.default_direction if direction is None else int(direction)
        self.regime_size_mult = 1.0
        self.day_beta = 0.0
        if self._acb is not None:
            day = self._acb.get_day(date_str)
            self.regime_size_mult = float(day.boost)
            self.day_beta = float(day.beta)
        self.mc_status = "OK"
        if self._forewarner is not None:
            cfg = dict(self._mc_cfg)
            cfg["max_leverage"] = self.base_max_leverage
            cfg["abs_max_leverage"] = self.abs_max_leverage
            self.mc_seen_leverage = self.base_max_leverage
            status = str(self._forewarner.assess(cfg).status)
            if status not in MC_STATUSES:
                raise ValueError(f"MC-Forewarner returned unknown status {status!r}")
            self.mc_status = status
        self._halted = self.mc_status == "RED"
        self._day = {
            "date": date_str,
            "capital_start": self.capital,
            "trades": 0,
            "wins": 0,
            "losses": 0,
            "pnl": 0.0,
            "fees": 0.0,
            "bars": 0,
            "bars_skipped": 0,
            "liq_stops": 0,
            "max_leverage_used": 0.0,
        }

    def end_day(self) -> dict[str, Any]:
        """Close the day's books and return its summary (open positions carry over)."""
        d = dict(self._day)
        d.update(
            capital_end=self.capital,
            mc_status=self.mc_status,
            acb_boost=self.regime_size_mult,
            acb_beta=self.day_beta,
            open_position=self._pos.asset if self._pos is not None else "",
        )
        self.day_history.append(d)
        self._day = {}
        return d

    # ------------------------------------------------------------------ bars
    def step_bar(
        self,
        bar_idx: int,
        vel_div: float,
        prices: Mapping[str, float],
        vol_regime_ok: bool = True,
        v50_vel: float = 0.0,
        v750_vel: float = 0.0,
        inst50: float | None = None,
    ) -> tuple:
        """Process one scan and return the entry/exit events it caused.

        Non-finite ``vel_div`` skips the bar (counted). Missing, non-finite or non-positive
        prices exclude that asset for the bar (counted in ``bad_prices``).
        """
        if not self._day:
            raise RuntimeError("step_bar() called outside begin_day()/end_day()")
        if not self.assets:
            self.set_assets(sorted(prices))
        vd = float(vel_div) if vel_div is not None else float("nan")
        if not np.isfinite(vd):
            self._day["bars_skipped"] += 1
            self.counters["bars_skipped"] += 1
            return ()
        row = np.full(len(self.assets), np.nan)
        idx = self._asset_index
        for asset, px in prices.items():
            i = idx.get(asset)
            if i is None:
                continue
            px = float(px) if px is not None else float("nan")
            if px > 0 and px != float("inf"):
                row[i] = px
            elif px == px:  # not NaN: non-positive or infinite -> rejected and counted
                self.counters["bad_prices"] += 1
        if inst50 is not None:
            self._update_proxy(float(inst50), float(v750_vel))
        self._events = []
        ri = self._hist.append_row(row)
        self._on_bar(int(bar_idx), vd, ri, bool(vol_regime_ok))
        return tuple(self._events)

    def step_bar_row(
        self,
        bar_idx: int,
        vel_div: float,
        row: np.ndarray,
        vol_regime_ok: bool = True,
        v750_vel: float = 0.0,
        inst50: float | None = None,
    ) -> tuple:
        """Like ``step_bar`` with prices as a float64 row in the engine's asset order (no dict)."""
        if not self._day:
            raise RuntimeError("step_bar_row() called outside begin_day()/end_day()")
        vd = float(vel_div)
        if not np.isfinite(vd):
            self._day["bars_skipped"] += 1
            self.counters["bars_skipped"] += 1
            return ()
        row = np.array(row, dtype=np.float64)
        if row.shape != (len(self.assets),):
            raise ValueError(f"price row has shape {row.shape}, expected ({len(self.assets)},)")
        finite = np.isfinite(row)
        bad = (finite & ~(row > 0)) | np.isinf(row)
        n_bad = int(bad.sum())
        if n_bad:
            self.counters["bad_prices"] += n_bad
        row[~(finite & (row > 0))] = np.nan
        if inst50 is not None:
            self._update_proxy(float(inst50), float(v750_vel))
        self._events = []
        ri = self._hist.append_row(row)
        self._on_bar(int(bar_idx), vd, ri, bool(vol_regime_ok))
        return tuple(self._events)

    def process_day(
        self,
        date_str: str,
        df: pd.DataFrame,
        asset_columns: Sequence[str],
        vol_regime_ok: np.ndarray | None = None,
        posture: str = "APEX",
        direction: int | None = None,
    ) -> dict[str, Any]:
        """Run one day's scans (a vbt_cache-layout frame) and return the day summary.

        ``vol_regime_ok`` is a boolean per row; None means "bar index >= 100" (warm-up).
        Rows with non-finite ``vel_div`` are skipped, as the gold harness does.
        """
        asset_columns = list(asset_columns)
        if not self.assets:
            self.set_assets(asset_columns)
        n = len(df)
        if vol_regime_ok is not None and len(vol_regime_ok) != n:
            raise ValueError(f"vol_regime_ok has {len(vol_regime_ok)} rows, the frame {n}")
        self.begin_day(date_str, posture=posture, direction=direction)
        vd = df[VEL_DIV_COL].to_numpy(np.float64)
        v750 = _col(df, VELOCITY_COLS[3], n)
        inst = _col(df, INSTABILITY_COLS[0], n)
        px = np.full((n, len(self.assets)), np.nan)
        present = [(self._asset_index[c], c) for c in asset_columns if c in self._asset_index]
        if present:
            cols = [c for _, c in present]
            px[:, [i for i, _ in present]] = df[cols].to_numpy(np.float64)
        valid = np.isfinite(vd)
        rows = np.flatnonzero(valid)
        skipped = n - len(rows)
        self._day["bars_skipped"] += skipped
        self.counters["bars_skipped"] += skipped
        block = px[rows]
        ok = np.isfinite(block) & (block > 0)
        n_bad = int((~ok).sum() - np.isnan(block).sum())
        if n_bad:
            self.counters["bad_prices"] += n_bad
        block[~ok] = np.nan
        vrok = (np.arange(n) >= DEFAULT_WARMUP_BARS) if vol_regime_ok is None else np.asarray(vol_regime_ok, bool)
        start = self._hist.append_block(block)
        update_proxy = self._update_proxy
        on_bar = self._on_bar
        for k, ri in enumerate(rows.tolist()):
            update_proxy(inst[ri], v750[ri])
            on_bar(ri, vd[ri], start + k, bool(vrok[ri]))
        return self.end_day()

    def _update_proxy(self, inst50: float, v750: float) -> None:
        """Per-bar hook for the proxy layer (no-op in the base engine)."""

    def _on_bar(self, bar_idx: int, vel_div: float, ri: int, vrok: bool) -> None:
        self._day["bars"] += 1
        self.counters["bars"] += 1
        pos = self._pos
        if pos is not None:
            pos.bars_held += 1
            if pos.exit_reason is None and not pos.pending_entry:
                reason = self._exit_reason(pos, self._hist.buf[ri, pos.asset_idx], bar_idx)
                if reason is not None:
                    self._execute_exit(bar_idx, ri, reason)
        elif vel_div < self.vel_div_threshold:
            self.counters["signals"] += 1
            if self._halted:
                self.counters["blocked_halt"] += 1
            elif not vrok:
                self.counters["blocked_vol"] += 1
            elif ri >= self.lookback:
                self._try_entry(bar_idx, vel_div, ri)
        if self.tick_hook is not None:
            self.tick_hook(self._tick_state(bar_idx, vel_div, vrok))

    # ------------------------------------------------------------------ exits
    def _exit_reason(self, pos: OpenPosition, price: float, bar_idx: int) -> str | None:
        if self._halted:
            return HIBERNATE_HALT if price > 0 else None
        if not price > 0:
            return None
        ret = pos.direction * (price / pos.ref_entry_price - 1.0)
        if ret <= -pos.stop_pct:
            return STOP_LOSS
        if ret >= self.fixed_tp_pct:
            return FIXED_TP
        if self._ob_engine is not None and self.use_ob_edge:
            sig = self._ob_engine.get_signal(pos.asset, bar_idx)
            macro = self._ob_engine.get_macro(bar_idx)
            signed = pos.direction * sig.imbalance_ma5
            if ob_policy.tail_exit(macro.cascade_regime, sig.withdrawal_velocity, signed):
                return OB_TAIL_AVOIDANCE
        if pos.bars_held >= self.max_hold_bars:
            return MAX_HOLD
        return None

    def _execute_exit(self, bar_idx: int, ri: int, reason: str) -> NDTradeRecord | None:
        """Close the position for ``reason`` at this bar (internal) or ask for it (external)."""
        pos = self._pos
        price = float(self._hist.buf[ri, pos.asset_idx])
        maker = self.fees.draw_maker(entry=False)
        pos.exit_reason = reason
        pos.exit_bar = bar_idx
        pos.exit_date = self.current_date
        pos.exit_maker = maker
        if self.external_fills:
            self._events.append(ExitIntent(pos.asset, pos.direction, pos.quantity, reason, maker))
            return None
        fill = self.fees.fill(price, pos.quantity * price, -pos.direction, maker)
        return self._book_exit(fill.price, fill.fee)

    def on_exit_filled(self, price: float, fee: float) -> NDTradeRecord:
        """External execution: the reduce-only exit filled at ``price`` with ``fee`` USDT."""
        pos = self._pos
        if pos is None or pos.exit_reason is None:
            raise RuntimeError("on_exit_filled() without a pending exit")
        return self._book_exit(float(price), float(fee))

    def on_exit_rejected(self) -> None:
        """External execution: the exit order was rejected; re-evaluate from the next bar."""
        if self._pos is not None:
            self._pos.exit_reason = None
            self.counters["exit_rejected"] += 1

    def _book_exit(self, exit_price: float, exit_fee: float) -> NDTradeRecord:
        pos = self._pos
        reason = pos.exit_reason
        gross = pos.direction * pos.quantity * (exit_price - pos.entry_price)
        fees = pos.entry_fee + exit_fee
        pnl = gross - fees
        self.capital += pnl
        self._trade_seq += 1
        rec = NDTradeRecord(
            trade_id=self._trade_seq,
            asset=pos.asset,
            direction=pos.direction,
            entry_date=pos.entry_date,
            entry_bar=pos.entry_bar,
            entry_price=pos.entry_price,
            exit_date=pos.exit_date,
            exit_bar=pos.exit_bar,
            exit_price=exit_price,
            exit_reason=reason,
            bars_held=pos.bars_held,
            leverage=pos.leverage,
            notional=pos.notional,
            quantity=pos.quantity,
            capital_at_entry=pos.capital_at_entry,
            fees=fees,
            pnl=pnl,
            pnl_pct=pnl / pos.capital_at_entry,
            vel_div_entry=pos.vel_div_entry,
            boost_scale=pos.boost_scale,
            proxy_b_entry=pos.proxy_b_entry,
            entry_maker=pos.entry_maker,
            exit_maker=pos.exit_maker,
            liq_stop=reason == STOP_LOSS and pos.liq_armed,
        )
        self.trade_history.append(rec)
        self._pos = None
        day = self._day if self._day else (self.day_history[-1] if self.day_history else {})
        if day:
            day["trades"] += 1
            day["pnl"] += pnl
            day["fees"] += fees
            if pnl > 0:
                day["wins"] += 1
            else:
                day["losses"] += 1
            if rec.liq_stop:
                day["liq_stops"] += 1
        self._on_trade_closed(rec)
        if not self.external_fills:
            self._events.append(ExitEvent(rec))
        return rec

    def _on_trade_closed(self, rec: NDTradeRecord) -> None:
        """Layer hook called once per closed trade."""

    # ------------------------------------------------------------------ entries
    def _try_entry(self, bar_idx: int, vel_div: float, ri: int) -> bool:
        buf = self._hist.buf
        d = self.direction
        if self.use_asset_selection:
            alignment, ai, _score, n_valid = compute_irp_nb(buf[ri - self.lookback : ri + 1], d)
            if n_valid < MIN_IRP_ASSETS or ai < 0 or alignment < self.min_irp_alignment:
                self.counters["blocked_irp"] += 1
                return False
        else:
            ai = self._asset_index.get(self.default_asset, 0)
        p_now = float(buf[ri, ai])
        if not p_now > 0:
            self.counters["blocked_irp"] += 1
            return False
        asset = self.assets[ai]
        dc_mult = 1.0
        if self.use_direction_confirm:
            dc = check_dc_nb(float(buf[ri - self.dc_lookback_bars, ai]), p_now, d, self.dc_min_magnitude_bps)
            if dc < 0:
                if self.dc_skip_contradicts:
                    self.counters["blocked_dc"] += 1
                    return False
                dc_mult = self.dc_leverage_reduce
            elif dc > 0:
                dc_mult = self.dc_leverage_boost
        market_ob_mult = 1.0
        if self.use_ob_edge:
            passed, market_ob_mult = self._ob_gate(asset, bar_idx, d)
            if not passed:
                self.counters["blocked_ob"] += 1
                return False
        size_lev = self.bet_sizer.leverage(vel_div)
        clamped_max = min(self.base_max_leverage * self.regime_size_mult * market_ob_mult, self.abs_max_leverage)
        leverage = min(size_lev * dc_mult * self.regime_size_mult * market_ob_mult, clamped_max)
        if self.mc_status == "ORANGE":
            leverage *= MC_ORANGE_LEVERAGE_MULT
        scale = 1.0
        if self.use_alpha_layers:
            leverage, scale = self._apply_boost(leverage)
        leverage = min(leverage, self.abs_max_leverage)
        if not leverage > 0:
            return False
        return self._open_position(bar_idx, ai, asset, p_now, leverage, vel_div, scale)

    def _ob_gate(self, asset: str, bar_idx: int, d: int) -> tuple[bool, float]:
        """Return (passed, market_ob_mult) per ``ob_policy``."""
        ob = self._ob_engine
        if ob is None:
            return bool(self._rng.random() < self.ob_confirm_rate), 1.0
        sig = ob.get_signal(asset, bar_idx)
        mult = ob_policy.regime_mult(ob.get_macro(bar_idx).cascade_regime)
        signed = d * sig.imbalance_ma5
        edge = ob_policy.edge_bps(sig.imbalance_ma5, sig.imbalance_persistence)
        decision = ob_policy.gate_decision(
            signed, sig.imbalance_persistence, edge, self.ob_edge_bps, None, self.ob_confirm_rate
        )
        if decision == ob_policy.GATE_RANDOM_FAIL:
            draw = float(self._rng.random())
            decision = ob_policy.gate_decision(
                signed, sig.imbalance_persistence, edge, self.ob_edge_bps, draw, self.ob_confirm_rate
            )
        return decision > 0, mult

    def _apply_boost(self, leverage: float) -> tuple[float, float]:
        """Layer hook: return (boosted leverage, scale). The base engine does not boost."""
        return leverage, 1.0

    def _quantity(self, asset: str, notional: float, price: float) -> float:
        """Return the order quantity: notional / price, floored to the asset's size increment."""
        qty = notional / price
        step = self.size_increments.get(asset)
        if step:
            qty = float(np.floor(qty / step + 1e-9)) * step
            qty = round(qty, 12)
        return qty

    def _open_position(
        self, bar_idx: int, ai: int, asset: str, price: float, leverage: float, vel_div: float, scale: float
    ) -> bool:
        d = self.direction
        notional = self.capital * self.fraction * leverage
        qty = self._quantity(asset, notional, price)
        if not qty > 0:
            self.counters["blocked_size"] += 1
            self._pending_stop_override = None
            return False
        maker = self.fees.draw_maker(entry=True)
        stop = self.stop_pct
        liq_armed = False
        if self._pending_stop_override is not None and self._pending_stop_override < stop:
            stop = self._pending_stop_override
            liq_armed = True
        self._pending_stop_override = None
        self._pos = OpenPosition(
            asset_idx=ai,
            asset=asset,
            direction=d,
            ref_entry_price=price,
            entry_price=price,
            entry_date=self.current_date,
            entry_bar=bar_idx,
            leverage=leverage,
            notional=notional,
            quantity=qty,
            capital_at_entry=self.capital,
            entry_fee=0.0,
            entry_maker=maker,
            stop_pct=stop,
            liq_armed=liq_armed,
            vel_div_entry=vel_div,
            boost_scale=scale,
            proxy_b_entry=float(getattr(self, "_current_proxy_b", 0.0)),
            pending_entry=self.external_fills,
        )
        self.counters["entries"] += 1
        self._day["max_leverage_used"] = max(self._day["max_leverage_used"], leverage)
        if self.external_fills:
            self._events.append(EntryEvent(asset, d, price, qty, notional, leverage, maker))
            return True
        fill = self.fees.fill(price, qty * price, d, maker)
        self._pos.entry_price = fill.price
        self._pos.entry_fee = fill.fee
        self._events.append(EntryEvent(asset, d, fill.price, qty, notional, leverage, maker))
        return True

    def on_entry_filled(self, price: float, quantity: float, fee: float) -> None:
        """External execution: (part of) the entry filled; the position takes the venue's numbers.

        Several partial fills accumulate: quantity-weighted average price, summed fees.
        """
        pos = self._pos
        if pos is None:
            raise RuntimeError("on_entry_filled() without a pending entry")
        if pos.pending_entry:
            pos.entry_price = float(price)
            pos.quantity = float(quantity)
            pos.entry_fee = float(fee)
            pos.pending_entry = False
        else:
            total = pos.quantity + float(quantity)
            pos.entry_price = (pos.entry_price * pos.quantity + float(price) * float(quantity)) / total
            pos.quantity = total
            pos.entry_fee += float(fee)

    def on_entry_rejected(self) -> None:
        """External execution: the entry order was rejected or expired unfilled; stay flat."""
        if self._pos is not None and self._pos.pending_entry:
            self._pos = None
            self.counters["entry_rejected"] += 1

    # ------------------------------------------------------------------ state
    def adopt_position(
        self,
        asset: str,
        direction: int,
        entry_price: float,
        quantity: float,
        leverage: float | None = None,
        entry_date: str | None = None,
        entry_bar: int = -1,
        bars_held: int = 0,
        entry_fee: float = 0.0,
    ) -> None:
        """Take over a position that exists at the venue (restart recovery) and manage its exit.

        Unknown fields default conservatively: leverage from notional over capital * fraction,
        the liquidation-guard stop re-armed when the engine has one.
        """
        if self._pos is not None:
            raise RuntimeError(f"engine already holds {self._pos.asset}; cannot adopt {asset}")
        if asset not in self._asset_index:
            raise ValueError(f"cannot adopt {asset}: not in the engine's universe")
        notional = abs(quantity) * entry_price
        if leverage is None:
            leverage = notional / max(self.capital * self.fraction, 1e-12)
        stop = self.stop_pct
        liq = getattr(self, "_liq_stop_pct", None)
        liq_armed = liq is not None and liq < stop
        if liq_armed:
            stop = liq
        self._pos = OpenPosition(
            asset_idx=self._asset_index[asset],
            asset=asset,
            direction=int(direction),
            ref_entry_price=float(entry_price),
            entry_price=float(entry_price),
            entry_date=entry_date or (self.current_date or ""),
            entry_bar=int(entry_bar),
            leverage=float(leverage),
            notional=notional,
            quantity=abs(float(quantity)),
            capital_at_entry=self.capital,
            entry_fee=float(entry_fee),
            entry_maker=False,
            stop_pct=stop,
            liq_armed=liq_armed,
            vel_div_entry=float("nan"),
            boost_scale=1.0,
            proxy_b_entry=0.0,
            bars_held=int(bars_held),
        )

    def export_state(self) -> dict[str, Any]:
        """Return the state a restart needs as plain data (JSON-safe).

        Capital, trade counter, liquidation-stop count, the RNG state (so a restarted engine
        draws what the uninterrupted one would) and the open position. Price and proxy
        histories are not saved: after a restart the IRP lookback warms up again.
        """
        pos = self._pos
        return {
            "capital": self.capital,
            "trade_seq": self._trade_seq,
            "liq_stops": self.liq_stops,
            "rng_state": self._rng.bit_generator.state,
            "position": None
            if pos is None or pos.pending_entry
            else {
                "asset": pos.asset,
                "direction": pos.direction,
                "entry_price": pos.entry_price,
                "ref_entry_price": pos.ref_entry_price,
                "quantity": pos.quantity,
                "leverage": pos.leverage,
                "entry_date": pos.entry_date,
                "entry_bar": pos.entry_bar,
                "bars_held": pos.bars_held,
                "entry_fee": pos.entry_fee,
                "capital_at_entry": pos.capital_at_entry,
                "vel_div_entry": pos.vel_div_entry,
                "boost_scale": pos.boost_scale,
            },
        }

    def import_state(self, state: Mapping[str, Any]) -> None:
        """Restore ``export_state`` output (assets must already be set)."""
        self.capital = float(state["capital"])
        self._trade_seq = int(state.get("trade_seq", 0))
        self.liq_stops = int(state.get("liq_stops", 0))
        if state.get("rng_state"):
            self._rng.bit_generator.state = state["rng_state"]
        self._pos = None
        p = state.get("position")
        if p:
            self.adopt_position(
                p["asset"],
                p["direction"],
                p["entry_price"],
                p["quantity"],
                leverage=p["leverage"],
                entry_date=p["entry_date"],
                entry_bar=p["entry_bar"],
                bars_held=p["bars_held"],
                entry_fee=p["entry_fee"],
            )
            self._pos.ref_entry_price = float(p.get("ref_entry_price", p["entry_price"]))
            self._pos.capital_at_entry = float(p.get("capital_at_entry", self.capital))
            self._pos.vel_div_entry = float(p.get("vel_div_entry", float("nan")))
            self._pos.boost_scale = float(p.get("boost_scale", 1.0))

    # ------------------------------------------------------------------ traces
    def _tick_state(self, bar_idx: int, vel_div: float, vrok: bool) -> dict[str, Any]:
        pos = self._pos
        return {
            "date": self.current_date,
            "bar_idx": bar_idx,
            "vel_div": vel_div,
            "vol_ok": vrok,
            "proxy_b": float(getattr(self, "_current_proxy_b", 0.0)),
            "capital": self.capital,
            "position": pos.asset if pos is not None else "",
            "leverage": pos.leverage if pos is not None else 0.0,
            "bars_held": pos.bars_held if pos is not None else 0,
            "regime_size_mult": self.regime_size_mult,
            "mc_status": self.mc_status,
        }


def _col(df: pd.DataFrame, name: str, n: int) -> np.ndarray:
    if name in df.columns:
        return df[name].to_numpy(np.float64)
    return np.zeros(n)
