"""``HazelcastLiveDataClientFactory``: builds ``HazelcastDataClient`` for a ``TradingNode``.

Usage::

    node.add_data_client_factory("HAZELCAST", HazelcastLiveDataClientFactory)
    # with TradingNodeConfig(data_clients={"HAZELCAST": HazelcastDataClientConfig(...)})
"""

import asyncio

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.live.factories import LiveDataClientFactory
from nautilus_trader.model.identifiers import ClientId

from adapters.hazelcast.config import HazelcastDataClientConfig
from adapters.hazelcast.data import HazelcastDataClient


class HazelcastLiveDataClientFactory(LiveDataClientFactory):
    """Factory for ``HazelcastDataClient`` (client id = the name in ``data_clients``)."""

    @staticmethod
    def create(  # type: ignore[override]
        loop: asyncio.AbstractEventLoop,
        name: str,
        config: HazelcastDataClientConfig,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
    ) -> HazelcastDataClient:
        """Create a data client for the node's loop and components."""
        return HazelcastDataClient(
            loop=loop, client_id=ClientId(name), msgbus=msgbus, cache=cache, clock=clock, config=config
        )
