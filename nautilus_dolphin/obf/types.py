"""Order-book snapshot, provider interface and the feature records the engine reads.

This module is the contract between the OB feature engine (``obf``), the alpha engine
(``engine``), the Hazelcast provider (``adapters.hazelcast``) and the catalog. It holds data
only.
"""

from dataclasses import dataclass
from typing import Protocol
from typing import runtime_checkable

import numpy as np

N_LEVELS: int = 5
"""Levels per side in the DOLPHIN payload (seed 000 §2)."""

# Cascade regimes, most benign first; the engine compares with >=.
CASCADE_CALM: int = 0
CASCADE_STRESSED: int = 1
CASCADE_CASCADE: int = 2
CASCADE_NAMES: tuple[str, ...] = ("CALM", "STRESSED", "CASCADE")


@dataclass(frozen=True, slots=True)
class OBSnapshot:
    """One 5-level order-book snapshot of one asset (the HZ payload of seed 000 §2, decoded).

    ``bid_notional``/``ask_notional`` are USD notional per level, ``bid_depth``/``ask_depth`` the
    base-asset quantity per level; level 0 is the top of book. ``timestamp`` is unix seconds
    (float); ``pushed_at`` and ``push_seq`` come from the publisher (NaN / -1 when unknown).
    """

    asset: str
    timestamp: float
    bid_notional: np.ndarray
    ask_notional: np.ndarray
    bid_depth: np.ndarray
    ask_depth: np.ndarray
    pushed_at: float = float("nan")
    push_seq: int = -1


@runtime_checkable
class OBProvider(Protocol):
    """Source of order-book snapshots for ``OBFeatureEngine``.

    Backtest providers return every recorded timestamp from ``get_all_timestamps``; live
    providers return ``[]`` there and serve the newest snapshot from ``get_snapshot``.
    """

    def get_snapshot(self, asset: str, timestamp: float) -> OBSnapshot | None:
        """Return the snapshot valid at ``timestamp`` (unix s), or None when there is none."""
        ...

    def get_all_timestamps(self, asset: str) -> list[float]:
        """Return all recorded snapshot timestamps of ``asset`` (unix s, ascending)."""
        ...


@dataclass(frozen=True, slots=True)
class OBPlacementFeatures:
    """Where an order can be placed: depth, its quality, fill probability and spread."""

    depth_1pct_usd: float = 0.0
    depth_quality: float = 1.0
    fill_probability: float = 0.0
    spread_proxy_bps: float = 0.0


@dataclass(frozen=True, slots=True)
class OBSignalFeatures:
    """Per-asset directional pressure: imbalance and its persistence, depth withdrawal."""

    imbalance: float = 0.0
    imbalance_ma5: float = 0.0
    imbalance_persistence: float = 0.0
    depth_asymmetry: float = 0.0
    withdrawal_velocity: float = 0.0


@dataclass(frozen=True, slots=True)
class OBMacroFeatures:
    """Cross-asset view of all books for one bar."""

    median_imbalance: float = 0.0
    agreement_pct: float = 0.0
    depth_pressure: float = 0.0
    cascade_regime: int = CASCADE_CALM
    depth_velocity: float = 0.0
    acceleration: float = 0.0


@dataclass(frozen=True, slots=True)
class OBMarketFeatures:
    """One asset seen against the market: its imbalance relative to the cross-asset median."""

    imbalance: float = 0.0
    market_imbalance: float = 0.0
    relative_imbalance: float = 0.0
    agreement_pct: float = 0.0
    cascade_regime: int = CASCADE_CALM
