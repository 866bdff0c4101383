"""Matching core of the loopback Binance USDT-M venue (a TEST STAND-IN, not an exchange).

One account, one margin asset (USDT), one-way mode (``positionSide=BOTH``, NETTING). Orders
match against the synthetic top of book the price driver publishes: a MARKET order (or the
marketable part of a LIMIT) takes liquidity level by level (level ``i`` is ``best + i*tick`` with
the top-of-book size), so a large order fills in several partial fills; a resting LIMIT fills as
maker at its own price when the opposite best crosses it, at most the top-of-book size per
quote update. Fees: maker 0.0002, taker 0.0005 by default. Margin: initial margin =
notional / leverage, cross or isolated per symbol; the liquidation price is Binance's one-way
formula with a single maintenance-margin rate (no tiers). Every state change returns the
user-data events the real venue would push (ORDER_TRADE_UPDATE, TRADE_LITE, ACCOUNT_UPDATE).

All arithmetic is ``Decimal``; the engine is deterministic given its inputs and clock.
"""

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from adapters.loopback.binance_futures.errors import VenueError
from adapters.loopback.binance_futures.instruments import SymbolSpec

ZERO = Decimal(0)
USDT = "USDT"


@dataclass
class VenueOrder:
    """One order as the venue stores it."""

    order_id: int
    client_order_id: str
    symbol: str
    side: str  # BUY | SELL
    type: str  # MARKET | LIMIT
    tif: str  # GTC | IOC | FOK | GTX
    qty: Decimal
    price: Decimal  # 0 for MARKET
    reduce_only: bool
    time: int
    status: str = "NEW"
    executed_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    update_time: int = 0

    @property
    def sign(self) -> int:
        """+1 for BUY, -1 for SELL."""
        return 1 if self.side == "BUY" else -1

    @property
    def leaves(self) -> Decimal:
        """Quantity still to fill."""
        return self.qty - self.executed_qty

    @property
    def is_open(self) -> bool:
        """Whether the order can still fill."""
        return self.status in ("NEW", "PARTIALLY_FILLED")

    @property
    def avg_price(self) -> Decimal:
        """Average fill price (0 when unfilled)."""
        return self.cum_quote / self.executed_qty if self.executed_qty else ZERO


@dataclass
class VenuePosition:
    """The one-way (BOTH) position of a symbol; ``amount`` is signed."""

    symbol: str
    leverage: int = 20
    margin_type: str = "cross"  # cross | isolated
    amount: Decimal = ZERO
    entry_price: Decimal = ZERO
    isolated_wallet: Decimal = ZERO
    realized: Decimal = ZERO
    update_time: int = 0


@dataclass
class VenueTrade:
    """One fill, as ``GET /fapi/v1/userTrades`` reports it."""

    trade_id: int
    order_id: int
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    realized_pnl: Decimal
    commission: Decimal
    time: int
    maker: bool


@dataclass
class Book:
    """Synthetic top of book of one symbol (set by the price driver)."""

    bid: Decimal
    ask: Decimal
    bid_qty: Decimal
    ask_qty: Decimal
    mark: Decimal


@dataclass
class Account:
    """Wallet of the single loopback account (USDT only)."""

    wallet: Decimal
    fee_tier: int = 0
    trades: list[VenueTrade] = field(default_factory=list)


class MatchingEngine:
    """Order book matching, positions and margin of the loopback venue.

    Parameters
    ----------
    specs : dict[str, SymbolSpec]
        Tradable symbols.
    wallet : Decimal
        Starting USDT wallet balance.
    clock_ms : Callable[[], int]
        Millisecond clock (injected so tests can make it deterministic).
    maker_fee, taker_fee : Decimal
        Commission rates.
    default_leverage : int
        Leverage of a symbol until ``POST /fapi/v1/leverage`` changes it.
    """

    def __init__(
        self,
        specs: dict[str, SymbolSpec],
        wallet: Decimal,
        clock_ms: Callable[[], int],
        maker_fee: Decimal = Decimal("0.0002"),
        taker_fee: Decimal = Decimal("0.0005"),
        default_leverage: int = 20,
    ) -> None:
        self.specs = specs
        self.clock_ms = clock_ms
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        self.account = Account(wallet=wallet)
        self.books: dict[str, Book] = {}
        self.positions: dict[str, VenuePosition] = {
            s: VenuePosition(symbol=s, leverage=default_leverage) for s in specs
        }
        self.orders: dict[int, VenueOrder] = {}
        self._order_ids = itertools.count(8_000_000_001)
        self._trade_ids = itertools.count(500_000_001)

    # -- queries ----------------------------------------------------------------------------------

    def spec(self, symbol: str) -> SymbolSpec:
        """Return the spec of ``symbol`` or raise -1121 (invalid symbol)."""
        try:
            return self.specs[symbol]
        except KeyError:
            raise VenueError(-1121, "Invalid symbol.") from None

    def find_order(self, symbol: str, order_id: int | None, client_order_id: str | None) -> VenueOrder:
        """Return an order by venue id or client id, or raise -2013 (order does not exist)."""
        for order in self.orders.values():
            if order.symbol != symbol:
                continue
            if order_id is not None and order.order_id == order_id:
                return order
            if order_id is None and client_order_id is not None and order.client_order_id == client_order_id:
                return order
        raise VenueError(-2013, "Order does not exist.")

    def open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        """Open orders, optionally of one symbol."""
        return [o for o in self.orders.values() if o.is_open and (symbol is None or o.symbol == symbol)]

    def mark(self, symbol: str) -> Decimal:
        """Mark price of ``symbol`` (the mid of the book; the reference price before any quote)."""
        book = self.books.get(symbol)
        return book.mark if book else self.specs[symbol].ref_price

    def unrealized(self, pos: VenuePosition) -> Decimal:
        """Unrealized PnL of a position at the mark price."""
        if pos.amount == 0:
            return ZERO
        return (self.mark(pos.symbol) - pos.entry_price) * pos.amount

    def position_margin(self, pos: VenuePosition) -> Decimal:
        """Initial margin of a position at the mark price."""
        return abs(pos.amount) * self.mark(pos.symbol) / pos.leverage

    def maint_margin(self, pos: VenuePosition) -> Decimal:
        """Maintenance margin of a position at the mark price."""
        return abs(pos.amount) * self.mark(pos.symbol) * self.specs[pos.symbol].maint_margin_rate

    def order_margin(self, order: VenueOrder) -> Decimal:
        """Initial margin reserved by an open order that would increase exposure."""
        pos = self.positions[order.symbol]
        if order.reduce_only or (pos.amount * order.sign) < 0:
            return ZERO
        price = order.price if order.price > 0 else self.mark(order.symbol)
        return order.leaves * price / pos.leverage

    def totals(self) -> dict[str, Decimal]:
        """Account aggregates: wallet, unrealized, margins, available balance."""
        unreal = sum((self.unrealized(p) for p in self.positions.values()), ZERO)
        cross_unreal = sum(
            (self.unrealized(p) for p in self.positions.values() if p.margin_type == "cross"), ZERO
        )
        pos_im = sum((self.position_margin(p) for p in self.positions.values()), ZERO)
        maint = sum((self.maint_margin(p) for p in self.positions.values()), ZERO)
        order_im = sum((self.order_margin(o) for o in self.open_orders()), ZERO)
        wallet = self.account.wallet
        available = wallet + cross_unreal - pos_im - order_im
        return {
            "wallet": wallet,
            "unrealized": unreal,
            "cross_unrealized": cross_unreal,
            "margin_balance": wallet + unreal,
            "position_im": pos_im,
            "order_im": order_im,
            "maint": maint,
            "available": max(available, ZERO),
        }

    def liquidation_price(self, pos: VenuePosition) -> Decimal:
        """Binance one-way liquidation price (single maintenance rate, no cumulative amount).

        ``LP = (WB - side*qty*entry) / (qty*mmr - side*qty)`` with WB the cross wallet balance
        (plus other positions' unrealized PnL minus their maintenance) or the isolated wallet.
        """
        if pos.amount == 0:
            return ZERO
        qty = abs(pos.amount)
        side = Decimal(1) if pos.amount > 0 else Decimal(-1)
        mmr = self.specs[pos.symbol].maint_margin_rate
        if pos.margin_type == "isolated":
            wb = pos.isolated_wallet
        else:
            others = [
                p for p in self.positions.values() if p.symbol != pos.symbol and p.margin_type == "cross"
            ]
            wb = (
                self.account.wallet
                + sum((self.unrealized(p) for p in others), ZERO)
                - sum((self.maint_margin(p) for p in others), ZERO)
            )
        denom = qty * mmr - side * qty
        if denom == 0:
            return ZERO
        lp = (wb - side * qty * pos.entry_price) / denom
        return max(lp, ZERO)

    # -- commands ---------------------------------------------------------------------------------

    def set_leverage(self, symbol: str, leverage: int) -> VenuePosition:
        """Change a symbol's leverage (1..125)."""
        self.spec(symbol)
        if not 1 <= leverage <= 125:
            raise VenueError(-4028, f"Leverage {leverage} is not valid")
        pos = self.positions[symbol]
        pos.leverage = leverage
        return pos

    def set_margin_type(self, symbol: str, margin_type: str) -> None:
        """Switch ISOLATED / CROSSED; refused (-4048) while a position or order is open."""
        self.spec(symbol)
        pos = self.positions[symbol]
        wanted = {"ISOLATED": "isolated", "CROSSED": "cross"}.get(margin_type.upper())
        if wanted is None:
            raise VenueError(-1116, "Invalid marginType.")
        if wanted == pos.margin_type:
            raise VenueError(-4046, "No need to change margin type.")
        if pos.amount != 0 or self.open_orders(symbol):
            raise VenueError(-4048, "Margin type cannot be changed if there exists position.")
        pos.margin_type = wanted

    def place(
        self,
        symbol: str,
        side: str,
        type_: str,
        qty: Decimal,
        price: Decimal | None,
        tif: str | None,
        reduce_only: bool,
        client_order_id: str | None,
    ) -> tuple[VenueOrder, list[dict]]:
        """Validate, accept and match a new order; return it and the user-stream events."""
        spec = self.spec(symbol)
        if side not in ("BUY", "SELL"):
            raise VenueError(-1117, "Invalid side.")
        if type_ not in ("MARKET", "LIMIT"):
            raise VenueError(-1116, "Invalid orderType.")
        if qty <= 0 or not spec.on_step_grid(qty):
            raise VenueError(-1111, "Precision is over the maximum defined for this asset.")
        if type_ == "LIMIT":
            if price is None or price <= 0 or not spec.on_tick_grid(price):
                raise VenueError(-1111, "Precision is over the maximum defined for this asset.")
            tif = tif or "GTC"
            if tif not in ("GTC", "IOC", "FOK", "GTX"):
                raise VenueError(-1115, "Invalid timeInForce.")
        else:
            price, tif = ZERO, "GTC"
        if client_order_id and any(
            o.client_order_id == client_order_id and o.is_open for o in self.orders.values()
        ):
            raise VenueError(-4015, "Client order id is not valid.")
        book = self.books.get(symbol)
        if book is None:
            raise VenueError(-1013, "No market data for symbol yet.")
        pos = self.positions[symbol]
        sign = 1 if side == "BUY" else -1
        if reduce_only:
            if pos.amount == 0 or pos.amount * sign > 0:
                raise VenueError(-2022, "ReduceOnly Order is rejected.")
            qty = min(qty, abs(pos.amount))
        ref_px = price if type_ == "LIMIT" else (book.ask if sign > 0 else book.bid)
        if ref_px * qty < spec.min_notional and not reduce_only:
            raise VenueError(-4164, f"Order's notional must be no smaller than {spec.min_notional}")
        if type_ == "LIMIT" and tif == "GTX":
            crosses = price >= book.ask if sign > 0 else price <= book.bid
            if crosses:
                raise VenueError(
                    -5022,
                    "Due to the order could not be executed as maker, the Post Only order will be rejected.",
                )
        # Margin check on the exposure-increasing part only.
        opening = qty if reduce_only is False and pos.amount * sign >= 0 else max(qty - abs(pos.amount), ZERO)
        if opening > 0:
            needed = opening * ref_px / pos.leverage + opening * ref_px * self.taker_fee
            if needed > self.totals()["available"]:
                raise VenueError(-2019, "Margin is insufficient.")
        now = self.clock_ms()
        order = VenueOrder(
            order_id=next(self._order_ids),
            client_order_id=client_order_id or f"loopback-{now}",
            symbol=symbol,
            side=side,
            type=type_,
            tif=tif,
            qty=qty,
            price=price,
            reduce_only=reduce_only,
            time=now,
            update_time=now,
        )
        self.orders[order.order_id] = order
        events = [self.order_event(order, "NEW")]
        events += self._take(order, book)
        if order.is_open and (order.type == "MARKET" or order.tif in ("IOC", "FOK")):
            order.status = "EXPIRED"
            events.append(self.order_event(order, "EXPIRED"))
        return order, events

    def cancel(
        self, symbol: str, order_id: int | None, client_order_id: str | None
    ) -> tuple[VenueOrder, list[dict]]:
        """Cancel an open order (-2011 if it is unknown or no longer open)."""
        try:
            order = self.find_order(symbol, order_id, client_order_id)
        except VenueError:
            raise VenueError(-2011, "Unknown order sent.") from None
        if not order.is_open:
            raise VenueError(-2011, "Unknown order sent.")
        order.status = "CANCELED"
        order.update_time = self.clock_ms()
        return order, [self.order_event(order, "CANCELED")]

    def cancel_all(self, symbol: str) -> list[dict]:
        """Cancel every open order of ``symbol``."""
        events: list[dict] = []
        for order in self.open_orders(symbol):
            events += self.cancel(symbol, order.order_id, None)[1]
        return events

    def modify(
        self, symbol: str, order_id: int | None, client_order_id: str | None, qty: Decimal, price: Decimal
    ) -> tuple[VenueOrder, list[dict]]:
        """Amend price/quantity of an open LIMIT order (events: AMENDMENT, then any fills)."""
        spec = self.spec(symbol)
        order = self.find_order(symbol, order_id, client_order_id)
        if not order.is_open or order.type != "LIMIT":
            raise VenueError(-2013, "Order does not exist.")
        if not spec.on_tick_grid(price) or not spec.on_step_grid(qty) or qty <= order.executed_qty:
            raise VenueError(-1111, "Precision is over the maximum defined for this asset.")
        order.qty, order.price = qty, price
        order.update_time = self.clock_ms()
        events = [self.order_event(order, "AMENDMENT")]
        book = self.books.get(symbol)
        if book is not None:
            events += self._take(order, book)
        return order, events

    # -- market updates ---------------------------------------------------------------------------

    def on_book(self, symbol: str, book: Book) -> list[dict]:
        """Store a new top of book and fill resting LIMIT orders it crosses (as maker)."""
        self.books[symbol] = book
        events: list[dict] = []
        for order in self.open_orders(symbol):
            if order.type != "LIMIT":
                continue
            if order.sign > 0 and book.ask <= order.price:
                fill = min(order.leaves, book.ask_qty)
            elif order.sign < 0 and book.bid >= order.price:
                fill = min(order.leaves, book.bid_qty)
            else:
                continue
            events += self._fill(order, order.price, fill, maker=True)
        events += self._check_liquidation(symbol)
        return events

    # -- internals --------------------------------------------------------------------------------

    def _take(self, order: VenueOrder, book: Book) -> list[dict]:
        """Fill the marketable part of ``order`` as taker, walking synthetic levels."""
        spec = self.specs[order.symbol]
        events: list[dict] = []
        best, size = (book.ask, book.ask_qty) if order.sign > 0 else (book.bid, book.bid_qty)
        if size <= 0:
            return events
        level = 0
        while order.leaves > 0 and level < 50:
            px = best + order.sign * level * spec.tick
            if px <= 0:
                break
            if order.type == "LIMIT" and (px - order.price) * order.sign > 0:
                break
            if order.reduce_only:
                pos = self.positions[order.symbol]
                if pos.amount == 0 or pos.amount * order.sign > 0:
                    break
            events += self._fill(order, px, min(order.leaves, size), maker=False)
            level += 1
        return events

    def _fill(self, order: VenueOrder, price: Decimal, qty: Decimal, maker: bool) -> list[dict]:
        """Apply one fill to the order, position and wallet; return TRADE_LITE, ORDER, ACCOUNT events."""
        pos = self.positions[order.symbol]
        if order.reduce_only:
            qty = min(qty, abs(pos.amount))
        if qty <= 0:
            return []
        now = self.clock_ms()
        fee_rate = self.maker_fee if maker else self.taker_fee
        commission = (price * qty * fee_rate).quantize(Decimal("0.00000001"))
        realized = self._apply_to_position(pos, order.sign, qty, price)
        pos.update_time = now
        self.account.wallet += realized - commission
        order.executed_qty += qty
        order.cum_quote += price * qty
        order.status = "FILLED" if order.leaves == 0 else "PARTIALLY_FILLED"
        order.update_time = now
        trade = VenueTrade(
            trade_id=next(self._trade_ids),
            order_id=order.order_id,
            symbol=order.symbol,
            side=order.side,
            price=price,
            qty=qty,
            realized_pnl=realized,
            commission=commission,
            time=now,
            maker=maker,
        )
        self.account.trades.append(trade)
        return [
            self.trade_lite_event(order, trade),
            self.order_event(order, "TRADE", trade),
            self.account_event("ORDER", [pos]),
        ]

    def _apply_to_position(self, pos: VenuePosition, sign: int, qty: Decimal, price: Decimal) -> Decimal:
        """NETTING update of a one-way position; returns the realized PnL of the closing part."""
        signed = qty * sign
        realized = ZERO
        if pos.amount == 0 or pos.amount * sign > 0:
            new_amount = pos.amount + signed
            pos.entry_price = (pos.entry_price * abs(pos.amount) + price * qty) / abs(new_amount)
            pos.amount = new_amount
            if pos.margin_type == "isolated":
                pos.isolated_wallet += qty * price / pos.leverage
            return realized
        closing = min(qty, abs(pos.amount))
        realized = (price - pos.entry_price) * closing * (1 if pos.amount > 0 else -1)
        if pos.margin_type == "isolated" and pos.amount != 0:
            pos.isolated_wallet -= pos.isolated_wallet * closing / abs(pos.amount)
        pos.amount += closing * sign
        pos.realized += realized
        rest = qty - closing
        if pos.amount == 0:
            pos.entry_price = ZERO
            pos.isolated_wallet = ZERO
        if rest > 0:  # flipped through zero
            pos.amount = rest * sign
            pos.entry_price = price
            if pos.margin_type == "isolated":
                pos.isolated_wallet = rest * price / pos.leverage
        return realized

    def _check_liquidation(self, symbol: str) -> list[dict]:
        """Close a position at the mark price when the mark crosses its liquidation price."""
        pos = self.positions[symbol]
        if pos.amount == 0:
            return []
        lp = self.liquidation_price(pos)
        mark = self.mark(symbol)
        breached = (pos.amount > 0 and mark <= lp) or (pos.amount < 0 and mark >= lp)
        if not breached or lp <= 0:
            return []
        now = self.clock_ms()
        side = "SELL" if pos.amount > 0 else "BUY"
        order = VenueOrder(
            order_id=next(self._order_ids),
            client_order_id=f"autoclose-{now}",
            symbol=symbol,
            side=side,
            type="LIMIT",
            tif="IOC",
            qty=abs(pos.amount),
            price=self.specs[symbol].round_price(mark),
            reduce_only=True,
            time=now,
            update_time=now,
        )
        self.orders[order.order_id] = order
        events = self._fill(order, order.price, order.qty, maker=False)
        for ev in events:
            if ev["e"] == "ORDER_TRADE_UPDATE":
                ev["o"]["x"] = "CALCULATED"
        return events

    # -- event rendering --------------------------------------------------------------------------

    def order_event(self, order: VenueOrder, exec_type: str, trade: VenueTrade | None = None) -> dict:
        """Render ORDER_TRADE_UPDATE for ``order`` (all keys the 1.221 parser requires)."""
        spec = self.specs[order.symbol]
        now = self.clock_ms()
        o = {
            "s": order.symbol,
            "c": order.client_order_id,
            "S": order.side,
            "o": order.type,
            "f": order.tif,
            "q": spec.fmt_qty(order.qty),
            "p": spec.fmt_price(order.price),
            "ap": spec.fmt_price(order.avg_price),
            "sp": "0",
            "x": exec_type,
            "X": order.status,
            "i": order.order_id,
            "l": spec.fmt_qty(trade.qty if trade else ZERO),
            "z": spec.fmt_qty(order.executed_qty),
            "L": spec.fmt_price(trade.price if trade else ZERO),
            "T": trade.time if trade else now,
            "t": trade.trade_id if trade else 0,
            "b": "0",
            "a": "0",
            "m": bool(trade.maker) if trade else False,
            "R": order.reduce_only,
            "wt": "CONTRACT_PRICE",
            "ot": order.type,
            "ps": "BOTH",
            "cp": False,
            "pP": False,
            "si": 0,
            "ss": 0,
            "rp": f"{trade.realized_pnl:.8f}" if trade else "0",
            "gtd": 0,
            "V": "EXPIRE_MAKER",
        }
        if trade is not None:
            o["N"] = USDT
            o["n"] = f"{trade.commission:.8f}"
        return {"e": "ORDER_TRADE_UPDATE", "E": now, "T": now, "o": o}

    def trade_lite_event(self, order: VenueOrder, trade: VenueTrade) -> dict:
        """Render TRADE_LITE for one fill."""
        spec = self.specs[order.symbol]
        return {
            "e": "TRADE_LITE",
            "E": trade.time,
            "T": trade.time,
            "s": order.symbol,
            "q": spec.fmt_qty(order.qty),
            "p": spec.fmt_price(order.price),
            "m": trade.maker,
            "c": order.client_order_id,
            "S": order.side,
            "L": spec.fmt_price(trade.price),
            "l": spec.fmt_qty(trade.qty),
            "t": trade.trade_id,
            "i": order.order_id,
        }

    def account_event(
        self, reason: str, positions: list[VenuePosition], balance_change: Decimal = ZERO
    ) -> dict:
        """Render ACCOUNT_UPDATE with the USDT balance and the given positions."""
        now = self.clock_ms()
        t = self.totals()
        cross_wallet = self.account.wallet - sum(
            (p.isolated_wallet for p in self.positions.values() if p.margin_type == "isolated"), ZERO
        )
        return {
            "e": "ACCOUNT_UPDATE",
            "E": now,
            "T": now,
            "a": {
                "m": reason,
                "B": [
                    {
                        "a": USDT,
                        "wb": f"{t['wallet']:.8f}",
                        "cw": f"{cross_wallet:.8f}",
                        "bc": f"{balance_change:.8f}",
                    }
                ],
                "P": [self._position_entry(p) for p in positions],
            },
        }

    def _position_entry(self, pos: VenuePosition) -> dict:
        spec = self.specs[pos.symbol]
        return {
            "s": pos.symbol,
            "pa": spec.fmt_qty(pos.amount),
            "ep": f"{pos.entry_price:.8f}",
            "bep": f"{pos.entry_price:.8f}",
            "cr": f"{pos.realized:.8f}",
            "up": f"{self.unrealized(pos):.8f}",
            "mt": pos.margin_type,
            "iw": f"{pos.isolated_wallet:.8f}",
            "ps": "BOTH",
        }
