"""The DOLPHIN alpha engine: NDAlphaEngine, its layers and factories."""

from nautilus_dolphin.engine.base import EntryEvent
from nautilus_dolphin.engine.base import ExitEvent
from nautilus_dolphin.engine.base import ExitIntent
from nautilus_dolphin.engine.base import NDAlphaEngine
from nautilus_dolphin.engine.factories import BOOST_MODES
from nautilus_dolphin.engine.factories import create_boost_engine
from nautilus_dolphin.engine.factories import create_d_liq_engine
from nautilus_dolphin.engine.layers import AdaptiveBoostEngine
from nautilus_dolphin.engine.layers import ExtendedLeverageEngine
from nautilus_dolphin.engine.layers import LiquidationGuardEngine
from nautilus_dolphin.engine.layers import ProxyBaseEngine
from nautilus_dolphin.engine.records import NDTradeRecord

__all__ = [
    "BOOST_MODES",
    "AdaptiveBoostEngine",
    "EntryEvent",
    "ExitEvent",
    "ExitIntent",
    "ExtendedLeverageEngine",
    "LiquidationGuardEngine",
    "NDAlphaEngine",
    "NDTradeRecord",
    "ProxyBaseEngine",
    "create_boost_engine",
    "create_d_liq_engine",
]
