"""Market data: the scan schema, the asset universe, the synthetic market and the vbt_cache loader."""
