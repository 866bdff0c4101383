"""Loader for DOLPHIN vbt_cache directories: one ``YYYY-MM-DD.parquet`` per UTC day.

What the loader guarantees for every day it returns:

- columns in canonical order: ``timestamp`` (datetime64[ns], naive UTC), ``scan_number`` (int64),
  the signal columns (float64), then the asset price columns sorted alphabetically (float64);
  extra non-numeric columns are dropped, extra numeric columns count as assets (DOLPHIN's rule:
  everything not in ``META_COLS`` is an asset);
- file column order and float32 storage do not matter (everything is cast to float64);
- rows whose ``vel_div`` is NaN are kept (the engine skips them, as the spec does);
- timestamps may be datetime64 (tz-aware or naive UTC) or unix seconds.

Clear errors (``VbtCacheError``, a ``ValueError`` naming the file, column and row): zero-byte or
unreadable file, empty file (no rows), missing required column, a price column holding strings,
duplicate or decreasing timestamps, infinite values, prices <= 0.

``VbtCache(path).vol_p60`` is the gold regime threshold (first two files, see
``data.volatility``) and ``iter_days()`` yields ``(date, df, asset_columns, dvol)`` lazily so a
56-day window never sits in memory at once. Order-book snapshots, when present, live in
``<dir>/ob/YYYY-MM-DD.parquet`` (``load_ob_day``).
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from nautilus_dolphin.config import VOL_REFERENCE_ASSET
from nautilus_dolphin.data.schema import REQUIRED_COLS
from nautilus_dolphin.data.schema import SCAN_NUMBER_COL
from nautilus_dolphin.data.schema import SIGNAL_COLS
from nautilus_dolphin.data.schema import TIMESTAMP_COL
from nautilus_dolphin.data.schema import ScanValidationError
from nautilus_dolphin.data.schema import asset_columns
from nautilus_dolphin.data.schema import timestamps_ns
from nautilus_dolphin.data.schema import validate_scan_frame
from nautilus_dolphin.data.volatility import dvol_per_bar
from nautilus_dolphin.data.volatility import gold_vol_p60

_DAY_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.parquet$")
OB_SUBDIR: str = "ob"


class VbtCacheError(ValueError):
    """A vbt_cache file cannot be used; the message names the file (and column/row when known)."""


@dataclass
class VbtDay:
    """One loaded day."""

    date: str
    df: pd.DataFrame
    asset_columns: list[str]
    dvol: np.ndarray
    path: Path

    @property
    def ts_ns(self) -> np.ndarray:
        """Scan timestamps as int64 ns UTC."""
        return self.df[TIMESTAMP_COL].to_numpy("datetime64[ns]").astype(np.int64)


def list_day_files(directory: str | Path) -> list[tuple[str, Path]]:
    """Return ``(date, path)`` of every ``YYYY-MM-DD.parquet`` in ``directory``, by date."""
    d = Path(directory)
    if not d.is_dir():
        raise VbtCacheError(f"{d}: not a directory")
    out = []
    for p in d.iterdir():
        m = _DAY_RE.match(p.name)
        if m and p.is_file():
            out.append((m.group(1), p))
    return sorted(out)


def read_day(path: str | Path, reference_asset: str = VOL_REFERENCE_ASSET) -> VbtDay:
    """Read and normalise one daily file (see module docstring for the guarantees and errors)."""
    p = Path(path)
    src = str(p)
    if not p.is_file():
        raise VbtCacheError(f"{src}: file not found")
    if p.stat().st_size == 0:
        raise VbtCacheError(f"{src}: zero-byte file (interrupted write?)")
    try:
        table = pq.read_table(p)
    except (pa.ArrowInvalid, OSError) as exc:
        raise VbtCacheError(f"{src}: not a readable parquet file ({exc})") from exc
    if table.num_rows == 0:
        raise VbtCacheError(f"{src}: empty file (0 rows)")
    names = table.column_names
    missing = [c for c in REQUIRED_COLS if c not in names]
    if missing:
        raise VbtCacheError(f"{src}: missing required column(s) {missing}")
    assets = sorted(asset_columns(names))
    # a non-numeric asset column is an error (strings in a price column), not silently dropped
    for c in assets:
        t = table.schema.field(c).type
        if not (pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_decimal(t)):
            vals = table.column(c).to_pandas()
            num = pd.to_numeric(vals, errors="coerce")
            bad = np.flatnonzero((num.isna() & vals.notna()).to_numpy())
            where = f", row {int(bad[0])} (value {vals.iloc[int(bad[0])]!r})" if len(bad) else ""
            raise VbtCacheError(f"{src}, column {c!r}{where}: price column has type {t}, expected float")
    df = table.to_pandas()
    try:
        ts = timestamps_ns(df[TIMESTAMP_COL], src)
    except ScanValidationError as exc:
        raise VbtCacheError(str(exc)) from exc
    out = {TIMESTAMP_COL: pd.to_datetime(ts, unit="ns")}
    sn = pd.to_numeric(df[SCAN_NUMBER_COL], errors="coerce")
    if sn.isna().any():
        row = int(np.flatnonzero(sn.isna().to_numpy())[0])
        raise VbtCacheError(f"{src}, column {SCAN_NUMBER_COL!r}, row {row}: missing or non-numeric")
    out[SCAN_NUMBER_COL] = sn.to_numpy().astype(np.int64)
    for c in (*SIGNAL_COLS, *assets):
        col = df[c]
        if not np.issubdtype(col.dtype, np.number):
            num = pd.to_numeric(col, errors="coerce")
            bad = np.flatnonzero((num.isna() & col.notna()).to_numpy())
            if len(bad):
                raise VbtCacheError(f"{src}, column {c!r}, row {int(bad[0])}: non-numeric value {col.iloc[bad[0]]!r}")
            col = num
        out[c] = col.to_numpy(np.float64)
    norm = pd.DataFrame(out)
    try:
        validate_scan_frame(norm, src)
    except ScanValidationError as exc:
        raise VbtCacheError(str(exc)) from exc
    ref = norm[reference_asset].to_numpy() if reference_asset in norm.columns else np.full(len(norm), np.nan)
    m = _DAY_RE.match(p.name)
    day = m.group(1) if m else pd.Timestamp(ts[0]).strftime("%Y-%m-%d")
    return VbtDay(day, norm, assets, dvol_per_bar(ref), p)


class VbtCache:
    """A vbt_cache directory: lazy per-day access, the gold ``vol_p60``."""

    def __init__(self, directory: str | Path, reference_asset: str = VOL_REFERENCE_ASSET) -> None:
        self.directory = Path(directory)
        self.reference_asset = reference_asset
        self._files = list_day_files(self.directory)
        self._vol_p60: float | None = None

    @property
    def dates(self) -> list[str]:
        """Dates present, ascending."""
        return [d for d, _ in self._files]

    def path(self, date: str) -> Path:
        """Path of a day's file (KeyError when absent)."""
        for d, p in self._files:
            if d == date:
                return p
        raise KeyError(f"{self.directory}: no file for {date}")

    def load(self, date: str) -> VbtDay:
        """Load one day."""
        return read_day(self.path(date), self.reference_asset)

    def load_frame(self, date: str) -> pd.DataFrame:
        """Load one day's normalised frame (the loader the ACB preload expects)."""
        return self.load(date).df

    def iter_days(self, dates: list[str] | None = None) -> Iterator[tuple[str, pd.DataFrame, list[str], np.ndarray]]:
        """Yield ``(date, df, asset_columns, dvol)`` one day at a time."""
        for d in dates or self.dates:
            day = self.load(d)
            yield day.date, day.df, day.asset_columns, day.dvol

    @property
    def vol_p60(self) -> float:
        """Gold ``vol_p60`` from the reference asset of the first two files."""
        if self._vol_p60 is None:
            if not self._files:
                raise VbtCacheError(f"{self.directory}: no daily files")
            series = []
            for d in self.dates[:2]:
                df = self.load(d).df
                if self.reference_asset not in df.columns:
                    raise VbtCacheError(f"{self.path(d)}: no {self.reference_asset!r} column for vol_p60")
                series.append(df[self.reference_asset].to_numpy())
            self._vol_p60 = gold_vol_p60(series)
        return self._vol_p60

    def ob_path(self, date: str) -> Path:
        """Where a day's recorded order-book snapshots live (may not exist)."""
        return self.directory / OB_SUBDIR / f"{date}.parquet"

    def load_ob_day(self, date: str) -> pd.DataFrame | None:
        """Load a day's OB snapshots (long format), or None when not recorded."""
        return load_ob_file(self.ob_path(date))


OB_REQUIRED: tuple[str, ...] = (
    "timestamp",
    "asset",
    *(f"{side}_{kind}_{k}" for side, kind in (("bid", "notional"), ("ask", "notional"), ("bid", "depth"),
                                              ("ask", "depth")) for k in range(5)),
)


def load_ob_file(path: str | Path) -> pd.DataFrame | None:
    """Load an OB snapshot file (contract §1 layout) or return None if it does not exist."""
    p = Path(path)
    if not p.is_file():
        return None
    if p.stat().st_size == 0:
        raise VbtCacheError(f"{p}: zero-byte file (interrupted write?)")
    df = pq.read_table(p).to_pandas()
    missing = [c for c in OB_REQUIRED if c not in df.columns]
    if missing:
        raise VbtCacheError(f"{p}: missing OB column(s) {missing}")
    df["timestamp"] = timestamps_ns(df["timestamp"], str(p)) if not np.issubdtype(
        df["timestamp"].dtype, np.integer
    ) else df["timestamp"].astype(np.int64)
    for c in OB_REQUIRED[2:]:
        df[c] = df[c].astype(np.float64)
    return df.sort_values(["timestamp", "asset"], kind="stable").reset_index(drop=True)


def load_day(path: str | Path) -> tuple[str, pd.DataFrame, list[str], np.ndarray]:
    """Load one file as ``(date, df, asset_columns, dvol)`` (the harness's tuple)."""
    day = read_day(path)
    return day.date, day.df, day.asset_columns, day.dvol
