"""Shared helpers for the data tests: a small valid vbt_cache frame."""

import numpy as np
import pandas as pd
import pytest

from nautilus_dolphin.data.schema import SIGNAL_COLS

ASSETS_SMALL = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]


def make_frame(n: int = 120, day: str = "2026-01-05", seed: int = 0) -> pd.DataFrame:
    """A valid scan frame: 5 s timestamps, random signals, positive random-walk prices."""
    rng = np.random.default_rng(seed)
    ts = pd.Timestamp(day) + pd.to_timedelta(np.arange(n) * 5, unit="s")
    cols = {"timestamp": ts, "scan_number": np.arange(1, n + 1, dtype=np.int64)}
    for c in SIGNAL_COLS:
        cols[c] = rng.normal(0, 0.02, n)
    for k, a in enumerate(ASSETS_SMALL):
        cols[a] = (100.0 * (k + 1)) * np.exp(np.cumsum(rng.normal(0, 1e-3, n)))
    return pd.DataFrame(cols)


@pytest.fixture
def frame() -> pd.DataFrame:
    return make_frame()


@pytest.fixture(name="make_frame")
def make_frame_fixture():
    """The ``make_frame`` factory (tests cannot import conftest under importlib mode)."""
    return make_frame
