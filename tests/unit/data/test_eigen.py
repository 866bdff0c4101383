"""Property tests of the eigenvalue scanner (hypothesis) and its streaming/batch agreement."""

import numpy as np
import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_dolphin.kernels.eigen import EigenScanner
from nautilus_dolphin.kernels.eigen import features_from_output
from nautilus_dolphin.kernels.eigen import full_correlation
from nautilus_dolphin.kernels.eigen import log_returns
from nautilus_dolphin.kernels.eigen import scan_features

WINDOWS = (5, 12, 30)


@st.composite
def price_paths(draw):
    n = draw(st.integers(2, 7))
    t = draw(st.integers(3, 80))
    seed = draw(st.integers(0, 2**31 - 1))
    vol = draw(st.sampled_from([1e-5, 1e-3, 3e-2]))
    factor = draw(st.floats(0.0, 3.0))
    n_const = draw(st.integers(0, n))
    rng = np.random.default_rng(seed)
    r = factor * rng.normal(0, vol, (t, 1)) + rng.normal(0, vol, (t, n))
    p = draw(st.sampled_from([0.01, 1.0, 90000.0])) * np.exp(np.cumsum(r, axis=0))
    p[:, :n_const] = 3.0  # constant-price assets
    return p


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(price_paths())
def test_lambda_in_range_and_finite(prices) -> None:
    n = prices.shape[1]
    out = EigenScanner(n, WINDOWS).update_batch(prices)
    lam = out[2:, : len(WINDOWS)]  # lambda needs 2 returns: defined from the third scan
    assert np.all(np.isfinite(lam))
    assert np.all(np.isfinite(out[3:]))  # velocities/instability from the fourth scan
    assert np.all(lam >= -1e-9) and np.all(lam <= n + 1e-9)
    inst = out[3:, 2 * len(WINDOWS) : 2 * len(WINDOWS) + 2]
    assert np.all((inst >= 0) & (inst <= 1))


@SETTINGS
@given(price_paths())
def test_incremental_equals_full_recompute(prices) -> None:
    n = prices.shape[1]
    sc = EigenScanner(n, WINDOWS)
    out = sc.update_batch(prices)
    r = log_returns(prices)[1:]
    for k, w in enumerate(WINDOWS):
        block = r[-w:]
        if len(block) < 2:
            continue
        c_full = full_correlation(block)
        np.testing.assert_allclose(sc.correlation(k), c_full, atol=1e-9, rtol=0)
        assert abs(out[-1, k] - np.linalg.eigvalsh(c_full)[-1]) <= 1e-9 * max(1.0, n)


def test_constant_prices_give_identity() -> None:
    p = np.full((60, 4), 7.0)
    out = EigenScanner(4, WINDOWS).update_batch(p)
    np.testing.assert_allclose(out[2:, : len(WINDOWS)], 1.0)
    np.testing.assert_allclose(out[3:, len(WINDOWS) : 2 * len(WINDOWS)], 0.0, atol=1e-12)


def test_perfectly_correlated_assets_reach_n() -> None:
    rng = np.random.default_rng(1)
    f = np.exp(np.cumsum(rng.normal(0, 1e-3, 100)))
    p = np.column_stack([f * k for k in (1.0, 2.0, 5.0)])
    out = EigenScanner(3, WINDOWS).update_batch(p)
    np.testing.assert_allclose(out[-1, : len(WINDOWS)], 3.0, atol=1e-6)


def test_streaming_equals_batch_and_warmup_split() -> None:
    rng = np.random.default_rng(2)
    p = 50 * np.exp(np.cumsum(rng.normal(0, 1e-3, (400, 6)) + rng.normal(0, 1e-3, (400, 1)), axis=0))
    batch = EigenScanner(6, WINDOWS).update_batch(p)
    sc = EigenScanner(6, WINDOWS)
    stream = np.vstack([sc.update(row) for row in p])
    np.testing.assert_allclose(stream, batch, equal_nan=True, rtol=0, atol=0)
    f = scan_features(p[200:], WINDOWS, warmup=p[:200])
    np.testing.assert_allclose(f["vel_div"], batch[200:, -1], equal_nan=True, atol=0)
    named = features_from_output(batch, WINDOWS)
    np.testing.assert_allclose(named["vel_div"], named["v5_lambda_max_velocity"] - named["v30_lambda_max_velocity"],
                               equal_nan=True)


def test_missing_prices_count_as_no_move() -> None:
    rng = np.random.default_rng(3)
    p = 10 * np.exp(np.cumsum(rng.normal(0, 1e-3, (50, 3)), axis=0))
    q = p.copy()
    q[10, 1] = np.nan
    q[20, 2] = -1.0
    out = EigenScanner(3, WINDOWS).update_batch(q)
    assert np.all(np.isfinite(out[3:]))


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        EigenScanner(0)
    with pytest.raises(ValueError):
        EigenScanner(3, (50,))
    with pytest.raises(ValueError):
        EigenScanner(3, WINDOWS).update(np.ones(4))
