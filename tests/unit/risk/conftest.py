"""Shared helpers for the risk tests: tiny scan frames, a hand-made model, an analytic simulator."""

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytest


def day_frame(v750: list[float], inst50: list[float], btc: list[float]) -> pd.DataFrame:
    """A tiny vbt_cache-layout frame (only BTCUSDT as price column, other signals zero)."""
    n = len(v750)
    assert len(inst50) == n and len(btc) == n
    return pd.DataFrame(
        {
            "timestamp": 1767225600.0 + 5.0 * np.arange(n),
            "scan_number": np.arange(n),
            "vel_div": np.zeros(n),
            "v50_lambda_max_velocity": np.zeros(n),
            "v150_lambda_max_velocity": np.zeros(n),
            "v300_lambda_max_velocity": np.zeros(n),
            "v750_lambda_max_velocity": np.asarray(v750, dtype=np.float64),
            "instability_50": np.asarray(inst50, dtype=np.float64),
            "instability_150": np.zeros(n),
            "BTCUSDT": np.asarray(btc, dtype=np.float64),
        }
    )


def random_day(rng: np.random.Generator, n: int = 50) -> pd.DataFrame:
    """A random small day frame (for property tests)."""
    amp = rng.uniform(0.5, 2.0)
    vol = rng.uniform(0.001, 0.01)
    px = 100.0 * np.exp(np.cumsum(vol * rng.standard_normal(n)))
    return day_frame(
        list(amp * rng.standard_normal(n)),
        list(rng.uniform(0.0, 2.0) + 0.1 * rng.standard_normal(n)),
        list(px),
    )


def tiny_model() -> dict[str, Any]:
    """A hand-made two-feature model whose outputs are easy to compute by hand."""
    return {
        "schema": "nautilus_dolphin.mc_forewarner",
        "schema_version": 1,
        "feature_names": ["a", "b"],
        "defaults": {"a": 1.0, "b": 10.0},
        "standardiser": {"mean": [1.0, 10.0], "scale": [1.0, 2.0]},
        "envelope": {
            "kind": "mahalanobis",
            "mean": [0.0, 0.0],
            "precision": [[1.0, 0.0], [0.0, 1.0]],
            "d2_orange": 4.0,
            "d2_red": 9.0,
        },
        "basis": "linear+square",
        "max_dd": {"kind": "ridge", "intercept": 0.1, "coef": [0.05, 0.0, 0.01, 0.0]},
        "roi": {"kind": "ridge", "intercept": 0.2, "coef": [0.1, 0.0, 0.0, 0.0]},
        "catastrophic": {"kind": "logistic", "intercept": -3.0, "coef": [1.0, 0.0, 0.0, 0.0]},
        "thresholds": {"orange_max_dd": 0.2, "orange_catastrophic_prob": 0.25, "red_catastrophic_prob": 0.5},
        "metadata": {"note": "hand-made test model"},
    }


class AnalyticSimulator:
    """FAKE simulator for tests: closed-form roi / max_dd instead of running the engine.

    ``max_dd = min(1, 0.02 * max_leverage * (fraction / 0.2) * (0.5 + max_hold_bars / 240))`` and
    ``roi = 0.03 * max_leverage * (fraction / 0.2) - 1.5 * max_dd**2``: risk grows with leverage,
    size and holding time, so high-leverage corners are catastrophic (max_dd >= 0.4).
    """

    description = "AnalyticSimulator (test fake): closed-form roi/max_dd of leverage, fraction, hold"
    window = {"source": "analytic"}

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, config: Mapping[str, float]) -> dict[str, float]:
        self.calls += 1
        size = float(config["max_leverage"]) * float(config["fraction"]) / 0.2
        dd = min(1.0, 0.02 * size * (0.5 + float(config["max_hold_bars"]) / 240.0))
        roi = 0.03 * size - 1.5 * dd * dd
        return {"roi": roi, "max_dd": dd, "trades": int(100 + 10 * size)}


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@pytest.fixture
def analytic_simulator() -> AnalyticSimulator:
    return AnalyticSimulator()


@pytest.fixture
def make_day():
    """The ``day_frame`` builder (tests import helpers through fixtures: no __init__.py here)."""
    return day_frame


@pytest.fixture
def make_random_day():
    return random_day


@pytest.fixture
def model_doc() -> dict[str, Any]:
    return tiny_model()
