"""Loopback Hazelcast TEST MEMBER: a test stand-in for a real Hazelcast cluster (tests, local demos).

Speaks the subset of the Open Binary Client Protocol that hazelcast-python-client 5.7.x needs for
IMap work, on 127.0.0.1 only. Not a Hazelcast server; never point production at it.
"""

from adapters.loopback.hazelcast.member import DEFAULT_CLUSTER_NAME
from adapters.loopback.hazelcast.member import HazelcastTestMember
from adapters.loopback.hazelcast.member import free_port
from adapters.loopback.hazelcast.member import wait_until

__all__ = ["DEFAULT_CLUSTER_NAME", "HazelcastTestMember", "free_port", "wait_until"]
