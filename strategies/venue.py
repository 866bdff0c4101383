"""Binance USDT-M venue settings for backtests: the parity and the realistic configuration.

Both: venue ``BINANCE``, NETTING OMS, MARGIN account in USDT, leverage 10x per instrument (above
the engine's 9x hard cap, so the venue never refuses what the engine may size), a fill model with
no random slippage.

- parity: ``DolphinSPFeeModel`` (the engine's seeded maker/taker fees, from order tags); the
  runner feeds zero-spread quotes at the scan prices, so fills happen at the engine's prices.
- realistic: ``MakerTakerFeeModel`` (Binance rates on the instruments: market orders pay taker)
  and quotes with a spread (the runner's ``spread_bps``).
"""

from decimal import Decimal

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.models import FillModel
from nautilus_trader.backtest.models import MakerTakerFeeModel
from nautilus_trader.model.currencies import USDT
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Money

from strategies.fee_model import DolphinSPFeeModel

VENUE_NAME: str = "BINANCE"
VENUE_LEVERAGE: Decimal = Decimal(10)


def add_binance_usdtm_venue(
    engine: BacktestEngine,
    starting_capital: float,
    parity: bool = True,
    seed: int = 42,
    leverage: Decimal = VENUE_LEVERAGE,
) -> Venue:
    """Add the BINANCE USDT-M venue to ``engine`` and return it."""
    venue = Venue(VENUE_NAME)
    engine.add_venue(
        venue=venue,
        oms_type=OmsType.NETTING,
        account_type=AccountType.MARGIN,
        base_currency=USDT,
        starting_balances=[Money(starting_capital, USDT)],
        default_leverage=leverage,
        fee_model=DolphinSPFeeModel() if parity else MakerTakerFeeModel(),
        fill_model=FillModel(prob_slippage=0.0, random_seed=seed),
    )
    return venue
