"""Binance USDT-M perpetual instruments for the DOLPHIN universe.

``make_perpetual(spec)`` builds a ``CryptoPerpetual`` ``{SYMBOL}-PERP.BINANCE``. Tick size, step
size, minimum quantity/notional and margins come from a Binance ``GET /fapi/v1/exchangeInfo``
response when one is available and lists the symbol (by default
``<repo>/../shared/data/real/binance_futures_exchange_info.json``, which holds BTCUSDT and
ETHUSDT); otherwise from ``nautilus_dolphin.data.universe`` with Binance-typical margins.
Fees are Binance USDT-M VIP0: maker 0.0002, taker 0.0005. The module works without ``../shared``.
"""

import json
import os
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from nautilus_trader.model.currencies import USDT
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Symbol
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.instruments import CryptoPerpetual
from nautilus_trader.model.objects import Currency
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from nautilus_dolphin.data.universe import UNIVERSE
from nautilus_dolphin.data.universe import AssetSpec

MAKER_FEE: Decimal = Decimal("0.0002")
TAKER_FEE: Decimal = Decimal("0.0005")
DEFAULT_MARGIN_INIT: Decimal = Decimal("0.05")
DEFAULT_MARGIN_MAINT: Decimal = Decimal("0.025")
DEFAULT_MIN_NOTIONAL: Decimal = Decimal("5")

EXCHANGE_INFO_ENV: str = "DOLPHIN_EXCHANGE_INFO"
"""Environment variable naming an exchangeInfo JSON file to use instead of the shared sample."""

_REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_EXCHANGE_INFO: Path = _REPO_ROOT.parent / "shared" / "data" / "real" / "binance_futures_exchange_info.json"


def instrument_id(symbol: str) -> InstrumentId:
    """Return the Nautilus id of a DOLPHIN symbol: ``BTCUSDT`` -> ``BTCUSDT-PERP.BINANCE``."""
    return InstrumentId(Symbol(f"{symbol}-PERP"), Venue("BINANCE"))


def _decimals(step: str | float | Decimal) -> int:
    """Number of decimals needed to write ``step`` exactly (``"0.10"`` -> 1, ``1e-7`` -> 7)."""
    d = Decimal(str(step)).normalize()
    exp = d.as_tuple().exponent
    return max(0, -int(exp))


@lru_cache(maxsize=4)
def _load_exchange_info(path: str) -> dict[str, dict[str, Any]]:
    p = Path(path)
    if not p.is_file():
        return {}
    try:
        doc = json.loads(p.read_text())
    except (OSError, ValueError):
        return {}
    out: dict[str, dict[str, Any]] = {}
    for sym in doc.get("symbols", []):
        if sym.get("contractType") != "PERPETUAL" or sym.get("quoteAsset") != "USDT":
            continue
        filters = {f.get("filterType"): f for f in sym.get("filters", [])}
        try:
            out[sym["symbol"]] = {
                "tick_size": filters["PRICE_FILTER"]["tickSize"],
                "step_size": filters["LOT_SIZE"]["stepSize"],
                "min_qty": filters["LOT_SIZE"].get("minQty"),
                "max_qty": filters["LOT_SIZE"].get("maxQty"),
                "min_notional": filters.get("MIN_NOTIONAL", {}).get("notional"),
                "margin_init": Decimal(sym["requiredMarginPercent"]) / 100,
                "margin_maint": Decimal(sym["maintMarginPercent"]) / 100,
            }
        except (KeyError, ArithmeticError):
            continue
    return out


def exchange_info_specs(path: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """Return real per-symbol filters from an exchangeInfo file ({} when the file is absent).

    ``path`` defaults to ``$DOLPHIN_EXCHANGE_INFO`` or the shared sample.
    """
    if path is None:
        path = os.environ.get(EXCHANGE_INFO_ENV) or DEFAULT_EXCHANGE_INFO
    return _load_exchange_info(str(path))


def make_perpetual(
    spec: AssetSpec | str,
    exchange_info: dict[str, dict[str, Any]] | None = None,
    ts_init: int = 0,
) -> CryptoPerpetual:
    """Build the ``CryptoPerpetual`` for one universe asset.

    Parameters
    ----------
    spec : AssetSpec or str
        The asset (or its symbol, looked up in ``UNIVERSE``).
    exchange_info : dict, optional
        Output of ``exchange_info_specs``; by default the shared sample (if present).
    ts_init : int
        Timestamp for the instrument (ns); 0 is fine for backtests.
    """
    if isinstance(spec, str):
        spec = UNIVERSE[spec]
    real = (exchange_info if exchange_info is not None else exchange_info_specs()).get(spec.symbol)
    tick = Decimal(str(real["tick_size"])).normalize() if real else Decimal(repr(spec.tick_size)).normalize()
    step = Decimal(str(real["step_size"])).normalize() if real else Decimal(repr(spec.step_size)).normalize()
    pp, sp = _decimals(tick), _decimals(step)
    min_qty = Decimal(str(real["min_qty"])) if real and real.get("min_qty") else step
    max_qty = Decimal(str(real["max_qty"])) if real and real.get("max_qty") else None
    min_notional = (
        Decimal(str(real["min_notional"])) if real and real.get("min_notional") else DEFAULT_MIN_NOTIONAL
    )
    base = Currency.from_str(spec.base, strict=False)
    return CryptoPerpetual(
        instrument_id=instrument_id(spec.symbol),
        raw_symbol=Symbol(spec.symbol),
        base_currency=base,
        quote_currency=USDT,
        settlement_currency=USDT,
        is_inverse=False,
        price_precision=pp,
        size_precision=sp,
        price_increment=Price(tick, pp),
        size_increment=Quantity(step, sp),
        ts_event=ts_init,
        ts_init=ts_init,
        multiplier=Quantity.from_int(1),
        max_quantity=Quantity(max_qty, sp) if max_qty is not None else None,
        min_quantity=Quantity(min_qty, sp),
        min_notional=Money(min_notional, USDT),
        margin_init=real["margin_init"] if real else DEFAULT_MARGIN_INIT,
        margin_maint=real["margin_maint"] if real else DEFAULT_MARGIN_MAINT,
        maker_fee=MAKER_FEE,
        taker_fee=TAKER_FEE,
    )


def make_universe(symbols: list[str] | tuple[str, ...] | None = None) -> list[CryptoPerpetual]:
    """Return one ``CryptoPerpetual`` per symbol (default: all 48 universe assets, sorted)."""
    info = exchange_info_specs()
    return [make_perpetual(UNIVERSE[s], info) for s in (symbols or sorted(UNIVERSE))]


__all__ = [
    "MAKER_FEE",
    "TAKER_FEE",
    "exchange_info_specs",
    "instrument_id",
    "make_perpetual",
    "make_universe",
]
