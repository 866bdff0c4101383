"""Hazelcast adapter: DOLPHIN order-book snapshots (and scans) from a Hazelcast IMap.

- ``config``: ``HazelcastClientSettings``, ``HazelcastDataClientConfig``
- ``providers``: ``HazelcastFeed`` (resilient client + newest snapshot per asset), ``HZOBProvider``
  (the ``OBProvider`` for ``OBFeatureEngine.step_live``)
- ``data``: ``HazelcastDataClient`` (Nautilus ``LiveDataClient``)
- ``factories``: ``HazelcastLiveDataClientFactory``

Submodules are imported on demand so ``HZOBProvider`` works without a Nautilus node.
"""
