"""Control API of the loopback Binance USDT-M venue (a TEST STAND-IN; no auth, 127.0.0.1 only).

Routes (JSON in, JSON out; a bad request answers 400 with ``{"error": ...}`` naming the field):

- ``GET  /_control/state``: positions, orders, balances, listen keys, auth failures, fired faults,
  request counts, user events sent.
- ``POST /_control/prices`` ``{"prices": {"BTCUSDT": 95000.0}, "step": true}``: pin mid prices
  (``null`` unpins); with ``step`` the market advances and publishes at once.
- ``POST /_control/step`` ``{"n": 1}``; ``POST /_control/pause`` / ``/_control/resume``.
- ``POST /_control/faults`` ``{"kind": "drop_user_events", "count": 1, "exec_type": "TRADE"}``
  (kinds in ``faults.py``); ``DELETE /_control/faults`` disarms all.
- ``POST /_control/close_websockets`` ``{"which": "user"|"market"|"all"}``.
- ``POST /_control/expire_listen_key``: expire live keys and push ``listenKeyExpired``.
- ``POST /_control/seed_position`` ``{"symbol", "qty" (signed), "price"}``: an existing position
  with the filled order and trade behind it (history dated one minute ago).
- ``POST /_control/seed_order`` ``{"symbol", "side", "qty", "price", "client_order_id"?}``: a
  resting GTC LIMIT (must not cross).
- ``POST /_control/wallet`` ``{"wallet": 5000}``.
"""

from decimal import Decimal
from decimal import InvalidOperation
from typing import TYPE_CHECKING
from typing import Any

from aiohttp import web

from adapters.loopback.binance_futures import rest
from adapters.loopback.binance_futures.errors import VenueError
from adapters.loopback.binance_futures.matching import VenueOrder
from adapters.loopback.binance_futures.matching import VenueTrade

if TYPE_CHECKING:
    from adapters.loopback.binance_futures.server import LoopbackBinanceVenue


class ControlError(ValueError):
    """A bad control request (answered with HTTP 400)."""


def _num(body: dict, name: str) -> Decimal:
    try:
        value = Decimal(str(body[name]))
    except KeyError:
        raise ControlError(f"missing field '{name}'") from None
    except InvalidOperation:
        raise ControlError(f"field '{name}' is not a number: {body[name]!r}") from None
    if not value.is_finite():
        raise ControlError(f"field '{name}' is not finite: {body[name]!r}")
    return value


def venue_state(venue: "LoopbackBinanceVenue") -> dict:
    """Snapshot of the venue for assertions."""
    eng = venue.engine
    totals = {k: str(v) for k, v in eng.totals().items()}
    return {
        "positions": {
            p.symbol: rest.position_risk_json(eng, p) for p in eng.positions.values() if p.amount != 0
        },
        "orders": [rest.order_json(eng, o) for o in eng.orders.values()],
        "open_orders": [rest.order_json(eng, o) for o in eng.open_orders()],
        "trades": [rest.user_trade_json(eng, t) for t in eng.account.trades],
        "balances": totals,
        "listen_keys": {
            "active": len(venue.listen_keys.active),
            "created": venue.listen_keys.created,
            "keepalives": venue.listen_keys.keepalives,
            "expired": len(venue.listen_keys.expired),
        },
        "auth_failures": venue.auth.failures,
        "faults_fired": [
            {k: v for k, v in f.items() if k != "event"}
            | ({"e": f["event"].get("e"), "x": f["event"].get("o", {}).get("x")} if "event" in f else {})
            for f in venue.faults.fired
        ],
        "requests": dict(venue.requests),
        "user_events_sent": venue.hub.user_events_sent,
        "ws_connections": {
            "user": sum(1 for c in venue.hub.conns if c.listen_keys),
            "market": sum(1 for c in venue.hub.conns if not c.listen_keys),
        },
        "market": {
            "steps": venue.market.steps,
            "ts_ms": venue.market.ts_ms,
            "exhausted": venue.source_exhausted,
            "books": {
                s: {"bid": str(venue.market.book(s).bid), "ask": str(venue.market.book(s).ask)}
                for s in venue.specs
            },
        },
    }


def seed_position(venue: "LoopbackBinanceVenue", symbol: str, qty: Decimal, price: Decimal) -> VenueOrder:
    """Create a position with the FILLED order and the trade that opened it, one minute in the past."""
    eng = venue.engine
    spec = eng.spec(symbol)
    if qty == 0 or not spec.on_step_grid(abs(qty)) or not spec.on_tick_grid(price) or price <= 0:
        raise ControlError(
            f"seed_position: qty {qty} / price {price} off the {symbol} step/tick grid or zero"
        )
    now = eng.clock_ms() - 60_000
    side = "BUY" if qty > 0 else "SELL"
    order = VenueOrder(
        order_id=next(eng._order_ids),
        client_order_id=f"seed-{now}",
        symbol=symbol,
        side=side,
        type="MARKET",
        tif="GTC",
        qty=abs(qty),
        price=Decimal(0),
        reduce_only=False,
        time=now,
        status="FILLED",
        executed_qty=abs(qty),
        cum_quote=abs(qty) * price,
        update_time=now,
    )
    eng.orders[order.order_id] = order
    pos = eng.positions[symbol]
    eng._apply_to_position(pos, 1 if qty > 0 else -1, abs(qty), price)
    pos.update_time = now
    eng.account.trades.append(
        VenueTrade(
            trade_id=next(eng._trade_ids),
            order_id=order.order_id,
            symbol=symbol,
            side=side,
            price=price,
            qty=abs(qty),
            realized_pnl=Decimal(0),
            commission=Decimal(0),
            time=now,
            maker=False,
        )
    )
    return order


def add_control_routes(app: web.Application, venue: "LoopbackBinanceVenue") -> None:
    """Register the ``/_control`` routes on ``app``."""

    async def body_of(request: web.Request) -> dict:
        if not request.can_read_body:
            return {}
        try:
            data = await request.json()
        except ValueError:
            raise ControlError("body is not JSON") from None
        if not isinstance(data, dict):
            raise ControlError("body must be a JSON object")
        return data

    def guarded(func: Any) -> Any:
        async def wrapped(request: web.Request) -> web.Response:
            try:
                return web.json_response(await func(await body_of(request)))
            except (ControlError, ValueError) as exc:
                return web.json_response({"error": str(exc)}, status=400)
            except VenueError as exc:
                return web.json_response({"error": exc.msg, "code": exc.code}, status=400)

        return wrapped

    async def state(body: dict) -> dict:
        return venue_state(venue)

    async def prices(body: dict) -> dict:
        for sym, px in (body.get("prices") or {}).items():
            venue.engine.spec(sym)
            if px is None:
                venue.market.overrides.pop(sym, None)
            else:
                value = _num({"price": px}, "price")
                if value <= 0:
                    raise ControlError(f"price of {sym} must be positive, got {px!r}")
                venue.market.overrides[sym] = value
        if body.get("step", True):
            await venue.step_and_publish()
        return venue_state(venue)["market"]

    async def step(body: dict) -> dict:
        await venue.step_and_publish(int(body.get("n", 1)))
        return venue_state(venue)["market"]

    async def pause(body: dict) -> dict:
        venue.paused = True
        return {"paused": True}

    async def resume(body: dict) -> dict:
        venue.paused = False
        return {"paused": False}

    async def faults(body: dict) -> dict:
        venue.faults.arm(body)
        return {"armed": body}

    async def clear_faults(body: dict) -> dict:
        venue.faults.clear()
        return {"cleared": True}

    async def close_ws(body: dict) -> dict:
        which = body.get("which", "all")
        if which not in ("user", "market", "all"):
            raise ControlError(f"field 'which' must be user|market|all, got {which!r}")
        return {"closed": await venue.hub.close(which)}

    async def expire(body: dict) -> dict:
        return {"expired": len(await venue.hub.expire_listen_keys(venue.engine.clock_ms()))}

    async def seed_pos(body: dict) -> dict:
        order = seed_position(venue, str(body.get("symbol")), _num(body, "qty"), _num(body, "price"))
        return rest.order_json(venue.engine, order)

    async def seed_order(body: dict) -> dict:
        sym = str(body.get("symbol"))
        book = venue.market.book(sym) if sym in venue.specs else None
        side, px = str(body.get("side", "")).upper(), _num(body, "price")
        if book is not None and ((side == "BUY" and px >= book.ask) or (side == "SELL" and px <= book.bid)):
            raise ControlError(f"seed_order: {side} at {px} would cross the book {book.bid}/{book.ask}")
        order, events = venue.engine.place(
            sym, side, "LIMIT", _num(body, "qty"), px, "GTC", False, body.get("client_order_id")
        )
        venue.hub.emit_user(events)
        return rest.order_json(venue.engine, order)

    async def wallet(body: dict) -> dict:
        venue.engine.account.wallet = _num(body, "wallet")
        venue.hub.emit_user([venue.engine.account_event("DEPOSIT", [])])
        return venue_state(venue)["balances"]

    routes = [
        ("GET", "/_control/state", state),
        ("POST", "/_control/prices", prices),
        ("POST", "/_control/step", step),
        ("POST", "/_control/pause", pause),
        ("POST", "/_control/resume", resume),
        ("POST", "/_control/faults", faults),
        ("DELETE", "/_control/faults", clear_faults),
        ("POST", "/_control/close_websockets", close_ws),
        ("POST", "/_control/expire_listen_key", expire),
        ("POST", "/_control/seed_position", seed_pos),
        ("POST", "/_control/seed_order", seed_order),
        ("POST", "/_control/wallet", wallet),
    ]
    for method, path, func in routes:
        app.router.add_route(method, path, guarded(func))
