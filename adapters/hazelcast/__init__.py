"""Hazelcast adapter: DOLPHIN order-book snapshots (and scans) from a Hazelcast IMap.

- ``config``: ``HazelcastClientSettings``, ``HazelcastDataClientConfig``
- ``providers``: ``HazelcastFeed`` (resilient client + newest snapshot per asset), ``HZOBProvider``
  (the ``OBProvider`` for ``OBFeatureEngine.step_live``)
- ``data``: ``HazelcastDataClient`` (Nautilus ``LiveDataClient``)
- ``factories``: ``HazelcastLiveDataClientFactory``
- ``lifecycle``: the client build/shutdown shared by ``HazelcastFeed`` and ``HazelcastWriter``
- ``writer``, ``publisher``, ``publisher_cli``: ``dolphin obf-publish`` (Binance L2 books -> Hazelcast)
- ``replay``, ``replay_cli``: ``dolphin replay`` (a catalog window -> Hazelcast); ``demo_node``

Submodules are imported on demand so ``HZOBProvider`` works without a Nautilus node.
"""
