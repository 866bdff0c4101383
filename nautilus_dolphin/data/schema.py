"""The DOLPHIN scan schema (spec 001 §7): one row per 5-second scan, one price column per asset.

Also: validation of scan frames (errors name file, column and row) and the per-scan data-quality
score.
"""

import numpy as np
import pandas as pd

TIMESTAMP_COL: str = "timestamp"
SCAN_NUMBER_COL: str = "scan_number"
VEL_DIV_COL: str = "vel_div"
VELOCITY_COLS: tuple[str, ...] = (
    "v50_lambda_max_velocity",
    "v150_lambda_max_velocity",
    "v300_lambda_max_velocity",
    "v750_lambda_max_velocity",
)
INSTABILITY_COLS: tuple[str, ...] = ("instability_50", "instability_150")

SIGNAL_COLS: tuple[str, ...] = (VEL_DIV_COL, *VELOCITY_COLS, *INSTABILITY_COLS)
"""The float signal columns of a scan, in vbt_cache order."""

META_COLS: frozenset[str] = frozenset({TIMESTAMP_COL, SCAN_NUMBER_COL, *SIGNAL_COLS})
"""Non-price columns; every other column of a vbt_cache file is an asset price."""


def asset_columns(columns: list[str] | tuple[str, ...]) -> list[str]:
    """Return the asset price columns of a frame, in their file order (everything not in META_COLS)."""
    return [c for c in columns if c not in META_COLS]


# -- validation and data quality ----------------------------------------------------------------

REQUIRED_COLS: tuple[str, ...] = (TIMESTAMP_COL, SCAN_NUMBER_COL, *SIGNAL_COLS)
"""Columns every scan frame must have (plus at least one asset price column)."""


class ScanValidationError(ValueError):
    """A scan frame breaks the schema; the message names the file, column and row."""

    def __init__(self, source: str, column: str | None, row: int | None, problem: str) -> None:
        self.source, self.column, self.row, self.problem = source, column, row, problem
        where = source
        if column is not None:
            where += f", column {column!r}"
        if row is not None:
            where += f", row {row}"
        super().__init__(f"{where}: {problem}")


def _first_bad(mask: np.ndarray) -> int | None:
    idx = np.flatnonzero(mask)
    return int(idx[0]) if len(idx) else None


def timestamps_ns(ts: pd.Series | np.ndarray, source: str = "<frame>") -> np.ndarray:
    """Convert a ``timestamp`` column to int64 ns UTC.

    Accepts datetime64 (tz-aware or naive UTC) or unix seconds (int/float). Raises
    ``ScanValidationError`` for anything else or for missing values.
    """
    s = pd.Series(ts)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        out = s.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]").astype(np.int64)
        bad = s.isna().to_numpy()
    elif np.issubdtype(s.dtype, np.datetime64):
        out = s.to_numpy("datetime64[ns]").astype(np.int64)
        bad = s.isna().to_numpy()
    elif np.issubdtype(s.dtype, np.number) and not np.issubdtype(s.dtype, np.bool_):
        v = s.to_numpy(np.float64)
        bad = ~np.isfinite(v)
        out = np.round(np.where(bad, 0.0, v) * 1e9).astype(np.int64)
    else:
        raise ScanValidationError(
            source, TIMESTAMP_COL, None, f"dtype {s.dtype} is neither datetime64 nor unix seconds"
        )
    row = _first_bad(bad)
    if row is not None:
        raise ScanValidationError(source, TIMESTAMP_COL, row, "missing timestamp")
    return out


def validate_scan_frame(
    df: pd.DataFrame,
    source: str = "<frame>",
    require_monotonic: bool = True,
    allow_nan_signals: bool = True,
) -> None:
    """Check a scan frame against the schema; raise ``ScanValidationError`` at the first problem.

    Checks: required columns present, at least one asset column, numeric float dtypes for signal
    and price columns, integer-valued ``scan_number``, strictly increasing timestamps, finite
    signal values (NaN allowed when ``allow_nan_signals``: the engine skips such rows, as the
    spec does; +-inf never), and prices finite and > 0 where present (NaN = missing asset).
    """
    missing = [c for c in REQUIRED_COLS if c not in df.columns]
    if missing:
        raise ScanValidationError(source, missing[0], None, f"missing required column(s) {missing}")
    assets = asset_columns(list(df.columns))
    if not assets:
        raise ScanValidationError(source, None, None, "no asset price columns")
    for col in (SCAN_NUMBER_COL, *SIGNAL_COLS, *assets):
        dt = df[col].dtype
        if not (np.issubdtype(dt, np.number) and not np.issubdtype(dt, np.bool_)):
            bad_row = None
            vals = pd.to_numeric(df[col], errors="coerce")
            bad_row = _first_bad((vals.isna() & df[col].notna()).to_numpy())
            value = df[col].iloc[bad_row] if bad_row is not None else None
            raise ScanValidationError(
                source, col, bad_row, f"non-numeric dtype {dt}" + (f" (value {value!r})" if bad_row is not None else "")
            )
    ts = timestamps_ns(df[TIMESTAMP_COL], source)
    if require_monotonic and len(ts) > 1:
        d = np.diff(ts)
        row = _first_bad(d <= 0)
        if row is not None:
            kind = "duplicate" if d[row] == 0 else "decreasing"
            raise ScanValidationError(source, TIMESTAMP_COL, row + 1, f"{kind} timestamp (not strictly increasing)")
    for col in SIGNAL_COLS:
        v = df[col].to_numpy(np.float64)
        bad = np.isinf(v) if allow_nan_signals else ~np.isfinite(v)
        row = _first_bad(bad)
        if row is not None:
            raise ScanValidationError(source, col, row, f"non-finite value {v[row]!r}")
    px = df[assets].to_numpy(np.float64)
    bad = np.isinf(px) | (np.isfinite(px) & (px <= 0))
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ScanValidationError(source, assets[c], int(r), f"price must be finite and > 0, got {px[r, c]!r}")


def scan_quality(prices: np.ndarray, signals: np.ndarray) -> np.ndarray:
    """Per-scan data-quality score in [0, 1] (vectorised).

    ``0.5 * (fraction of assets with a finite price > 0) + 0.5 * (fraction of finite signal
    fields)``; ``prices`` is (T, N), ``signals`` (T, S) (e.g. the ``SIGNAL_COLS`` of a frame). Later
    layers block trading below a threshold.
    """
    p = np.asarray(prices, dtype=np.float64)
    s = np.asarray(signals, dtype=np.float64)
    if p.ndim != 2 or s.ndim != 2 or p.shape[0] != s.shape[0]:
        raise ValueError(f"prices (T, N) and signals (T, S) must share T; got {p.shape} and {s.shape}")
    pf = (np.isfinite(p) & (p > 0)).mean(axis=1) if p.shape[1] else np.zeros(p.shape[0])
    sf = np.isfinite(s).mean(axis=1) if s.shape[1] else np.zeros(s.shape[0])
    return 0.5 * pf + 0.5 * sf


def frame_quality(df: pd.DataFrame) -> np.ndarray:
    """``scan_quality`` of a scan frame (its asset columns and ``SIGNAL_COLS``)."""
    assets = asset_columns(list(df.columns))
    return scan_quality(df[assets].to_numpy(np.float64), df[list(SIGNAL_COLS)].to_numpy(np.float64))
