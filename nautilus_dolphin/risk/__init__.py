"""Risk layers: ACBv6 (per-day boost and beta) and the MC-Forewarner (OK / ORANGE / RED).

Training (``risk.mc_train``) and the CLI (``risk.cli``) are not imported here.
"""

from nautilus_dolphin.risk.acb import ACBConfig
from nautilus_dolphin.risk.acb import ACBDay
from nautilus_dolphin.risk.acb import AdaptiveCircuitBreaker
from nautilus_dolphin.risk.forewarner import DolphinForewarner
from nautilus_dolphin.risk.forewarner import ForewarnerModelError
from nautilus_dolphin.risk.forewarner import ForewarnerModelMissing
from nautilus_dolphin.risk.forewarner import MCAssessment

__all__ = [
    "ACBConfig",
    "ACBDay",
    "AdaptiveCircuitBreaker",
    "DolphinForewarner",
    "ForewarnerModelError",
    "ForewarnerModelMissing",
    "MCAssessment",
]
