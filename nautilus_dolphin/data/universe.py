"""The default DOLPHIN universe: 48 Binance USDT-M perpetuals.

Reference price levels are typical of the gold window (2025-12-31 .. 2026-02-26) and only seed the
synthetic market; tick and step sizes follow Binance USDT-M filters (PRICE_FILTER.tickSize,
LOT_SIZE.stepSize) as of that period. ``sector`` groups assets for the synthetic factor model.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class AssetSpec:
    """Static description of one USDT-M perpetual."""

    symbol: str
    ref_price: float
    tick_size: float
    step_size: float
    sector: str

    @property
    def base(self) -> str:
        """Return the base asset code (``BTC`` for ``BTCUSDT``)."""
        return self.symbol[: -len("USDT")]


_SPECS: tuple[AssetSpec, ...] = (
    AssetSpec("1000PEPEUSDT", 0.0105, 0.0000001, 1.0, "meme"),
    AssetSpec("AAVEUSDT", 310.0, 0.01, 0.1, "defi"),
    AssetSpec("ADAUSDT", 0.86, 0.0001, 1.0, "l1"),
    AssetSpec("ALGOUSDT", 0.24, 0.0001, 0.1, "l1"),
    AssetSpec("APTUSDT", 5.9, 0.0001, 0.1, "l1"),
    AssetSpec("ARBUSDT", 0.42, 0.0001, 0.1, "l2"),
    AssetSpec("ATOMUSDT", 4.6, 0.001, 0.01, "l1"),
    AssetSpec("AVAXUSDT", 24.5, 0.001, 1.0, "l1"),
    AssetSpec("AXSUSDT", 2.6, 0.001, 1.0, "gaming"),
    AssetSpec("BCHUSDT", 520.0, 0.01, 0.001, "pow"),
    AssetSpec("BNBUSDT", 870.0, 0.01, 0.01, "exchange"),
    AssetSpec("BTCUSDT", 93500.0, 0.1, 0.001, "major"),
    AssetSpec("CRVUSDT", 0.55, 0.001, 0.1, "defi"),
    AssetSpec("DOGEUSDT", 0.21, 0.00001, 1.0, "meme"),
    AssetSpec("DOTUSDT", 4.1, 0.001, 0.1, "l1"),
    AssetSpec("DYDXUSDT", 0.62, 0.001, 0.1, "defi"),
    AssetSpec("EGLDUSDT", 14.2, 0.001, 0.1, "l1"),
    AssetSpec("ENAUSDT", 0.52, 0.0001, 1.0, "defi"),
    AssetSpec("ETCUSDT", 16.8, 0.001, 0.01, "pow"),
    AssetSpec("ETHUSDT", 3250.0, 0.01, 0.001, "major"),
    AssetSpec("FILUSDT", 2.7, 0.001, 0.1, "infra"),
    AssetSpec("GRTUSDT", 0.095, 0.00001, 1.0, "infra"),
    AssetSpec("HBARUSDT", 0.26, 0.00001, 1.0, "l1"),
    AssetSpec("ICPUSDT", 6.3, 0.001, 1.0, "l1"),
    AssetSpec("INJUSDT", 13.4, 0.001, 0.1, "defi"),
    AssetSpec("JUPUSDT", 0.48, 0.0001, 1.0, "defi"),
    AssetSpec("LDOUSDT", 1.05, 0.0001, 1.0, "defi"),
    AssetSpec("LINKUSDT", 19.8, 0.001, 0.01, "infra"),
    AssetSpec("LTCUSDT", 104.0, 0.01, 0.001, "pow"),
    AssetSpec("MANAUSDT", 0.31, 0.0001, 1.0, "gaming"),
    AssetSpec("NEARUSDT", 2.9, 0.001, 1.0, "l1"),
    AssetSpec("ONDOUSDT", 0.95, 0.0001, 0.1, "defi"),
    AssetSpec("OPUSDT", 0.78, 0.0001, 0.1, "l2"),
    AssetSpec("RUNEUSDT", 1.25, 0.001, 1.0, "defi"),
    AssetSpec("SANDUSDT", 0.29, 0.0001, 1.0, "gaming"),
    AssetSpec("SEIUSDT", 0.23, 0.0001, 1.0, "l1"),
    AssetSpec("SOLUSDT", 195.0, 0.01, 0.01, "major"),
    AssetSpec("SUIUSDT", 3.6, 0.0001, 0.1, "l1"),
    AssetSpec("THETAUSDT", 0.82, 0.0001, 0.1, "infra"),
    AssetSpec("TIAUSDT", 2.4, 0.0001, 1.0, "infra"),
    AssetSpec("TONUSDT", 2.2, 0.0001, 0.1, "l1"),
    AssetSpec("TRXUSDT", 0.29, 0.00001, 1.0, "l1"),
    AssetSpec("UNIUSDT", 8.9, 0.001, 1.0, "defi"),
    AssetSpec("VETUSDT", 0.021, 0.000001, 1.0, "infra"),
    AssetSpec("WIFUSDT", 0.58, 0.0001, 0.1, "meme"),
    AssetSpec("WLDUSDT", 0.85, 0.0001, 1.0, "ai"),
    AssetSpec("XLMUSDT", 0.33, 0.00001, 1.0, "pow"),
    AssetSpec("XRPUSDT", 2.15, 0.0001, 0.1, "major"),
)

UNIVERSE: dict[str, AssetSpec] = {spec.symbol: spec for spec in _SPECS}
"""All 48 assets keyed by symbol."""

ASSETS: tuple[str, ...] = tuple(sorted(UNIVERSE))
"""The 48 symbols in the order DOLPHIN uses (sorted alphabetically, as ``OB_ASSETS``)."""

assert len(ASSETS) == 48, "the DOLPHIN universe has 48 assets"
