"""A real TradingNode with the real Nautilus Binance data + execution clients against the loopback
Binance USDT-M venue (a test stand-in): data, orders, positions, balances, rejections."""

from decimal import Decimal

import pytest

pytestmark = pytest.mark.binance_exec  # the real Binance exec client: a clean process (conftest)

BTC = "BTCUSDT-PERP.BINANCE"
ETH = "ETHUSDT-PERP.BINANCE"


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_data_orders_positions_and_balances(venue, node_kit):
    """Instruments load; quotes/trades/bars arrive; market fill opens a position; a limit rests
    and is cancelled; reduce-only closes; balances follow ACCOUNT_UPDATE."""
    wait_for = node_kit.wait_for

    async def scenario(run):
        from nautilus_trader.model.currencies import USDT
        from nautilus_trader.model.enums import OrderStatus
        from nautilus_trader.model.identifiers import InstrumentId

        cache, strat = run.cache, run.strategy
        # 1. instruments loaded from exchangeInfo with the universe's tick/step sizes
        btc = cache.instrument(InstrumentId.from_str(BTC))
        eth = cache.instrument(InstrumentId.from_str(ETH))
        assert btc is not None and eth is not None
        assert str(btc.price_increment) == "0.1" and str(btc.size_increment) == "0.001"
        assert str(eth.price_increment) == "0.01"
        # 2. quotes, trades and (closed 1-minute) bars arrive for both instruments
        await wait_for(lambda: all(strat.quotes.get(i, 0) >= 5 for i in run.iids), 10, "quotes")
        await wait_for(lambda: all(strat.trades.get(i, 0) >= 5 for i in run.iids), 10, "trades")
        await wait_for(
            lambda: {str(b.bar_type.instrument_id) for b in strat.bars} == set(run.iids), 15, "bars"
        )
        bar = strat.bars[-1]
        assert bar.high >= bar.low and bar.volume > 0
        account = run.account()
        start_total = account.balance_total(USDT).as_decimal()
        assert start_total == Decimal("10000")

        # 3. market order fills and opens a NETTING long position
        await run.venue.acontrol("prices", {"prices": {"BTCUSDT": 90000.0}})
        order = strat.market(BTC, "BUY", "0.010")
        await wait_for(
            lambda: cache.order(order.client_order_id).status == OrderStatus.FILLED, 10, "market fill"
        )
        positions = cache.positions_open(instrument_id=btc.id)
        assert len(positions) == 1 and positions[0].quantity == btc.make_qty(0.010)
        assert positions[0].is_long
        state = await run.venue.acontrol("state")
        assert state["positions"]["BTCUSDT"]["positionAmt"] == "0.010"

        # 4. balances follow ACCOUNT_UPDATE: wallet down by the taker commission
        fill_px = Decimal(state["trades"][-1]["price"])
        commission = Decimal(state["trades"][-1]["commission"])
        assert commission == (fill_px * Decimal("0.010") * Decimal("0.0005")).quantize(Decimal("1e-8"))
        await wait_for(
            lambda: run.account().balance_total(USDT).as_decimal() == Decimal("10000") - commission,
            5,
            f"balance 10000 - {commission}",
            show=lambda: (str(run.account().balance_total(USDT)), run.account().last_event),
        )

        # 5. a limit order far from the market rests (ACCEPTED) and is cancelled
        limit = strat.limit(ETH, "BUY", "0.100", "2000.00")
        await wait_for(
            lambda: cache.order(limit.client_order_id).status == OrderStatus.ACCEPTED, 10, "limit accepted"
        )
        state = await run.venue.acontrol("state")
        assert [o["clientOrderId"] for o in state["open_orders"]] == [limit.client_order_id.value]
        strat.cancel_order(cache.order(limit.client_order_id))
        await wait_for(
            lambda: cache.order(limit.client_order_id).status == OrderStatus.CANCELED, 10, "cancel"
        )
        assert (await run.venue.acontrol("state"))["open_orders"] == []

        # 6. a reduce-only market order closes the position; realised PnL reaches the wallet
        await run.venue.acontrol("prices", {"prices": {"BTCUSDT": 91000.0}})
        close = strat.market(BTC, "SELL", "0.010", reduce_only=True)
        await wait_for(
            lambda: cache.order(close.client_order_id).status == OrderStatus.FILLED, 10, "close fill"
        )
        await wait_for(lambda: not cache.positions_open(instrument_id=btc.id), 5, "position closed")
        state = await run.venue.acontrol("state")
        assert "BTCUSDT" not in state["positions"]
        wallet = Decimal(state["balances"]["wallet"])
        assert wallet > Decimal("10000")  # +~10 USDT PnL minus two commissions
        await wait_for(
            lambda: run.account().balance_total(USDT).as_decimal() == wallet,
            5,
            f"balance {wallet}",
            show=lambda: (str(run.account().balance_total(USDT)), run.account().last_event),
        )
        run.notes["events"] = strat.event_names()

    run = node_kit.run_node(venue, scenario, deadline=60)
    assert "OrderFilled" in run.notes["events"] and "OrderCanceled" in run.notes["events"]


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_rejections_become_order_rejected(venue, node_kit):
    """A venue -2019 (margin insufficient) and an injected -1111 both end as OrderRejected."""
    wait_for = node_kit.wait_for

    async def scenario(run):
        from nautilus_trader.model.enums import OrderStatus

        cache, strat = run.cache, run.strategy
        await wait_for(lambda: strat.quotes.get(BTC, 0) > 0, 10, "BTC quotes")
        # 10 BTC at ~93k and 20x needs ~46k USDT of margin; the wallet holds 10k
        big = strat.market(BTC, "BUY", "10.000")
        await wait_for(
            lambda: cache.order(big.client_order_id).status == OrderStatus.REJECTED, 10, "-2019 reject"
        )
        rejected = [e for e in strat.events if type(e).__name__ == "OrderRejected"]
        assert "-2019" in rejected[-1].reason and "Margin is insufficient" in rejected[-1].reason

        await run.venue.acontrol(
            "faults",
            {
                "kind": "reject_orders",
                "count": 1,
                "code": -1111,
                "msg": "Precision is over the maximum defined for this asset.",
            },
        )
        small = strat.market(BTC, "BUY", "0.001")
        await wait_for(lambda: cache.order(small.client_order_id).status == OrderStatus.REJECTED, 10, "-1111")
        assert "-1111" in [e for e in strat.events if type(e).__name__ == "OrderRejected"][-1].reason
        # the fault was consumed: the next order is accepted and fills
        ok = strat.market(BTC, "BUY", "0.001")
        await wait_for(
            lambda: cache.order(ok.client_order_id).status == OrderStatus.FILLED, 10, "fill after fault"
        )
        state = await run.venue.acontrol("state")
        assert [f["fault"] for f in state["faults_fired"]] == ["reject"]
        assert state["positions"]["BTCUSDT"]["positionAmt"] == "0.001"

    node_kit.run_node(venue, scenario, deadline=40)


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_wrong_secret_never_starts_strategies(venue, node_kit):
    """With a wrong API secret the venue answers -1022; the node never starts its strategies."""
    observed = {}

    async def scenario(run):
        import asyncio

        # timeout_connection is 3 s: well past it the strategy must still not have started
        await asyncio.sleep(6.0)
        observed["started"] = run.strategy.started
        observed["trader_state"] = run.node.trader.state.name
        observed["state"] = await run.venue.acontrol("state")

    node_kit.run_node(
        venue, scenario, api_secret="not-the-secret", wait_started=False, timeout_connection=3.0, deadline=15
    )
    assert observed["started"] is False
    assert observed["trader_state"] != "RUNNING"
    assert observed["state"]["auth_failures"] >= 1
    assert observed["state"]["orders"] == []
    assert observed["state"]["ws_connections"]["user"] == 0
