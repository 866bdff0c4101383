"""Calibration of the synthetic market's common factor from real Binance BTCUSDT-perp 1-minute bars.

``calibrate(path)`` reads ``../shared/data/real/binance_futures_btcusdt_perp_1m_2022-01.csv``
(columns timestamp, open, high, low, close, volume) and measures what the synthetic common factor
must reproduce: the 1-minute log-return volatility (scaled to 5-second scans by sqrt(12)), the
fat tails of returns standardised by an EWMA volatility (-> Student-t degrees of freedom), and the
persistence of volatility (autocorrelation of absolute returns -> the half-lives of a fast and a
slow log-volatility component). ``DEFAULT_CALIBRATION`` holds the figures measured on that file so
the synthetic market is identical with or without ``../shared``; a test re-measures them.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

SCANS_PER_MINUTE: int = 12
REAL_CSV: Path = (
    Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"
    / "binance_futures_btcusdt_perp_1m_2022-01.csv"
)


@dataclass(frozen=True)
class Calibration:
    """Measured properties of the BTC common factor (see module docstring)."""

    n_returns: int
    sigma_1m: float
    """Std of 1-minute log returns."""
    sigma_5s: float
    """``sigma_1m / sqrt(12)``: per-scan volatility of BTC in the synthetic market."""
    excess_kurtosis_1m: float
    """Excess kurtosis of raw 1-minute returns (vol clustering + fat tails)."""
    excess_kurtosis_std: float
    """Excess kurtosis of returns standardised by an EWMA (30-min half-life) volatility."""
    t_df: float
    """Student-t degrees of freedom matching ``excess_kurtosis_std`` (``4 + 6 / k``, clipped 3..30)."""
    acf_abs: tuple[float, ...]
    """Autocorrelation of |r| at lags 1, 5, 30, 120, 600 minutes."""
    vol_halflife_fast_min: float
    vol_halflife_slow_min: float
    """Half-lives (minutes) of the fast and slow log-volatility components."""
    vol_sd_fast: float
    vol_sd_slow: float
    """Stationary std of each log-volatility component (chosen, not measured: 0.30 fast, 0.20 slow)."""
    max_abs_1m: float


ACF_LAGS: tuple[int, ...] = (1, 5, 30, 120, 600)

DEFAULT_CALIBRATION: Calibration = Calibration(
    n_returns=45030,
    sigma_1m=0.000987513,
    sigma_5s=0.000285070,
    excess_kurtosis_1m=23.267,
    excess_kurtosis_std=16.986,
    t_df=4.353,
    acf_abs=(0.3251, 0.2517, 0.1853, 0.1455, 0.0609),
    vol_halflife_fast_min=35.8,
    vol_halflife_slow_min=381.9,
    vol_sd_fast=0.30,
    vol_sd_slow=0.20,
    max_abs_1m=0.019635,
)
"""Figures measured on the real file (``calibrate(REAL_CSV)``), packaged so ../shared is optional."""


def _ewma_vol(r: np.ndarray, halflife: float) -> np.ndarray:
    lam = 0.5 ** (1.0 / halflife)
    out = np.empty_like(r)
    v = float(np.mean(r[: min(len(r), 60)] ** 2))
    for i, x in enumerate(r):
        out[i] = np.sqrt(v)
        v = lam * v + (1 - lam) * x * x
    return out


def calibrate(path: str | Path = REAL_CSV) -> Calibration:
    """Measure the calibration figures from a 1-minute OHLCV CSV (column ``close`` required).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it has no ``close`` column or fewer than 1,000 valid closes.
    """
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"calibration file not found: {p}")
    df = pd.read_csv(p)
    if "close" not in df.columns:
        raise ValueError(f"{p}: no 'close' column (columns: {list(df.columns)})")
    close = pd.to_numeric(df["close"], errors="coerce").to_numpy(np.float64)
    close = close[np.isfinite(close) & (close > 0)]
    if len(close) < 1000:
        raise ValueError(f"{p}: need >= 1000 valid closes, got {len(close)}")
    r = np.diff(np.log(close))
    sigma = float(r.std())
    k_raw = float(((r - r.mean()) ** 4).mean() / sigma**4 - 3.0)
    z = r / _ewma_vol(r, 30.0)
    z = z[60:]
    k_std = float(((z - z.mean()) ** 4).mean() / z.std() ** 4 - 3.0)
    t_df = float(np.clip(4.0 + 6.0 / max(k_std, 1e-6), 3.0, 30.0))
    a = np.abs(r) - np.abs(r).mean()
    den = float(np.dot(a, a))
    acf = tuple(float(np.dot(a[:-lag], a[lag:]) / den) for lag in ACF_LAGS)
    # two-component fit: the fast component explains the drop from lag 1 to lag 30, the slow one the
    # remaining decay from lag 120 to lag 600.
    slow_hl = float(np.clip(480.0 * np.log(2) / max(np.log(acf[3] / max(acf[4], 1e-6)), 1e-6), 60, 2880))
    fast_hl = float(np.clip(29.0 * np.log(2) / max(np.log(acf[0] / max(acf[2], 1e-6)), 1e-6), 2, 120))
    return Calibration(
        n_returns=len(r),
        sigma_1m=sigma,
        sigma_5s=sigma / np.sqrt(SCANS_PER_MINUTE),
        excess_kurtosis_1m=k_raw,
        excess_kurtosis_std=k_std,
        t_df=t_df,
        acf_abs=acf,
        vol_halflife_fast_min=round(fast_hl, 1),
        vol_halflife_slow_min=round(slow_hl, 1),
        vol_sd_fast=DEFAULT_CALIBRATION.vol_sd_fast,
        vol_sd_slow=DEFAULT_CALIBRATION.vol_sd_slow,
        max_abs_1m=float(np.abs(r).max()),
    )
