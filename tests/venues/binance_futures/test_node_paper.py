"""Paper variant: the real Nautilus Binance data client against the loopback Binance USDT-M venue
(a test stand-in) plus the Nautilus sandbox execution client, which fills from that market data."""

from decimal import Decimal

import pytest

BTC = "BTCUSDT-PERP.BINANCE"


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_sandbox_fills_market_order_from_venue_quotes(venue, node_kit):
    wait_for = node_kit.wait_for
    seen = {}

    async def scenario(run):
        from nautilus_trader.model.enums import OrderStatus
        from nautilus_trader.model.identifiers import InstrumentId

        cache, strat = run.cache, run.strategy
        await wait_for(lambda: strat.quotes.get(BTC, 0) >= 3, 10, "BTC quotes")
        await run.venue.acontrol("prices", {"prices": {"BTCUSDT": 90000.0}})
        await wait_for(
            lambda: (
                (q := cache.quote_tick(InstrumentId.from_str(BTC))) is not None
                and q.bid_price.as_decimal() == Decimal("90000.0")
            ),
            10,
            "pinned quote reaches the node",
        )
        order = strat.market(BTC, "BUY", "0.010")
        await wait_for(
            lambda: cache.order(order.client_order_id).status == OrderStatus.FILLED, 10, "paper fill"
        )
        filled = cache.order(order.client_order_id)
        seen["avg_px"] = Decimal(str(round(filled.avg_px, 1)))  # avg_px is a float
        seen["positions"] = [(p.side.name, str(p.quantity)) for p in cache.positions_open()]
        seen["venue"] = await run.venue.acontrol("state")

    # quotes only: trade ticks would also move the sandbox's L1 book (with tiny sizes)
    node_kit.run_node(
        venue,
        scenario,
        exec_kind="sandbox",
        deadline=30,
        strategy_kwargs={"subscribe_trades": False, "subscribe_bars": False},
    )
    assert seen["avg_px"] == Decimal("90000.1")  # the venue's ask: bid 90000.0 + one tick
    assert seen["positions"] == [("LONG", "0.010")]
    # paper trading never sent an order to the venue
    assert seen["venue"]["orders"] == [] and seen["venue"]["auth_failures"] == 0
