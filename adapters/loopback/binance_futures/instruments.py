"""Instrument definitions of the loopback Binance USDT-M venue (a TEST STAND-IN).

The venue lists the project's universe (``nautilus_dolphin.data.universe``) as USDT-M perpetuals,
with the tick and step sizes the data issue recorded, and renders them in the shape of the real
``GET /fapi/v1/exchangeInfo`` reply so the real Nautilus instrument provider parses them.
"""

from dataclasses import dataclass
from decimal import Decimal

from nautilus_dolphin.data.universe import UNIVERSE


def _decimals(step: Decimal) -> int:
    """Return the number of decimals of a tick or step size (``0.001`` -> 3, ``1`` -> 0)."""
    exponent = step.normalize().as_tuple().exponent
    return max(0, -int(exponent))


@dataclass(frozen=True)
class SymbolSpec:
    """Trading rules of one loopback perpetual.

    Attributes mirror the exchangeInfo filters the matching core enforces (PRICE_FILTER.tickSize,
    LOT_SIZE.stepSize/minQty, MIN_NOTIONAL.notional) plus the reference price that seeds the book.
    """

    symbol: str
    base: str
    ref_price: Decimal
    tick: Decimal
    step: Decimal
    min_notional: Decimal = Decimal("5")
    maint_margin_rate: Decimal = Decimal("0.004")

    @property
    def price_precision(self) -> int:
        """Decimals of a price."""
        return _decimals(self.tick)

    @property
    def qty_precision(self) -> int:
        """Decimals of a quantity."""
        return _decimals(self.step)

    def fmt_price(self, value: Decimal) -> str:
        """Format a price with exactly the instrument's precision (Nautilus parses precision from text)."""
        return f"{value:.{self.price_precision}f}"

    def fmt_qty(self, value: Decimal) -> str:
        """Format a quantity with exactly the instrument's precision."""
        return f"{value:.{self.qty_precision}f}"

    def round_price(self, value: Decimal) -> Decimal:
        """Round a price to the tick grid (half-up)."""
        return (value / self.tick).quantize(Decimal(1)) * self.tick

    def on_tick_grid(self, value: Decimal) -> bool:
        """Return whether ``value`` is a multiple of the tick size."""
        return (value % self.tick) == 0

    def on_step_grid(self, value: Decimal) -> bool:
        """Return whether ``value`` is a multiple of the step size."""
        return (value % self.step) == 0


def _dec(value: float) -> Decimal:
    return Decimal(repr(value))


def universe_specs(symbols: list[str] | tuple[str, ...] | None = None) -> dict[str, SymbolSpec]:
    """Return the specs of ``symbols`` (default: the whole 48-asset universe).

    Raises
    ------
    ValueError
        If a symbol is not in the project's universe (named in the message).
    """
    chosen = list(symbols) if symbols else sorted(UNIVERSE)
    unknown = [s for s in chosen if s not in UNIVERSE]
    if unknown:
        raise ValueError(f"symbols not in the DOLPHIN universe: {unknown}")
    specs: dict[str, SymbolSpec] = {}
    for name in chosen:
        asset = UNIVERSE[name]
        tick = _dec(asset.tick_size)
        specs[name] = SymbolSpec(
            symbol=name,
            base=asset.base,
            ref_price=(_dec(asset.ref_price) / tick).quantize(Decimal(1)) * tick,
            tick=tick,
            step=_dec(asset.step_size),
        )
    return specs


def symbol_info(spec: SymbolSpec) -> dict:
    """Render one ``symbols[]`` entry of exchangeInfo (fields as in the real reply)."""
    max_price = spec.ref_price * 100
    return {
        "symbol": spec.symbol,
        "pair": spec.symbol,
        "contractType": "PERPETUAL",
        "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": spec.base,
        "quoteAsset": "USDT",
        "marginAsset": "USDT",
        "pricePrecision": spec.price_precision,
        "quantityPrecision": spec.qty_precision,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": [],
        "settlePlan": 0,
        "triggerProtect": "0.0500",
        "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "filters": [
            {
                "minPrice": spec.fmt_price(spec.tick),
                "maxPrice": spec.fmt_price(max_price),
                "filterType": "PRICE_FILTER",
                "tickSize": spec.fmt_price(spec.tick),
            },
            {
                "stepSize": spec.fmt_qty(spec.step),
                "filterType": "LOT_SIZE",
                "maxQty": "10000000",
                "minQty": spec.fmt_qty(spec.step),
            },
            {
                "stepSize": spec.fmt_qty(spec.step),
                "filterType": "MARKET_LOT_SIZE",
                "maxQty": "10000000",
                "minQty": spec.fmt_qty(spec.step),
            },
            {"limit": 200, "filterType": "MAX_NUM_ORDERS"},
            {"limit": 10, "filterType": "MAX_NUM_ALGO_ORDERS"},
            {"notional": str(spec.min_notional), "filterType": "MIN_NOTIONAL"},
            {
                "multiplierDown": "0.9500",
                "multiplierUp": "1.0500",
                "multiplierDecimal": "4",
                "filterType": "PERCENT_PRICE",
            },
        ],
        "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
    }


def exchange_info(specs: dict[str, SymbolSpec], server_time_ms: int) -> dict:
    """Render the whole ``GET /fapi/v1/exchangeInfo`` reply for ``specs``."""
    return {
        "timezone": "UTC",
        "serverTime": server_time_ms,
        "futuresType": "U_MARGINED",
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
        ],
        "exchangeFilters": [],
        "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
        "symbols": [symbol_info(spec) for spec in specs.values()],
    }
