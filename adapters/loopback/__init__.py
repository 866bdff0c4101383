"""Loopback TEST STAND-INS for external systems (a Hazelcast member, a Binance USDT-M venue).

They exist so the real client libraries can be exercised over real sockets on 127.0.0.1 in
tests and local demos. They are not products and are never used in production.
"""
