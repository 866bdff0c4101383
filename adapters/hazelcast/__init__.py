"""hazelcast package."""
