"""A Nautilus fee model that reproduces the engine's SP fee model (the parity configuration).

The strategy tags every order with the engine's seeded maker/taker draw (``SP_MAKER`` or
``SP_TAKER``); this model charges the engine's maker or taker rate on the fill's notional, so the
venue's commissions equal what the standalone engine books. Without a tag it falls back to the
order's liquidity side, like ``MakerTakerFeeModel`` with the engine's rates.
"""

from nautilus_trader.backtest.config import FeeModelConfig
from nautilus_trader.backtest.models import FeeModel
from nautilus_trader.model.enums import LiquiditySide
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.model.orders import Order

from nautilus_dolphin.engine.fees import MAKER_FEE
from nautilus_dolphin.engine.fees import TAKER_FEE

TAG_MAKER: str = "SP_MAKER"
TAG_TAKER: str = "SP_TAKER"


class DolphinSPFeeModelConfig(FeeModelConfig, frozen=True):
    """Configuration of ``DolphinSPFeeModel`` (for ``ImportableFeeModelConfig`` in a venue config)."""

    maker_fee: float = MAKER_FEE
    taker_fee: float = TAKER_FEE


class DolphinSPFeeModel(FeeModel):
    """Charge ``notional * maker_fee`` for SP_MAKER-tagged orders and ``notional * taker_fee`` otherwise."""

    def __init__(
        self,
        maker_fee: float = MAKER_FEE,
        taker_fee: float = TAKER_FEE,
        config: DolphinSPFeeModelConfig | None = None,
    ) -> None:
        super().__init__()
        if config is not None:  # built by FeeModelFactory from an ImportableFeeModelConfig
            maker_fee, taker_fee = config.maker_fee, config.taker_fee
        self.maker_fee = float(maker_fee)
        self.taker_fee = float(taker_fee)

    def get_commission(
        self,
        order: Order,
        fill_qty: Quantity,
        fill_px: Price,
        instrument: Instrument,
    ) -> Money:
        notional = instrument.notional_value(fill_qty, fill_px).as_double()
        tags = order.tags or ()
        if TAG_MAKER in tags:
            rate = self.maker_fee
        elif TAG_TAKER in tags:
            rate = self.taker_fee
        else:
            rate = self.maker_fee if order.liquidity_side == LiquiditySide.MAKER else self.taker_fee
        return Money(notional * rate, instrument.quote_currency)
