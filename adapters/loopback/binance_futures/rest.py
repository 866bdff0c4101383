"""REST reply shapes of the loopback Binance USDT-M venue (a TEST STAND-IN).

Each function renders venue state in the shape of the real Binance reply (see the samples in
``../shared/data/real/binance_futures_api/http*``), with prices and quantities formatted at the
instrument's precision because the Nautilus parsers take the precision from the text.
"""

from decimal import Decimal

from adapters.loopback.binance_futures.matching import MatchingEngine
from adapters.loopback.binance_futures.matching import VenueOrder
from adapters.loopback.binance_futures.matching import VenuePosition
from adapters.loopback.binance_futures.matching import VenueTrade


def _f8(value: Decimal) -> str:
    return f"{value:.8f}"


def order_json(engine: MatchingEngine, order: VenueOrder) -> dict:
    """An order as ``/fapi/v1/order``, ``openOrders`` and ``allOrders`` report it."""
    spec = engine.specs[order.symbol]
    return {
        "orderId": order.order_id,
        "symbol": order.symbol,
        "status": order.status,
        "clientOrderId": order.client_order_id,
        "price": spec.fmt_price(order.price),
        "avgPrice": spec.fmt_price(order.avg_price),
        "origQty": spec.fmt_qty(order.qty),
        "executedQty": spec.fmt_qty(order.executed_qty),
        "cumQuote": _f8(order.cum_quote),
        "timeInForce": order.tif,
        "type": order.type,
        "reduceOnly": order.reduce_only,
        "closePosition": False,
        "side": order.side,
        "positionSide": "BOTH",
        "stopPrice": "0",
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "origType": order.type,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "NONE",
        "goodTillDate": 0,
        "time": order.time,
        "updateTime": order.update_time,
    }


def position_risk_json(engine: MatchingEngine, pos: VenuePosition) -> dict:
    """A ``/fapi/v3/positionRisk`` (also v2) entry."""
    spec = engine.specs[pos.symbol]
    mark = engine.mark(pos.symbol)
    return {
        "symbol": pos.symbol,
        "positionSide": "BOTH",
        "positionAmt": spec.fmt_qty(pos.amount),
        "entryPrice": _f8(pos.entry_price),
        "breakEvenPrice": _f8(pos.entry_price),
        "markPrice": _f8(mark),
        "unRealizedProfit": _f8(engine.unrealized(pos)),
        "liquidationPrice": _f8(engine.liquidation_price(pos)),
        "isolatedMargin": _f8(
            pos.isolated_wallet + (engine.unrealized(pos) if pos.margin_type == "isolated" else Decimal(0))
        ),
        "notional": _f8(pos.amount * mark),
        "marginAsset": "USDT",
        "isolatedWallet": _f8(pos.isolated_wallet),
        "initialMargin": _f8(engine.position_margin(pos)),
        "maintMargin": _f8(engine.maint_margin(pos)),
        "positionInitialMargin": _f8(engine.position_margin(pos)),
        "openOrderInitialMargin": "0",
        "adl": 0,
        "bidNotional": "0",
        "askNotional": "0",
        "leverage": str(pos.leverage),
        "marginType": pos.margin_type,
        "isAutoAddMargin": "false",
        "maxNotionalValue": "250000000",
        "updateTime": pos.update_time,
    }


def user_trade_json(engine: MatchingEngine, trade: VenueTrade) -> dict:
    """A ``/fapi/v1/userTrades`` entry."""
    spec = engine.specs[trade.symbol]
    return {
        "symbol": trade.symbol,
        "id": trade.trade_id,
        "orderId": trade.order_id,
        "side": trade.side,
        "price": spec.fmt_price(trade.price),
        "qty": spec.fmt_qty(trade.qty),
        "realizedPnl": _f8(trade.realized_pnl),
        "marginAsset": "USDT",
        "quoteQty": _f8(trade.price * trade.qty),
        "commission": _f8(trade.commission),
        "commissionAsset": "USDT",
        "time": trade.time,
        "positionSide": "BOTH",
        "buyer": trade.side == "BUY",
        "maker": trade.maker,
    }


def account_json(engine: MatchingEngine, now_ms: int) -> dict:
    """The ``/fapi/v2/account`` (and v3) reply: totals, the USDT asset and positions."""
    t = engine.totals()
    im = t["position_im"] + t["order_im"]
    asset = {
        "asset": "USDT",
        "walletBalance": _f8(t["wallet"]),
        "unrealizedProfit": _f8(t["unrealized"]),
        "marginBalance": _f8(t["margin_balance"]),
        "maintMargin": _f8(t["maint"]),
        "initialMargin": _f8(im),
        "positionInitialMargin": _f8(t["position_im"]),
        "openOrderInitialMargin": _f8(t["order_im"]),
        "crossWalletBalance": _f8(t["wallet"]),
        "crossUnPnl": _f8(t["cross_unrealized"]),
        "availableBalance": _f8(t["available"]),
        "maxWithdrawAmount": _f8(t["available"]),
        "marginAvailable": True,
        "updateTime": now_ms,
    }
    positions = []
    for pos in engine.positions.values():
        spec = engine.specs[pos.symbol]
        positions.append(
            {
                "symbol": pos.symbol,
                "initialMargin": _f8(engine.position_margin(pos)),
                "maintMargin": _f8(engine.maint_margin(pos)),
                "unrealizedProfit": _f8(engine.unrealized(pos)),
                "positionInitialMargin": _f8(engine.position_margin(pos)),
                "openOrderInitialMargin": "0",
                "leverage": str(pos.leverage),
                "isolated": pos.margin_type == "isolated",
                "entryPrice": _f8(pos.entry_price),
                "maxNotional": "250000000",
                "bidNotional": "0",
                "askNotional": "0",
                "positionSide": "BOTH",
                "positionAmt": spec.fmt_qty(pos.amount),
                "updateTime": pos.update_time,
            }
        )
    return {
        "feeTier": engine.account.fee_tier,
        "canTrade": True,
        "canDeposit": True,
        "canWithdraw": True,
        "updateTime": now_ms,
        "multiAssetsMargin": False,
        "tradeGroupId": -1,
        "totalInitialMargin": _f8(im),
        "totalMaintMargin": _f8(t["maint"]),
        "totalWalletBalance": _f8(t["wallet"]),
        "totalUnrealizedProfit": _f8(t["unrealized"]),
        "totalMarginBalance": _f8(t["margin_balance"]),
        "totalPositionInitialMargin": _f8(t["position_im"]),
        "totalOpenOrderInitialMargin": _f8(t["order_im"]),
        "totalCrossWalletBalance": _f8(t["wallet"]),
        "totalCrossUnPnl": _f8(t["cross_unrealized"]),
        "availableBalance": _f8(t["available"]),
        "maxWithdrawAmount": _f8(t["available"]),
        "assets": [asset],
        "positions": positions,
    }


def balance_json(engine: MatchingEngine, now_ms: int) -> list[dict]:
    """The ``/fapi/v2/balance`` reply."""
    t = engine.totals()
    return [
        {
            "accountAlias": "loopback",
            "asset": "USDT",
            "balance": _f8(t["wallet"]),
            "crossWalletBalance": _f8(t["wallet"]),
            "crossUnPnl": _f8(t["cross_unrealized"]),
            "availableBalance": _f8(t["available"]),
            "maxWithdrawAmount": _f8(t["available"]),
            "marginAvailable": True,
            "updateTime": now_ms,
        }
    ]


def symbol_config_json(engine: MatchingEngine, symbol: str | None) -> list[dict]:
    """The ``/fapi/v1/symbolConfig`` reply."""
    return [
        {
            "symbol": pos.symbol,
            "marginType": "ISOLATED" if pos.margin_type == "isolated" else "CROSSED",
            "isAutoAddMargin": False,
            "leverage": pos.leverage,
            "maxNotionalValue": "250000000",
        }
        for pos in engine.positions.values()
        if symbol is None or pos.symbol == symbol
    ]
