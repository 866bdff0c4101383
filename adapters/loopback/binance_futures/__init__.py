"""Loopback Binance USDT-M futures venue: a TEST STAND-IN, not an exchange and not for production.

It lets the real NautilusTrader 1.221 Binance adapter (data and execution clients, pointed at it
through ``base_url_http`` / ``base_url_ws``) run end to end in a real ``TradingNode`` on
127.0.0.1: exchangeInfo for the DOLPHIN universe, account and reconciliation endpoints, order
placement with a matching core (market/limit, maker/taker, partial fills, reduce-only, NETTING
positions, leverage, cross/isolated margin, fees, liquidation), market streams driven by a random
walk, scripted paths or a replayed vbt_cache DataFrame, the user-data stream, Binance error
codes, and fault injection. See ``docs/loopback-venues.md``.
"""

from adapters.loopback.binance_futures.server import DEFAULT_API_KEY
from adapters.loopback.binance_futures.server import DEFAULT_API_SECRET
from adapters.loopback.binance_futures.server import LoopbackBinanceVenue
from adapters.loopback.binance_futures.server import VenueConfig

__all__ = ["DEFAULT_API_KEY", "DEFAULT_API_SECRET", "LoopbackBinanceVenue", "VenueConfig"]
