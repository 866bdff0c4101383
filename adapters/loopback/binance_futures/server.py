"""aiohttp server of the loopback Binance USDT-M venue (a TEST STAND-IN, never a production venue).

Implements what the NautilusTrader 1.221 Binance adapter uses for USDT-M futures (REST under
``/fapi``, WebSocket combined streams under ``/stream``) on 127.0.0.1 with an OS-chosen port by
default, plus a control API under ``/_control`` for tests (see ``control.py``). Use it in-process::

    async with LoopbackBinanceVenue(VenueConfig(symbols=["BTCUSDT"])) as venue:
        print(venue.http_url, venue.ws_url)

or as a subprocess (``python -m adapters.loopback.binance_futures``) / ``dolphin venue``.
"""

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any

from aiohttp import web

from adapters.loopback.binance_futures import rest
from adapters.loopback.binance_futures.auth import Authenticator
from adapters.loopback.binance_futures.errors import VenueError
from adapters.loopback.binance_futures.faults import Faults
from adapters.loopback.binance_futures.instruments import exchange_info
from adapters.loopback.binance_futures.instruments import universe_specs
from adapters.loopback.binance_futures.market import KLINE_INTERVALS_MS
from adapters.loopback.binance_futures.market import FrameSource
from adapters.loopback.binance_futures.market import MarketDriver
from adapters.loopback.binance_futures.market import RandomWalkSource
from adapters.loopback.binance_futures.matching import MatchingEngine
from adapters.loopback.binance_futures.streams import ListenKeys
from adapters.loopback.binance_futures.streams import StreamHub

DEFAULT_API_KEY = "loopback-api-key"
DEFAULT_API_SECRET = "loopback-api-secret"


@dataclass
class VenueConfig:
    """Settings of the loopback venue.

    Parameters
    ----------
    host, port : str, int
        Bind address; port 0 lets the OS choose.
    symbols : list[str] | None
        Universe subset to list (default: all 48).
    api_key, api_secret : str
        The only credential accepted.
    wallet : float
        Starting USDT wallet balance.
    leverage : int
        Default leverage per symbol.
    maker_fee, taker_fee : str
        Commission rates.
    step_interval_secs : float
        Wall seconds between market steps (0 = paused; drive with ``/_control/step``).
    step_ms : int
        Market-time increment per step for the random walk.
    vol, seed : float, int
        Random-walk volatility per step and seed.
    top_notional : float
        USDT notional per book level.
    duration_secs : float | None
        Stop by itself after this many seconds (bounded lifetime).
    replay_frame : Any
        Optional vbt_cache-layout DataFrame to replay instead of the random walk.
    """

    host: str = "127.0.0.1"
    port: int = 0
    symbols: list[str] | None = None
    api_key: str = DEFAULT_API_KEY
    api_secret: str = DEFAULT_API_SECRET
    wallet: float = 10_000.0
    leverage: int = 20
    maker_fee: str = "0.0002"
    taker_fee: str = "0.0005"
    step_interval_secs: float = 0.1
    step_ms: int = 1000
    vol: float = 0.0003
    seed: int = 7
    top_notional: float = 50_000.0
    duration_secs: float | None = None
    replay_frame: Any = None


def _wall_ms() -> int:
    return int(time.time() * 1000)


def _dec(params: Any, name: str, required: bool = True) -> Decimal | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise VenueError(
                -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
            )
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise VenueError(-1111, "Precision is over the maximum defined for this asset.") from None


def _int(params: Any, name: str) -> int | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise VenueError(-1100, f"Illegal characters found in parameter '{name}'.") from None


class LoopbackBinanceVenue:
    """The loopback venue: HTTP + WebSocket server, matching core and price driver."""

    def __init__(self, config: VenueConfig | None = None) -> None:
        self.config = config or VenueConfig()
        cfg = self.config
        self.specs = universe_specs(cfg.symbols)
        self.engine = MatchingEngine(
            self.specs,
            wallet=Decimal(str(cfg.wallet)),
            clock_ms=_wall_ms,
            maker_fee=Decimal(cfg.maker_fee),
            taker_fee=Decimal(cfg.taker_fee),
            default_leverage=cfg.leverage,
        )
        self.market = MarketDriver(self.specs, top_notional=cfg.top_notional, seed=cfg.seed)
        self.faults = Faults()
        self.auth = Authenticator(cfg.api_key, cfg.api_secret)
        self.listen_keys = ListenKeys()
        self.hub = StreamHub(self.listen_keys, self.faults)
        self.requests: Counter[str] = Counter()
        self.paused = cfg.step_interval_secs <= 0
        if cfg.replay_frame is not None:
            self.source = FrameSource(cfg.replay_frame, list(self.specs))
        else:
            start = (_wall_ms() - 6 * 3_600_000) // 60_000 * 60_000
            self.source = RandomWalkSource(
                {s: float(sp.ref_price) for s, sp in self.specs.items()},
                start_ms=start,
                step_ms=cfg.step_ms,
                vol=cfg.vol,
                seed=cfg.seed,
            )
        self._steps = iter(self.source)
        self.source_exhausted = False
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._driver: asyncio.Task | None = None
        self._lifetime: asyncio.Task | None = None
        self.stopped = asyncio.Event()
        self.step_once()  # a first book so orders can match before the driver ticks

    # -- lifecycle --------------------------------------------------------------------------------

    @property
    def http_url(self) -> str:
        """Base URL for ``BinanceDataClientConfig.base_url_http`` / ``BinanceExecClientConfig``."""
        return f"http://{self.config.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """Base URL for ``base_url_ws`` (the adapter appends ``/stream?streams=...``)."""
        return f"ws://{self.config.host}:{self.port}"

    def build_app(self) -> web.Application:
        """Create the aiohttp application with REST, WebSocket and control routes."""
        from adapters.loopback.binance_futures.control import add_control_routes

        app = web.Application(middlewares=[self._middleware])
        r = app.router
        r.add_get("/stream", self.hub.handle)
        r.add_get("/ws", self.hub.handle)
        r.add_get("/ws/{stream}", self.hub.handle)
        public = {
            "/fapi/v1/ping": self._ping,
            "/fapi/v1/time": self._time,
            "/fapi/v1/exchangeInfo": self._exchange_info,
            "/fapi/v1/depth": self._depth,
            "/fapi/v1/klines": self._klines,
            "/fapi/v1/trades": self._trades,
            "/fapi/v1/historicalTrades": self._trades,
            "/fapi/v1/aggTrades": self._agg_trades,
            "/fapi/v1/ticker/bookTicker": self._book_ticker,
            "/fapi/v1/premiumIndex": self._premium_index,
        }
        for path, handler in public.items():
            r.add_get(path, handler)
        r.add_route("*", "/fapi/v1/listenKey", self._listen_key)
        signed = [
            ("GET", "/fapi/v2/account", self._account),
            ("GET", "/fapi/v3/account", self._account),
            ("GET", "/fapi/v2/balance", self._balance),
            ("GET", "/fapi/v3/balance", self._balance),
            ("GET", "/fapi/v1/symbolConfig", self._symbol_config),
            ("GET", "/fapi/v1/positionSide/dual", self._dual_get),
            ("POST", "/fapi/v1/positionSide/dual", self._dual_post),
            ("GET", "/fapi/v2/positionRisk", self._position_risk),
            ("GET", "/fapi/v3/positionRisk", self._position_risk),
            ("GET", "/fapi/v1/openOrders", self._open_orders),
            ("GET", "/fapi/v1/openOrder", self._query_order),
            ("GET", "/fapi/v1/allOrders", self._all_orders),
            ("GET", "/fapi/v1/userTrades", self._user_trades),
            ("GET", "/fapi/v1/commissionRate", self._commission_rate),
            ("POST", "/fapi/v1/leverage", self._leverage),
            ("POST", "/fapi/v1/marginType", self._margin_type),
            ("GET", "/fapi/v1/order", self._query_order),
            ("POST", "/fapi/v1/order", self._new_order),
            ("PUT", "/fapi/v1/order", self._modify_order),
            ("DELETE", "/fapi/v1/order", self._cancel_order),
            ("DELETE", "/fapi/v1/allOpenOrders", self._cancel_all),
            ("DELETE", "/fapi/v1/batchOrders", self._cancel_batch),
        ]
        for method, path, handler in signed:
            r.add_route(method, path, self._signed(handler))
        add_control_routes(app, self)
        return app

    async def start(self) -> "LoopbackBinanceVenue":
        """Bind the server and start the price driver (and the lifetime timer if configured)."""
        self._runner = web.AppRunner(self.build_app(), access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        await site.start()
        sockets = site._server.sockets  # type: ignore[union-attr]
        self.port = sockets[0].getsockname()[1]
        self._driver = asyncio.get_running_loop().create_task(self._drive())
        if self.config.duration_secs:
            self._lifetime = asyncio.get_running_loop().create_task(self._expire(self.config.duration_secs))
        return self

    async def _expire(self, secs: float) -> None:
        await asyncio.sleep(secs)
        self.stopped.set()

    async def stop(self) -> None:
        """Stop the driver, close every WebSocket and release the port."""
        for task in (self._driver, self._lifetime):
            if task is not None:
                task.cancel()
        await self.hub.shutdown()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.stopped.set()

    async def __aenter__(self) -> "LoopbackBinanceVenue":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- market driving ---------------------------------------------------------------------------

    def step_once(self) -> list[tuple[str, dict]]:
        """Advance the market one step, match resting orders; return the market messages."""
        try:
            step = next(self._steps)
        except StopIteration:
            self.source_exhausted = True
            from adapters.loopback.binance_futures.market import Step

            step = Step(self.market.ts_ms + self.config.step_ms, {})
        messages = self.market.apply(step)
        events: list[dict] = []
        for sym in self.specs:
            events += self.engine.on_book(sym, self.market.book(sym))
        if events:
            self.hub.emit_user(events)
        return messages

    async def step_and_publish(self, n: int = 1) -> None:
        """Advance ``n`` steps and publish each to subscribers."""
        for _ in range(n):
            await self.hub.publish(self.step_once())

    async def _drive(self) -> None:
        interval = self.config.step_interval_secs
        while True:
            if self.paused or interval <= 0:
                await asyncio.sleep(0.05)
                continue
            await self.step_and_publish()
            await asyncio.sleep(interval)

    # -- middleware and helpers -------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        path = request.path
        if path.startswith("/fapi/"):
            self.requests[f"{request.method} {path}"] += 1
            limited = self.faults.take_rate_limit(request.method, path)
            if limited is not None:
                err = VenueError(
                    -1003,
                    "Too many requests; current limit is exceeded.",
                    status=429,
                    retry_after=limited.retry_after,
                )
                return self._error(err)
            stall = self.faults.take_stall(request.method, path)
            if stall > 0:
                await asyncio.sleep(stall)
        try:
            return await handler(request)
        except VenueError as err:
            return self._error(err)

    @staticmethod
    def _error(err: VenueError) -> web.Response:
        headers = {"Retry-After": str(err.retry_after)} if err.retry_after is not None else None
        return web.json_response(err.body(), status=err.status, headers=headers)

    def _signed(self, handler: Any) -> Any:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            self.auth.check_signed(
                request.headers.get("X-MBX-APIKEY"),
                request.rel_url.raw_query_string,
                dict(request.query),
                _wall_ms(),
            )
            return await handler(request)

        return wrapped

    def _symbol(self, params: Any, required: bool = True) -> str | None:
        sym = params.get("symbol")
        if sym is None:
            if required:
                raise VenueError(
                    -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."
                )
            return None
        self.engine.spec(sym)
        return sym

    # -- public endpoints -------------------------------------------------------------------------

    async def _ping(self, request: web.Request) -> web.Response:
        return web.json_response({})

    async def _time(self, request: web.Request) -> web.Response:
        return web.json_response({"serverTime": _wall_ms()})

    async def _exchange_info(self, request: web.Request) -> web.Response:
        return web.json_response(exchange_info(self.specs, _wall_ms()))

    async def _depth(self, request: web.Request) -> web.Response:
        sym = self._symbol(request.query)
        limit = _int(request.query, "limit") or 500
        return web.json_response(self.market.depth_snapshot(sym, limit))

    async def _klines(self, request: web.Request) -> web.Response:
        q = request.query
        sym = self._symbol(q)
        interval = q.get("interval", "")
        if interval not in KLINE_INTERVALS_MS:
            raise VenueError(-1120, "Invalid interval.")
        limit = min(_int(q, "limit") or 500, 1500)
        rows = self.market.kline_rows(sym, interval, _int(q, "startTime"), _int(q, "endTime"), limit)
        return web.json_response(rows)

    async def _trades(self, request: web.Request) -> web.Response:
        sym = self._symbol(request.query)
        limit = min(_int(request.query, "limit") or 500, 1000)
        return web.json_response(self.market.trade_rows(sym, limit, agg=False))

    async def _agg_trades(self, request: web.Request) -> web.Response:
        sym = self._symbol(request.query)
        limit = min(_int(request.query, "limit") or 500, 1000)
        return web.json_response(self.market.trade_rows(sym, limit, agg=True))

    async def _book_ticker(self, request: web.Request) -> web.Response:
        sym = self._symbol(request.query, required=False)
        out = []
        for s in [sym] if sym else list(self.specs):
            book, spec = self.market.book(s), self.specs[s]
            out.append(
                {
                    "symbol": s,
                    "bidPrice": spec.fmt_price(book.bid),
                    "bidQty": spec.fmt_qty(book.bid_qty),
                    "askPrice": spec.fmt_price(book.ask),
                    "askQty": spec.fmt_qty(book.ask_qty),
                    "time": self.market.ts_ms,
                }
            )
        return web.json_response(out[0] if sym else out)

    async def _premium_index(self, request: web.Request) -> web.Response:
        sym = self._symbol(request.query)
        mark = self.specs[sym].fmt_price(self.market.book(sym).mark)
        return web.json_response(
            {
                "symbol": sym,
                "markPrice": mark,
                "indexPrice": mark,
                "estimatedSettlePrice": mark,
                "lastFundingRate": "0.00010000",
                "interestRate": "0.00010000",
                "nextFundingTime": 0,
                "time": self.market.ts_ms,
            }
        )

    # -- listen key (API key only) ----------------------------------------------------------------

    async def _listen_key(self, request: web.Request) -> web.Response:
        self.auth.check_key(request.headers.get("X-MBX-APIKEY"))
        if request.method == "POST":
            return web.json_response({"listenKey": self.listen_keys.create()})
        if request.method == "PUT":
            key = request.query.get("listenKey") or next(iter(self.listen_keys.active), None)
            self.listen_keys.keepalive(key)
            return web.json_response({"listenKey": key})
        if request.method == "DELETE":
            self.listen_keys.delete(
                request.query.get("listenKey") or next(iter(self.listen_keys.active), None)
            )
            return web.json_response({})
        raise VenueError(-1000, "Unsupported method.", status=405)

    # -- signed endpoints -------------------------------------------------------------------------

    async def _account(self, request: web.Request) -> web.Response:
        return web.json_response(rest.account_json(self.engine, _wall_ms()))

    async def _balance(self, request: web.Request) -> web.Response:
        return web.json_response(rest.balance_json(self.engine, _wall_ms()))

    async def _symbol_config(self, request: web.Request) -> web.Response:
        return web.json_response(rest.symbol_config_json(self.engine, self._symbol(request.query, False)))

    async def _dual_get(self, request: web.Request) -> web.Response:
        return web.json_response({"dualSidePosition": False})

    async def _dual_post(self, request: web.Request) -> web.Response:
        if request.query.get("dualSidePosition", "false").lower() == "true":
            raise VenueError(-4059, "The loopback venue supports one-way mode only.")
        raise VenueError(-4059, "No need to change position side.")

    async def _position_risk(self, request: web.Request) -> web.Response:
        sym = self._symbol(request.query, required=False)
        rows = [
            rest.position_risk_json(self.engine, p)
            for p in self.engine.positions.values()
            if sym is None or p.symbol == sym
        ]
        if request.path.startswith("/fapi/v3/"):
            rows = [r for r in rows if r["positionAmt"].strip("-0.") != ""]  # v3 lists open positions only
        return web.json_response(rows)

    async def _open_orders(self, request: web.Request) -> web.Response:
        sym = self._symbol(request.query, required=False)
        return web.json_response([rest.order_json(self.engine, o) for o in self.engine.open_orders(sym)])

    async def _all_orders(self, request: web.Request) -> web.Response:
        q = request.query
        sym = self._symbol(q)
        start, end = _int(q, "startTime"), _int(q, "endTime")
        limit = min(_int(q, "limit") or 500, 1000)
        rows = [
            o
            for o in self.engine.orders.values()
            if o.symbol == sym and (start is None or o.time >= start) and (end is None or o.time <= end)
        ]
        return web.json_response([rest.order_json(self.engine, o) for o in rows[-limit:]])

    async def _user_trades(self, request: web.Request) -> web.Response:
        q = request.query
        sym = self._symbol(q)
        start, end = _int(q, "startTime"), _int(q, "endTime")
        limit = min(_int(q, "limit") or 500, 1000)
        rows = [
            t
            for t in self.engine.account.trades
            if t.symbol == sym and (start is None or t.time >= start) and (end is None or t.time <= end)
        ]
        return web.json_response([rest.user_trade_json(self.engine, t) for t in rows[-limit:]])

    async def _commission_rate(self, request: web.Request) -> web.Response:
        sym = self._symbol(request.query)
        return web.json_response(
            {
                "symbol": sym,
                "makerCommissionRate": str(self.engine.maker_fee),
                "takerCommissionRate": str(self.engine.taker_fee),
            }
        )

    async def _leverage(self, request: web.Request) -> web.Response:
        sym = self._symbol(request.query)
        pos = self.engine.set_leverage(sym, _int(request.query, "leverage") or 0)
        return web.json_response({"leverage": pos.leverage, "maxNotionalValue": "250000000", "symbol": sym})

    async def _margin_type(self, request: web.Request) -> web.Response:
        sym = self._symbol(request.query)
        self.engine.set_margin_type(sym, request.query.get("marginType", ""))
        return web.json_response({"code": 200, "msg": "success"})

    async def _query_order(self, request: web.Request) -> web.Response:
        q = request.query
        sym = self._symbol(q)
        order = self.engine.find_order(sym, _int(q, "orderId"), q.get("origClientOrderId"))
        return web.json_response(rest.order_json(self.engine, order))

    async def _new_order(self, request: web.Request) -> web.Response:
        q = request.query
        sym = self._symbol(q)
        fault = self.faults.take_reject()
        if fault is not None:
            raise VenueError(fault.code, fault.msg, status=fault.status)
        if q.get("positionSide", "BOTH") != "BOTH":
            raise VenueError(-4061, "Order's position side does not match user's setting.")
        order, events = self.engine.place(
            symbol=sym,
            side=q.get("side", ""),
            type_=q.get("type", ""),
            qty=_dec(q, "quantity"),
            price=_dec(q, "price", required=False),
            tif=q.get("timeInForce"),
            reduce_only=q.get("reduceOnly", "false").lower() == "true",
            client_order_id=q.get("newClientOrderId"),
        )
        self.hub.emit_user(events)
        return web.json_response(rest.order_json(self.engine, order))

    async def _modify_order(self, request: web.Request) -> web.Response:
        q = request.query
        sym = self._symbol(q)
        order, events = self.engine.modify(
            sym, _int(q, "orderId"), q.get("origClientOrderId"), _dec(q, "quantity"), _dec(q, "price")
        )
        self.hub.emit_user(events)
        return web.json_response(rest.order_json(self.engine, order))

    async def _cancel_order(self, request: web.Request) -> web.Response:
        q = request.query
        sym = self._symbol(q)
        order, events = self.engine.cancel(sym, _int(q, "orderId"), q.get("origClientOrderId"))
        self.hub.emit_user(events)
        return web.json_response(rest.order_json(self.engine, order))

    async def _cancel_all(self, request: web.Request) -> web.Response:
        sym = self._symbol(request.query)
        self.hub.emit_user(self.engine.cancel_all(sym))
        return web.json_response({"code": 200, "msg": "The operation of cancel all open order is done."})

    async def _cancel_batch(self, request: web.Request) -> web.Response:
        import json

        q = request.query
        sym = self._symbol(q)
        ids = json.loads(q.get("orderIdList") or "[]")
        cids = json.loads(q.get("origClientOrderIdList") or "[]")
        out: list[dict] = []
        for oid, cid in [(int(i), None) for i in ids] + [(None, str(c)) for c in cids]:
            try:
                order, events = self.engine.cancel(sym, oid, cid)
                self.hub.emit_user(events)
                out.append(rest.order_json(self.engine, order))
            except VenueError as err:
                out.append(err.body())
        return web.json_response(out)
