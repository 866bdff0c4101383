"""One supervised ``hazelcast.HazelcastClient``: built with its lifecycle states on a queue, shut down quietly.

Shared by ``HazelcastFeed`` (reading, providers.py) and ``HazelcastWriter`` (writing, writer.py).
Each owns one client built from ``HazelcastClientSettings.client_kwargs`` (``async_start``: the
constructor returns at once) and a supervisor thread that receives the client's lifecycle states as
``(STATE, (generation, state))`` on its queue. The generation tells a replaced client's late
events from the current one's: the supervisor ignores states of an older generation.
"""

import logging
import queue
from collections.abc import Callable
from typing import Any

from adapters.hazelcast.config import HazelcastClientSettings

log = logging.getLogger(__name__)

STATE = "state"
"""Queue message kind of a lifecycle state: ``(STATE, (generation, state))``."""


def build_client(
    settings: HazelcastClientSettings,
    events: queue.Queue,
    generation: int,
    count: Callable[[str], None],
    what: str,
) -> Any:
    """Create a client whose lifecycle states go to ``events`` tagged with ``generation``.

    Counts ``client_builds`` or ``client_build_failures`` through ``count``; never raises.

    Returns
    -------
    hazelcast.HazelcastClient or None
        None when the constructor raised (logged as a warning prefixed by ``what``).
    """
    import hazelcast

    kwargs = settings.client_kwargs()
    kwargs["lifecycle_listeners"] = [lambda state: events.put((STATE, (generation, state)))]
    try:
        client = hazelcast.HazelcastClient(**kwargs)  # async_start: returns at once
    except Exception as exc:
        count("client_build_failures")
        log.warning("%s: cannot create Hazelcast client: %r", what, exc)
        return None
    count("client_builds")
    return client


def shutdown_client(client: Any, what: str) -> None:
    """Shut ``client`` down (None: nothing to do); an error is logged, never raised."""
    if client is None:
        return
    try:
        client.shutdown()
    except Exception as exc:
        log.info("%s: client shutdown raised %r", what, exc)
