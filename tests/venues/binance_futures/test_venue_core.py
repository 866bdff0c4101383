"""The loopback Binance USDT-M venue (a test stand-in) on its own: matching core, Binance error
codes over real HTTP, stream sequencing over a real WebSocket, faults and DataFrame replay."""

import asyncio
import itertools
import json
import time
import urllib.parse
from decimal import Decimal

import aiohttp
import pandas as pd
import pytest

from adapters.loopback.binance_futures import LoopbackBinanceVenue
from adapters.loopback.binance_futures import VenueConfig
from adapters.loopback.binance_futures.auth import sign
from adapters.loopback.binance_futures.errors import VenueError
from adapters.loopback.binance_futures.instruments import universe_specs
from adapters.loopback.binance_futures.market import FrameSource
from adapters.loopback.binance_futures.matching import Book
from adapters.loopback.binance_futures.matching import MatchingEngine

KEY, SECRET = "k-test", "s-test"
D = Decimal


def _engine(wallet: str = "10000") -> MatchingEngine:
    eng = MatchingEngine(
        universe_specs(["BTCUSDT", "ETHUSDT"]), wallet=D(wallet), clock_ms=lambda: 1_700_000_000_000
    )
    eng.on_book(
        "BTCUSDT",
        Book(bid=D("90000.0"), ask=D("90000.1"), bid_qty=D("0.5"), ask_qty=D("0.5"), mark=D("90000.0")),
    )
    return eng


# -- matching core ---------------------------------------------------------------------------


def test_market_order_walks_levels_in_partial_fills():
    eng = _engine("100000")
    order, events = eng.place("BTCUSDT", "BUY", "MARKET", D("1.200"), None, None, False, "c1")
    trades = [e["o"] for e in events if e["e"] == "ORDER_TRADE_UPDATE" and e["o"]["x"] == "TRADE"]
    assert [(t["L"], t["l"], t["X"]) for t in trades] == [
        ("90000.1", "0.500", "PARTIALLY_FILLED"),
        ("90000.2", "0.500", "PARTIALLY_FILLED"),
        ("90000.3", "0.200", "FILLED"),
    ]
    assert order.status == "FILLED" and eng.positions["BTCUSDT"].amount == D("1.200")
    assert events[0]["o"]["x"] == "NEW"
    assert [e["e"] for e in events[1:4]] == ["TRADE_LITE", "ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE"]
    # taker fee 0.0005 on each fill came off the wallet
    fees = sum(D(t["n"]) for t in trades)
    assert fees == sum((D(t["L"]) * D(t["l"]) * D("0.0005")).quantize(D("1e-8")) for t in trades)
    assert eng.account.wallet == D("100000") - fees


def test_resting_limit_fills_as_maker_partially_per_quote():
    eng = _engine()
    order, events = eng.place("BTCUSDT", "BUY", "LIMIT", D("0.800"), D("89000.0"), "GTC", False, "c2")
    assert order.status == "NEW" and len(events) == 1
    ev = eng.on_book("BTCUSDT", Book(D("88999.0"), D("88999.1"), D("0.5"), D("0.5"), D("88999.0")))
    fills = [e["o"] for e in ev if e["e"] == "ORDER_TRADE_UPDATE"]
    assert [(f["L"], f["l"], f["m"], f["X"]) for f in fills] == [
        ("89000.0", "0.500", True, "PARTIALLY_FILLED")
    ]
    ev = eng.on_book("BTCUSDT", Book(D("88999.0"), D("88999.1"), D("0.5"), D("0.5"), D("88999.0")))
    assert [e["o"]["X"] for e in ev if e["e"] == "ORDER_TRADE_UPDATE"] == ["FILLED"]
    assert D(fills[0]["n"]) == (D("89000.0") * D("0.5") * D("0.0002")).quantize(D("1e-8"))  # maker fee


def test_reduce_only_rules_and_netting_flip():
    eng = _engine()
    with pytest.raises(VenueError) as err:
        eng.place("BTCUSDT", "SELL", "MARKET", D("0.010"), None, None, True, "r1")
    assert err.value.code == -2022
    eng.place("BTCUSDT", "BUY", "MARKET", D("0.010"), None, None, False, "o1")
    order, _ = eng.place("BTCUSDT", "SELL", "MARKET", D("0.050"), None, None, True, "r2")
    assert order.qty == D("0.010") and eng.positions["BTCUSDT"].amount == 0  # clamped to the position
    eng.place("BTCUSDT", "BUY", "MARKET", D("0.010"), None, None, False, "o2")
    eng.place("BTCUSDT", "SELL", "MARKET", D("0.030"), None, None, False, "o3")  # flips through zero
    pos = eng.positions["BTCUSDT"]
    assert pos.amount == D("-0.020") and pos.entry_price == D("90000.0")


def test_margin_and_liquidation_price_cross_and_isolated():
    eng = _engine("1000")
    with pytest.raises(VenueError) as err:  # 0.3 BTC at 20x needs ~1350 USDT
        eng.place("BTCUSDT", "BUY", "MARKET", D("0.300"), None, None, False, "m1")
    assert err.value.code == -2019
    eng.set_margin_type("BTCUSDT", "ISOLATED")
    eng.set_leverage("BTCUSDT", 10)
    eng.place("BTCUSDT", "BUY", "MARKET", D("0.100"), None, None, False, "m2")
    pos = eng.positions["BTCUSDT"]
    assert pos.isolated_wallet == D("900.001")  # 0.1 * 90000.1 / 10
    lp = eng.liquidation_price(pos)
    # LP = (iw - qty*entry) / (qty*mmr - qty) for a long
    expected = (D("900.001") - D("0.1") * D("90000.1")) / (D("0.1") * D("0.004") - D("0.1"))
    assert lp == expected and D("81000") < lp < D("81500")
    with pytest.raises(VenueError) as err:
        eng.set_margin_type("BTCUSDT", "CROSSED")
    assert err.value.code == -4048
    # the mark crossing the liquidation price closes the position with an autoclose order
    ev = eng.on_book("BTCUSDT", Book(D("81000.0"), D("81000.1"), D("0.5"), D("0.5"), D("81000.0")))
    liq = [e["o"] for e in ev if e["e"] == "ORDER_TRADE_UPDATE"]
    assert liq and liq[0]["c"].startswith("autoclose-") and liq[0]["x"] == "CALCULATED"
    assert eng.positions["BTCUSDT"].amount == 0


# -- REST, auth, errors, streams (in-process venue over real sockets) ------------------------


async def _signed(session, venue, method, path, params, secret=SECRET, ts=None):
    params = dict(params, timestamp=str(ts if ts is not None else int(time.time() * 1000)))
    query = urllib.parse.urlencode(params)
    url = f"{venue.http_url}{path}?{query}&signature={sign(secret, query)}"
    async with session.request(method, url, headers={"X-MBX-APIKEY": KEY}) as resp:
        return resp.status, await resp.json(), resp.headers


def _venue(**kw) -> LoopbackBinanceVenue:
    kw.setdefault("step_interval_secs", 0)
    return LoopbackBinanceVenue(
        VenueConfig(symbols=["BTCUSDT", "ETHUSDT"], api_key=KEY, api_secret=SECRET, **kw)
    )


@pytest.mark.timeout(30)
def test_auth_and_error_codes_over_http():
    async def main():
        async with _venue() as venue, aiohttp.ClientSession() as s:
            status, body, _ = await _signed(s, venue, "GET", "/fapi/v2/account", {}, secret="wrong")
            assert (status, body["code"]) == (400, -1022)
            status, body, _ = await _signed(
                s, venue, "GET", "/fapi/v2/account", {}, ts=int(time.time() * 1000) - 60_000
            )
            assert body["code"] == -1021
            status, body, _ = await _signed(s, venue, "GET", "/fapi/v2/account", {})
            assert status == 200 and body["assets"][0]["walletBalance"] == "10000.00000000"
            order = {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "positionSide": "BOTH",
                "reduceOnly": "False",
            }
            _, body, _ = await _signed(
                s, venue, "POST", "/fapi/v1/order", order | {"quantity": "0.0015", "price": "1000.0"}
            )
            assert body["code"] == -1111
            _, body, _ = await _signed(
                s,
                venue,
                "POST",
                "/fapi/v1/order",
                order | {"quantity": "0.010", "price": "99999.0", "timeInForce": "GTX"},
            )
            assert body["code"] == -5022
            _, body, _ = await _signed(
                s, venue, "DELETE", "/fapi/v1/order", {"symbol": "BTCUSDT", "orderId": "42"}
            )
            assert body["code"] == -2011
            _, body, _ = await _signed(
                s, venue, "GET", "/fapi/v1/order", {"symbol": "BTCUSDT", "origClientOrderId": "nope"}
            )
            assert body["code"] == -2013
            venue.faults.arm({"kind": "rate_limit", "path_prefix": "/fapi/v1/time", "retry_after": 7})
            async with s.get(f"{venue.http_url}/fapi/v1/time") as resp:
                assert resp.status == 429 and resp.headers["Retry-After"] == "7"
                assert (await resp.json())["code"] == -1003
            venue.faults.arm({"kind": "stall", "path_prefix": "/fapi/v1/time", "seconds": 0.5})
            t0 = time.monotonic()
            async with s.get(f"{venue.http_url}/fapi/v1/time") as resp:
                assert resp.status == 200
            assert time.monotonic() - t0 >= 0.5
            async with s.get(f"{venue.http_url}/fapi/v1/exchangeInfo") as resp:
                info = await resp.json()
            assert [x["symbol"] for x in info["symbols"]] == ["BTCUSDT", "ETHUSDT"]
            assert info["symbols"][0]["filters"][0]["tickSize"] == "0.1"

    asyncio.run(asyncio.wait_for(main(), 25))


@pytest.mark.timeout(30)
def test_streams_sequence_user_events_and_faults():
    async def main():
        async with _venue() as venue, aiohttp.ClientSession() as s:
            async with s.post(f"{venue.http_url}/fapi/v1/listenKey", headers={"X-MBX-APIKEY": KEY}) as r:
                key = (await r.json())["listenKey"]
            md = await s.ws_connect(f"{venue.ws_url}/stream?streams=btcusdt@depth@100ms")
            await md.send_str(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@bookTicker"], "id": 1}))
            assert json.loads((await md.receive(timeout=5)).data) == {"result": None, "id": 1}
            user = await s.ws_connect(f"{venue.ws_url}/stream?streams={key}")
            async with s.get(f"{venue.http_url}/fapi/v1/depth?symbol=BTCUSDT&limit=5") as r:
                snap = await r.json()
            await asyncio.sleep(0.1)
            await venue.step_and_publish(5)
            diffs, tickers = [], []
            while len(diffs) < 5:
                msg = json.loads((await md.receive(timeout=5)).data)
                (diffs if msg["data"]["e"] == "depthUpdate" else tickers).append(msg["data"])
            assert diffs[0]["pu"] == snap["lastUpdateId"] and diffs[0]["U"] == snap["lastUpdateId"] + 1
            for prev, cur in itertools.pairwise(diffs):
                assert cur["pu"] == prev["u"] and cur["U"] == prev["u"] + 1 and cur["u"] >= cur["U"]
            assert tickers and tickers[0]["e"] == "bookTicker"
            # a dropped TRADE event: NEW arrives, TRADE does not, ACCOUNT_UPDATE does
            venue.faults.arm(
                {"kind": "drop_user_events", "event": "ORDER_TRADE_UPDATE", "exec_type": "TRADE"}
            )
            status, _, _ = await _signed(
                s,
                venue,
                "POST",
                "/fapi/v1/order",
                {
                    "symbol": "BTCUSDT",
                    "side": "BUY",
                    "type": "MARKET",
                    "quantity": "0.010",
                    "newClientOrderId": "u1",
                },
            )
            assert status == 200
            got = []
            while len(got) < 3:
                got.append(json.loads((await user.receive(timeout=5)).data))
            assert all(m["stream"] == key for m in got)
            assert [(m["data"]["e"], m["data"].get("o", {}).get("x")) for m in got] == [
                ("ORDER_TRADE_UPDATE", "NEW"),
                ("TRADE_LITE", None),
                ("ACCOUNT_UPDATE", None),
            ]
            # listen key expiry: the stream gets listenKeyExpired and keepalive answers -1125
            await venue.hub.expire_listen_keys(venue.engine.clock_ms())
            assert json.loads((await user.receive(timeout=5)).data)["data"]["e"] == "listenKeyExpired"
            async with s.put(
                f"{venue.http_url}/fapi/v1/listenKey?listenKey={key}", headers={"X-MBX-APIKEY": KEY}
            ) as r:
                assert (await r.json())["code"] == -1125
            assert await venue.hub.close("market") == 1
            kinds = set()
            while not kinds & {aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING}:
                kinds.add((await md.receive(timeout=5)).type)  # buffered pushes first, then the close
            assert md.closed or aiohttp.WSMsgType.CLOSE in kinds
            await user.close()

    asyncio.run(asyncio.wait_for(main(), 25))


@pytest.mark.timeout(30)
def test_replays_vbt_cache_frame_and_closes_klines():
    ts = pd.date_range("2026-01-05", periods=30, freq="5s", tz="UTC")
    frame = pd.DataFrame(
        {
            "timestamp": ts,
            "scan_number": range(30),
            "vel_div": 0.0,
            "BTCUSDT": [93000.0 + 10 * i for i in range(30)],
            "ETHUSDT": [3200.0] * 29 + [float("nan")],
        }
    )
    src = FrameSource(frame, ["BTCUSDT", "ETHUSDT"])
    steps = list(src)
    assert len(steps) == 30 and src.skipped == 1 and "ETHUSDT" not in steps[-1].prices
    with pytest.raises(ValueError, match="SOLUSDT"):
        FrameSource(frame, ["BTCUSDT", "SOLUSDT"])

    async def main():
        async with _venue(replay_frame=frame) as venue, aiohttp.ClientSession() as s:
            await venue.step_and_publish(29)  # the venue applied row 0 at construction
            assert venue.market.ts_ms == int(ts[-1].timestamp() * 1000)
            assert venue.market.book("BTCUSDT").bid == D("93290.0")
            async with s.get(f"{venue.http_url}/fapi/v1/klines?symbol=BTCUSDT&interval=1m&limit=10") as r:
                rows = await r.json()
            assert [r[0] for r in rows] == [int(ts[0].timestamp() * 1000), int(ts[12].timestamp() * 1000)]
            start = int(ts[12].timestamp() * 1000)
            async with s.get(
                f"{venue.http_url}/fapi/v1/klines?symbol=BTCUSDT&interval=1m&startTime={start}"
            ) as r:
                assert [r[0] for r in await r.json()] == [start]
            await venue.step_and_publish(1)
            assert venue.source_exhausted and venue.market.book("BTCUSDT").bid == D("93290.0")

    asyncio.run(asyncio.wait_for(main(), 25))
