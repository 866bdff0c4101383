"""SP fee and slippage model: a seeded maker/taker mix with Binance USDT-M fee rates.

The spec names ``use_sp_fees``, ``use_sp_slippage``, ``sp_maker_entry_rate`` (0.62) and
``sp_maker_exit_rate`` (0.50) and leaves the model open. Definition:

- Each fill is a maker fill with probability ``sp_maker_entry_rate`` (entries) or
  ``sp_maker_exit_rate`` (exits), drawn from the engine's seeded RNG; otherwise a taker fill.
- Fees (``use_sp_fees``): ``notional * (MAKER_FEE if maker else TAKER_FEE)``; Binance USDT-M VIP0
  rates, 2.0 bps maker and 5.0 bps taker. Without SP fees every fill pays the taker rate.
- Slippage (``use_sp_slippage``): maker fills get the reference price; taker fills cross
  ``TAKER_SLIPPAGE_BPS`` (2 bps) against the trade. Without SP slippage every fill is at the
  reference price.

The draws happen in a fixed order (entry draw at entry, exit draw at exit), so the same data and
seed give the same fills.
"""

from dataclasses import dataclass

import numpy as np

MAKER_FEE: float = 0.0002
TAKER_FEE: float = 0.0005
TAKER_SLIPPAGE_BPS: float = 2.0


@dataclass(frozen=True, slots=True)
class Fill:
    """One simulated fill: effective price, fee in USDT, and whether it was a maker fill."""

    price: float
    fee: float
    maker: bool


class SPFeeModel:
    """Seeded maker/taker fill simulation for the standalone engine."""

    def __init__(
        self,
        rng: np.random.Generator,
        use_sp_fees: bool = True,
        use_sp_slippage: bool = True,
        maker_entry_rate: float = 0.62,
        maker_exit_rate: float = 0.50,
        maker_fee: float = MAKER_FEE,
        taker_fee: float = TAKER_FEE,
        taker_slippage_bps: float = TAKER_SLIPPAGE_BPS,
    ) -> None:
        self._rng = rng
        self.use_sp_fees = use_sp_fees
        self.use_sp_slippage = use_sp_slippage
        self.maker_entry_rate = maker_entry_rate
        self.maker_exit_rate = maker_exit_rate
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        self.taker_slippage_bps = taker_slippage_bps

    def draw_maker(self, entry: bool) -> bool:
        """Draw whether the next fill is a maker fill (one RNG draw)."""
        rate = self.maker_entry_rate if entry else self.maker_exit_rate
        return bool(self._rng.random() < rate)

    def fill(self, ref_price: float, notional: float, side: int, maker: bool) -> Fill:
        """Return the fill for a trade of ``notional`` USDT on ``side`` (+1 buy, -1 sell)."""
        price = ref_price
        if self.use_sp_slippage and not maker:
            price = ref_price * (1.0 + side * self.taker_slippage_bps * 1e-4)
        if self.use_sp_fees:
            rate = self.maker_fee if maker else self.taker_fee
        else:
            rate = self.taker_fee
        return Fill(price=price, fee=abs(notional) * rate, maker=maker)
