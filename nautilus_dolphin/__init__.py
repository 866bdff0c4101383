"""DOLPHIN NG alpha engine (the D_LIQ_GOLD stack) as a plain Python library.

Nothing in this package imports the Nautilus runtime; the Nautilus-facing code lives in
``strategies`` and ``adapters``.
"""

__version__ = "0.1.0"
