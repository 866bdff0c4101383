"""Shared helpers for the OBF tests: a fake live provider and the real Binance book fixtures."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nautilus_dolphin.obf.types import OBSnapshot

REPO = Path(__file__).resolve().parents[3]
REAL_DIR = REPO.parent / "shared" / "data" / "real"


class FakeLiveOBProvider:
    """Fake of the live Hazelcast provider (the outermost edge): serves whatever snapshot the test
    put in ``books`` for an asset, ``None`` otherwise, and has no history (``get_all_timestamps``
    returns ``[]`` as seed 000 §1 says of HZOBProvider)."""

    def __init__(self) -> None:
        self.books: dict[str, OBSnapshot] = {}
        self.calls: list[tuple[str, float]] = []

    def get_snapshot(self, asset: str, timestamp: float) -> OBSnapshot | None:
        self.calls.append((asset, timestamp))
        return self.books.get(asset)

    def get_all_timestamps(self, asset: str) -> list[float]:
        return []


def make_snapshot(
    asset: str = "BTCUSDT",
    ts: float = 1_767_225_600.0,
    price: float = 100.0,
    tick: float = 0.01,
    bid_total: float = 500_000.0,
    ask_total: float = 500_000.0,
) -> OBSnapshot:
    """Return a consistent 5-level book (notional = price * depth), equal weights per level."""
    lv = np.arange(5, dtype=np.float64)
    bid_px = price - tick / 2 - tick * lv
    ask_px = price + tick / 2 + tick * lv
    bn = np.full(5, bid_total / 5.0)
    an = np.full(5, ask_total / 5.0)
    return OBSnapshot(asset, ts, bn, an, bn / bid_px, an / ask_px)


@pytest.fixture
def fake_provider() -> FakeLiveOBProvider:
    return FakeLiveOBProvider()


def load_tardis_books(name: str) -> list[tuple[np.ndarray, ...]]:
    """Return ``(bid_notional, ask_notional, bid_depth, ask_depth, bid_px, ask_px)`` per row of a
    Tardis ``book_snapshot_N`` CSV, converted as the publisher does: notional = price * amount,
    depth = amount per level. Skips the test when ../shared is absent."""
    path = REAL_DIR / name
    if not path.exists():
        pytest.skip(f"real data {path} not available (../shared/data/real absent)")
    df = pd.read_csv(path)
    n = sum(1 for c in df.columns if c.startswith("asks[") and c.endswith("].price"))
    out = []
    for _, row in df.iterrows():
        bp = np.array([row[f"bids[{i}].price"] for i in range(n)], dtype=np.float64)
        ba = np.array([row[f"bids[{i}].amount"] for i in range(n)], dtype=np.float64)
        ap = np.array([row[f"asks[{i}].price"] for i in range(n)], dtype=np.float64)
        aa = np.array([row[f"asks[{i}].amount"] for i in range(n)], dtype=np.float64)
        out.append((bp * ba, ap * aa, ba, aa, bp, ap))
    return out


@pytest.fixture
def tardis_loader() -> Callable[[str], list[tuple[np.ndarray, ...]]]:
    return load_tardis_books


@pytest.fixture
def snap_factory() -> Callable[..., OBSnapshot]:
    return make_snapshot
