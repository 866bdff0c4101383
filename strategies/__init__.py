"""Nautilus-facing code: custom data types, DolphinStrategy, fee model, catalog and node builders."""
