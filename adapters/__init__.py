"""Nautilus adapters (Hazelcast) and the loopback test stand-ins for external venues."""
