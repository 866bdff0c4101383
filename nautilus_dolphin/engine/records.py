"""Trade and day records produced by the engine."""

from dataclasses import asdict
from dataclasses import dataclass
from typing import Any

# Exit reasons (spec 001 §5).
FIXED_TP: str = "FIXED_TP"
MAX_HOLD: str = "MAX_HOLD"
STOP_LOSS: str = "STOP_LOSS"
HIBERNATE_HALT: str = "HIBERNATE_HALT"
OB_TAIL_AVOIDANCE: str = "OB_TAIL_AVOIDANCE"
END_OF_DATA: str = "END_OF_DATA"
EXIT_REASONS: tuple[str, ...] = (FIXED_TP, MAX_HOLD, STOP_LOSS, HIBERNATE_HALT, OB_TAIL_AVOIDANCE, END_OF_DATA)


@dataclass(slots=True)
class NDTradeRecord:
    """One closed trade.

    ``direction`` is +1 (long) or -1 (short). Prices are the effective fill prices after
    slippage; ``fees`` is the total entry + exit fee in USDT; ``pnl`` is net of fees;
    ``pnl_pct`` is ``pnl`` over the capital at entry. ``entry_bar``/``exit_bar`` are bar indices
    within their day (``entry_date``/``exit_date``); ``bars_held`` counts bars across days.
    """

    trade_id: int
    asset: str
    direction: int
    entry_date: str
    entry_bar: int
    entry_price: float
    exit_date: str
    exit_bar: int
    exit_price: float
    exit_reason: str
    bars_held: int
    leverage: float
    notional: float
    quantity: float
    capital_at_entry: float
    fees: float
    pnl: float
    pnl_pct: float
    vel_div_entry: float
    boost_scale: float = 1.0
    proxy_b_entry: float = 0.0
    entry_maker: bool = False
    exit_maker: bool = False
    liq_stop: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return the record as a plain dict (trace writers, JSON)."""
        return asdict(self)

    def key(self) -> tuple:
        """Return the identity used for parity checks: (dates, bars, asset, side, reason, leverage)."""
        return (
            self.entry_date,
            self.entry_bar,
            self.asset,
            self.direction,
            self.exit_date,
            self.exit_bar,
            self.exit_reason,
            round(self.leverage, 9),
        )
