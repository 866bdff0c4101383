"""The D_LIQ layers on top of NDAlphaEngine (spec 001 §4-§5), each small and separately testable.

MRO: LiquidationGuardEngine -> ExtendedLeverageEngine -> AdaptiveBoostEngine -> ProxyBaseEngine
-> NDAlphaEngine.
"""

from collections import deque

import numpy as np

from nautilus_dolphin.config import BOOST_ALPHA
from nautilus_dolphin.config import BOOST_HISTORY
from nautilus_dolphin.config import BOOST_THRESHOLD
from nautilus_dolphin.config import D_LIQ_ABS_CAP
from nautilus_dolphin.config import D_LIQ_MARGIN_BUF
from nautilus_dolphin.config import D_LIQ_MC_REF
from nautilus_dolphin.config import D_LIQ_SOFT_CAP
from nautilus_dolphin.engine.base import NDAlphaEngine
from nautilus_dolphin.engine.records import STOP_LOSS
from nautilus_dolphin.engine.records import NDTradeRecord


class ProxyBaseEngine(NDAlphaEngine):
    """Tracks ``proxy_B = instability_50 - v750_lambda_max_velocity`` every processed bar.

    High proxy_B is eigenspace stress at entry. The last ``proxy_history`` (500) values feed the
    percentile rank the boost layer uses.
    """

    def __init__(self, *args, proxy_history: int = BOOST_HISTORY, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._current_proxy_b = 0.0
        self._proxy_hist: deque[float] = deque(maxlen=int(proxy_history))

    def _update_proxy(self, inst50: float, v750: float) -> None:
        pb = inst50 - v750
        if pb == pb and abs(pb) != float("inf"):  # finite without a numpy call in the hot loop
            self._current_proxy_b = pb
            self._proxy_hist.append(pb)

    def proxy_rank(self) -> float:
        """Return the percentile rank of the current proxy_B in its history, in [0, 1].

        ``prank = #{h < current} / len(history)``; 1.0 (no boost) with fewer than 2 values.
        """
        n = len(self._proxy_hist)
        if n < 2:
            return 1.0
        hist = np.fromiter(self._proxy_hist, dtype=np.float64, count=n)
        return float(np.count_nonzero(hist < self._current_proxy_b)) / n


class AdaptiveBoostEngine(ProxyBaseEngine):
    """Scale-boost of each entry's leverage by how calm the eigenspace is (low proxy_B rank).

    ``scale = max(1, 1 + alpha_eff * max(0, threshold - prank))`` with
    ``alpha_eff = alpha * (1 + day_beta)`` when ``adaptive_beta`` (day_beta from ACBv6) and
    ``alpha`` otherwise. The boosted leverage is capped at ``abs_max_leverage``.
    """

    def __init__(
        self,
        *args,
        boost_threshold: float = BOOST_THRESHOLD,
        boost_alpha: float = BOOST_ALPHA,
        adaptive_beta: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.boost_threshold = boost_threshold
        self.boost_alpha = boost_alpha
        self.adaptive_beta = adaptive_beta

    def boost_scale(self, prank: float) -> float:
        """Return the boost scale for a proxy_B percentile rank."""
        alpha_eff = self.boost_alpha * (1.0 + self.day_beta) if self.adaptive_beta else self.boost_alpha
        return max(1.0, 1.0 + alpha_eff * max(0.0, self.boost_threshold - prank))

    def _apply_boost(self, leverage: float) -> tuple[float, float]:
        scale = self.boost_scale(self.proxy_rank())
        return min(leverage * scale, self.abs_max_leverage), scale


class ExtendedLeverageEngine(AdaptiveBoostEngine):
    """Raises the caps to 8x soft / 9x hard and shows the MC-Forewarner a 5x reference.

    ``max_leverage`` passed in is ignored: the soft cap is ``soft_cap``. Inside ``begin_day`` the
    caps are swapped to ``mc_ref`` while the base engine consults the forewarner, then restored,
    so MC assesses the configuration it was trained on while trading keeps 8x/9x.
    """

    def __init__(
        self,
        *args,
        soft_cap: float = D_LIQ_SOFT_CAP,
        hard_cap: float = D_LIQ_ABS_CAP,
        mc_ref: float = D_LIQ_MC_REF,
        **kwargs,
    ) -> None:
        kwargs.pop("abs_max_leverage", None)
        super().__init__(*args, abs_max_leverage=hard_cap, **kwargs)
        if not 0 < soft_cap <= hard_cap:
            raise ValueError(f"need 0 < soft_cap <= hard_cap, got {soft_cap} / {hard_cap}")
        self._extended_soft_cap = float(soft_cap)
        self._mc_leverage_ref = float(mc_ref)
        self.base_max_leverage = float(soft_cap)
        self.abs_max_leverage = float(hard_cap)
        self.bet_sizer.max_leverage = float(soft_cap)

    def begin_day(self, date_str: str, posture: str = "APEX", direction: int | None = None) -> None:
        true_base = self.base_max_leverage
        true_abs = self.abs_max_leverage
        true_sizer = self.bet_sizer.max_leverage
        self.base_max_leverage = self._mc_leverage_ref
        self.abs_max_leverage = self._mc_leverage_ref
        self.bet_sizer.max_leverage = self._mc_leverage_ref
        try:
            super().begin_day(date_str, posture=posture, direction=direction)
        finally:
            self.base_max_leverage = true_base
            self.abs_max_leverage = true_abs
            self.bet_sizer.max_leverage = true_sizer


class LiquidationGuardEngine(ExtendedLeverageEngine):
    """Arms a per-trade stop at ``(1 / abs cap) * margin_buffer`` (10.56 % at 9x, buffer 0.95).

    The stop fires before the exchange would liquidate a position at the hard cap; such exits
    are STOP_LOSS trades flagged ``liq_stop`` and counted in ``liq_stops``.
    """

    def __init__(self, *args, margin_buffer: float = D_LIQ_MARGIN_BUF, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not 0 < margin_buffer <= 1:
            raise ValueError(f"margin_buffer must be in (0, 1], was {margin_buffer}")
        self.margin_buffer = margin_buffer
        self._liq_stop_pct = (1.0 / self.abs_max_leverage) * margin_buffer

    @property
    def liq_stop_pct(self) -> float:
        """The adverse move that triggers the liquidation-guard stop."""
        return self._liq_stop_pct

    def _try_entry(self, bar_idx: int, vel_div: float, ri: int) -> bool:
        self._pending_stop_override = self._liq_stop_pct
        try:
            return super()._try_entry(bar_idx, vel_div, ri)
        finally:
            self._pending_stop_override = None

    def _on_trade_closed(self, rec: NDTradeRecord) -> None:
        super()._on_trade_closed(rec)
        if rec.exit_reason == STOP_LOSS and rec.liq_stop:
            self.liq_stops += 1
