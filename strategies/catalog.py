"""DOLPHIN ParquetDataCatalog: vectorised per-day writer and the query helpers a backtest needs.

Layout under the catalog root (contracts §1):

- ``data/crypto_perpetual/{SYM}-PERP.BINANCE/...``: one ``CryptoPerpetual`` per asset;
- ``data/quote_tick/{SYM}-PERP.BINANCE/<day-start>_<day-end>.parquet``: one QuoteTick per asset per
  scan (bid/ask ``spread_bps`` around the scan price, rounded out to the tick; NaN prices skipped);
  written as Arrow in exactly the layout ``ParquetDataCatalog.write_data`` produces (128-bit
  fixed-point prices, ``FIXED_PRECISION`` 16) but in one vectorised step;
- ``data/custom_dolphin_scan/<day>.parquet``: one ``DolphinScan`` per scan;
- ``data/custom_dolphin_ob_snapshot/{SYM}-PERP.BINANCE/<day>.parquet``: recorded OB snapshots;
- ``dolphin_catalog.json``: ``assets`` (order of ``DolphinScan.prices``), ``days`` (completed,
  sorted), ``window``, ``source``, ``seed``/``fingerprint``, ``spread_bps``.

Crash safety and idempotency: every file is written to ``*.parquet.tmp`` and renamed; a day is
listed in ``dolphin_catalog.json`` (itself replaced atomically) only after all its files exist. A
re-run skips listed days and first deletes any file of an unlisted day (left by an interrupted
run), so readers never see a half-written day through ``load_day_*`` (which refuse unlisted days).
"""

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.instruments import CryptoPerpetual
from nautilus_trader.model.objects import FIXED_PRECISION
from nautilus_trader.persistence.catalog import ParquetDataCatalog
from nautilus_trader.persistence.catalog.parquet import _parse_filename_timestamps
from nautilus_trader.persistence.catalog.parquet import _timestamps_to_filename
from nautilus_trader.persistence.funcs import class_to_filename
from nautilus_trader.persistence.funcs import urisafe_identifier

from nautilus_dolphin.data.schema import INSTABILITY_COLS
from nautilus_dolphin.data.schema import SCAN_NUMBER_COL
from nautilus_dolphin.data.schema import TIMESTAMP_COL
from nautilus_dolphin.data.schema import VEL_DIV_COL
from nautilus_dolphin.data.schema import VELOCITY_COLS
from nautilus_dolphin.obf.types import N_LEVELS
from strategies.data_types import DolphinOBSnapshot
from strategies.data_types import DolphinScan
from strategies.instruments import exchange_info_specs
from strategies.instruments import instrument_id
from strategies.instruments import make_perpetual

CATALOG_META: str = "dolphin_catalog.json"
CATALOG_ENV: str = "DOLPHIN_CATALOG"
NS_PER_DAY: int = 86_400 * 1_000_000_000
DEFAULT_SPREAD_BPS: float = 1.0
QUOTE_NOTIONAL_USDT: float = 1_000_000.0
"""Nominal top-of-book size of the synthetic quotes, in USDT (size = notional / price)."""


def default_root() -> Path:
    """``$DOLPHIN_CATALOG`` or ``./catalog``."""
    return Path(os.environ.get(CATALOG_ENV) or (Path.cwd() / "catalog"))


def day_bounds_ns(date_str: str) -> tuple[int, int]:
    """[start, end] ns of a UTC day (inclusive end)."""
    start = int(datetime.strptime(date_str, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()) * 1_000_000_000
    return start, start + NS_PER_DAY - 1


# -- fixed-point encoding --------------------------------------------------------------------------

_M32 = np.uint64(0xFFFFFFFF)


def fixed_point_bytes(mantissa: np.ndarray, precision: int) -> np.ndarray:
    """Encode ``mantissa * 10**-precision`` as Nautilus 128-bit raw values (n, 16) uint8, LE.

    The raw value is ``mantissa * 10**(FIXED_PRECISION - precision)``; non-negative mantissas only.
    """
    m = np.asarray(mantissa, dtype=np.int64)
    if (m < 0).any():
        raise ValueError("fixed_point_bytes: negative values are not supported")
    m = m.astype(np.uint64)
    f = int(10 ** (FIXED_PRECISION - precision))
    f_lo, f_hi = np.uint64(f & 0xFFFFFFFF), np.uint64(f >> 32)
    m_lo, m_hi = m & _M32, m >> np.uint64(32)
    p0 = m_lo * f_lo
    p1 = m_lo * f_hi
    p2 = m_hi * f_lo
    p3 = m_hi * f_hi
    mid = (p0 >> np.uint64(32)) + (p1 & _M32) + (p2 & _M32)
    lo = (p0 & _M32) | ((mid & _M32) << np.uint64(32))
    hi = p3 + (p1 >> np.uint64(32)) + (p2 >> np.uint64(32)) + (mid >> np.uint64(32))
    out = np.empty((len(m), 2), dtype="<u8")
    out[:, 0] = lo
    out[:, 1] = hi
    return out.view(np.uint8).reshape(len(m), 16)


def _fsb(raw: np.ndarray) -> pa.Array:
    n = raw.shape[0]
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), n, [None, pa.py_buffer(np.ascontiguousarray(raw))])


QUOTE_SCHEMA_FIELDS = [
    pa.field("bid_price", pa.binary(16), nullable=False),
    pa.field("ask_price", pa.binary(16), nullable=False),
    pa.field("bid_size", pa.binary(16), nullable=False),
    pa.field("ask_size", pa.binary(16), nullable=False),
    pa.field("ts_event", pa.uint64(), nullable=False),
    pa.field("ts_init", pa.uint64(), nullable=False),
]


def quote_table(
    inst: CryptoPerpetual, prices: np.ndarray, ts_ns: np.ndarray, spread_bps: float = DEFAULT_SPREAD_BPS
) -> pa.Table:
    """Arrow table of QuoteTicks for one instrument (rows with a non-finite/<=0 price skipped).

    bid = floor(p * (1 - spread/2) / tick) * tick, ask = ceil(p * (1 + spread/2) / tick) * tick
    (with spread 0: both = p rounded to the nearest tick); size = ``QUOTE_NOTIONAL_USDT / p`` on the
    size increment (at least one increment).
    """
    p = np.asarray(prices, dtype=np.float64)
    ok = np.isfinite(p) & (p > 0)
    p, ts = p[ok], np.asarray(ts_ns, dtype=np.int64)[ok]
    pp, sp = inst.price_precision, inst.size_precision
    tick = float(inst.price_increment)
    step = float(inst.size_increment)
    scale = 10.0**pp
    tick_units = round(tick * scale)
    if spread_bps > 0:
        h = spread_bps * 1e-4 / 2
        bid_t = np.floor(p * (1 - h) / tick + 1e-9)
        ask_t = np.ceil(p * (1 + h) / tick - 1e-9)
        ask_t = np.maximum(ask_t, bid_t + 1)
    else:
        bid_t = ask_t = np.round(p / tick)
    bid_t = np.maximum(bid_t, 1)
    ask_t = np.maximum(ask_t, 1)
    bid_m = (bid_t * tick_units).astype(np.int64)
    ask_m = (ask_t * tick_units).astype(np.int64)
    size_steps = np.maximum(np.floor(QUOTE_NOTIONAL_USDT / p / step), 1.0)
    size_m = (size_steps * round(step * 10.0**sp)).astype(np.int64)
    size_raw = fixed_point_bytes(size_m, sp)
    meta = {
        b"instrument_id": inst.id.value.encode(),
        b"price_precision": str(pp).encode(),
        b"size_precision": str(sp).encode(),
    }
    ts_u = ts.astype(np.uint64)
    return pa.Table.from_arrays(
        [
            _fsb(fixed_point_bytes(bid_m, pp)),
            _fsb(fixed_point_bytes(ask_m, pp)),
            _fsb(size_raw),
            _fsb(size_raw),
            pa.array(ts_u, pa.uint64()),
            pa.array(ts_u, pa.uint64()),
        ],
        schema=pa.schema(QUOTE_SCHEMA_FIELDS, metadata=meta),
    )


def _list_column(mat: np.ndarray) -> pa.ListArray:
    n, w = mat.shape
    offsets = pa.array(np.arange(0, (n + 1) * w, w, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(np.ascontiguousarray(mat, dtype=np.float64).reshape(-1)))


def scan_table(frame: pd.DataFrame, assets: list[str] | tuple[str, ...]) -> pa.Table:
    """Arrow table of ``DolphinScan`` rows (``DolphinScan._schema``) from a normalised scan frame."""
    ts = frame[TIMESTAMP_COL].to_numpy("datetime64[ns]").astype(np.int64)
    n = len(ts)
    cols: dict[str, pa.Array] = {SCAN_NUMBER_COL: pa.array(frame[SCAN_NUMBER_COL].to_numpy(np.int64))}
    cols[VEL_DIV_COL] = pa.array(frame[VEL_DIV_COL].to_numpy(np.float64))
    for c in (*VELOCITY_COLS, *INSTABILITY_COLS):
        cols[c] = pa.array(frame[c].to_numpy(np.float64))
    cols["prices"] = _list_column(frame[list(assets)].to_numpy(np.float64))
    cols["type"] = pa.array(["DolphinScan"] * n, pa.string())
    cols["ts_event"] = pa.array(ts)
    cols["ts_init"] = pa.array(ts)
    return pa.Table.from_pydict(cols, schema=DolphinScan._schema)


def ob_tables(ob: pd.DataFrame) -> dict[str, pa.Table]:
    """Per-asset Arrow tables of ``DolphinOBSnapshot`` rows from a contract-§1 OB frame."""
    out: dict[str, pa.Table] = {}
    if ob is None or len(ob) == 0:
        return out
    for asset, g in ob.groupby("asset", sort=True):
        g = g.sort_values("timestamp", kind="stable")
        ts = g["timestamp"].to_numpy(np.int64)
        n = len(ts)
        cols: dict[str, Any] = {"instrument_id": pa.array([instrument_id(str(asset)).value] * n, pa.string())}
        for name in ("bid_notional", "ask_notional", "bid_depth", "ask_depth"):
            cols[name] = _list_column(g[[f"{name}_{k}" for k in range(N_LEVELS)]].to_numpy(np.float64))
        cols["push_seq"] = pa.array(np.full(n, -1, dtype=np.int64))
        cols["pushed_at_ns"] = pa.array(np.zeros(n, dtype=np.int64))
        cols["type"] = pa.array(["DolphinOBSnapshot"] * n, pa.string())
        cols["ts_event"] = pa.array(ts)
        cols["ts_init"] = pa.array(ts)
        out[str(asset)] = pa.Table.from_pydict(cols, schema=DolphinOBSnapshot._schema)
    return out


# -- writer ----------------------------------------------------------------------------------------


def _atomic_write_table(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def _atomic_write_json(obj: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True))
    os.replace(tmp, path)


def read_meta(root: str | Path) -> dict[str, Any] | None:
    """Return ``dolphin_catalog.json`` of a catalog, or None when absent."""
    p = Path(root) / CATALOG_META
    if not p.is_file():
        return None
    return json.loads(p.read_text())


class CatalogMismatchError(ValueError):
    """The target catalog was built from other assets/parameters; choose another --out."""


@dataclass
class DayWriteStats:
    """What one ``write_day`` call did."""

    date: str
    skipped: bool
    scans: int = 0
    quotes: int = 0
    ob_rows: int = 0


class DolphinCatalogWriter:
    """Write DOLPHIN days into a ``ParquetDataCatalog`` (see module docstring).

    Parameters
    ----------
    root : path
        Catalog root.
    assets : sequence of str
        Asset order of ``DolphinScan.prices``.
    source : str
        ``"synthetic"`` or ``"vbt_cache:<dir>"``; recorded in the meta file.
    fingerprint : dict, optional
        Parameters that must match on a re-run (e.g. the synthetic config).
    spread_bps : float
        Quote spread around the scan price.
    """

    def __init__(
        self,
        root: str | Path,
        assets: list[str] | tuple[str, ...],
        source: str,
        fingerprint: dict[str, Any] | None = None,
        spread_bps: float = DEFAULT_SPREAD_BPS,
    ) -> None:
        self.root = Path(root)
        self.assets = list(assets)
        self.source = source
        self.fingerprint = fingerprint or {}
        self.spread_bps = float(spread_bps)
        info = exchange_info_specs()
        self.instruments = {a: make_perpetual(a, info) for a in self.assets}
        meta = read_meta(self.root)
        if meta is not None:
            if meta.get("assets") != self.assets:
                raise CatalogMismatchError(
                    f"{self.root}: catalog holds assets {meta.get('assets')[:5]}... (n={len(meta.get('assets', []))}), "
                    f"not the {len(self.assets)} requested; use another --out"
                )
            if meta.get("fingerprint", {}) != self.fingerprint or meta.get("spread_bps") != self.spread_bps:
                raise CatalogMismatchError(
                    f"{self.root}: catalog was built with {meta.get('fingerprint')} spread "
                    f"{meta.get('spread_bps')}; requested {self.fingerprint} spread {self.spread_bps}; "
                    "use another --out"
                )
            self.meta = meta
        else:
            self.meta = {
                "assets": self.assets,
                "days": [],
                "window": None,
                "source": source,
                "fingerprint": self.fingerprint,
                "seed": self.fingerprint.get("seed"),
                "spread_bps": self.spread_bps,
                "format": 1,
            }
        self.root.mkdir(parents=True, exist_ok=True)
        self.catalog = ParquetDataCatalog(str(self.root))

    @property
    def days(self) -> list[str]:
        """Completed days."""
        return list(self.meta.get("days", []))

    def _dir(self, cls: type, identifier: str | None = None) -> Path:
        d = self.root / "data" / class_to_filename(cls)
        return d / urisafe_identifier(identifier) if identifier else d

    def write_instruments(self) -> None:
        """Write the instruments (idempotent: same file name, same content)."""
        for inst in self.instruments.values():
            d = self._dir(type(inst), inst.id.value)
            if not any(d.glob("*.parquet")):
                self.catalog.write_data([inst])

    def _data_dirs(self) -> list[Path]:
        dirs = [self._dir(DolphinScan)]
        for a in self.assets:
            iid = instrument_id(a).value
            dirs.append(self._dir(QuoteTick, iid))
            dirs.append(self._dir(DolphinOBSnapshot, iid))
        return dirs

    def remove_incomplete(self) -> int:
        """Delete temp files and any data file that overlaps no completed day; return the count."""
        done = [day_bounds_ns(d) for d in self.days]
        removed = 0
        for d in self._data_dirs():
            if not d.is_dir():
                continue
            for f in d.iterdir():
                if f.name.endswith(".tmp"):
                    f.unlink()
                    removed += 1
                    continue
                iv = _parse_filename_timestamps(f.name) if f.suffix == ".parquet" else None
                if iv is None:
                    continue
                if not any(s <= iv[0] and iv[1] <= e for s, e in done):
                    f.unlink()
                    removed += 1
        return removed

    def write_day(self, date: str, frame: pd.DataFrame, ob: pd.DataFrame | None = None) -> DayWriteStats:
        """Write one normalised day (vbt_cache frame + optional OB frame); skip completed days."""
        if date in self.meta["days"]:
            return DayWriteStats(date, skipped=True)
        missing = [a for a in self.assets if a not in frame.columns]
        if missing:
            raise ValueError(f"{date}: frame lacks asset column(s) {missing[:5]}")
        d0, d1 = day_bounds_ns(date)
        ts = frame[TIMESTAMP_COL].to_numpy("datetime64[ns]").astype(np.int64)
        if len(ts) == 0:
            raise ValueError(f"{date}: no scans")
        if ts[0] < d0 or ts[-1] > d1:
            raise ValueError(f"{date}: timestamps leave the UTC day ({ts[0]}..{ts[-1]})")
        fname = _timestamps_to_filename(d0, d1)
        stats = DayWriteStats(date, skipped=False, scans=len(ts))
        for a in self.assets:
            inst = self.instruments[a]
            qt = quote_table(inst, frame[a].to_numpy(np.float64), ts, self.spread_bps)
            if qt.num_rows:
                _atomic_write_table(qt, self._dir(QuoteTick, inst.id.value) / fname)
            stats.quotes += qt.num_rows
        _atomic_write_table(scan_table(frame, self.assets), self._dir(DolphinScan) / fname)
        if ob is not None and len(ob):
            ob = ob[ob["asset"].isin(self.assets)]
            for a, tbl in ob_tables(ob).items():
                _atomic_write_table(tbl, self._dir(DolphinOBSnapshot, instrument_id(a).value) / fname)
                stats.ob_rows += tbl.num_rows
        days = sorted({*self.meta["days"], date})
        self.meta["days"] = days
        self.meta["window"] = [days[0], days[-1]]
        _atomic_write_json(self.meta, self.root / CATALOG_META)
        return stats


# -- readers ---------------------------------------------------------------------------------------


class DolphinCatalog:
    """Read side: one completed day at a time, as Nautilus objects in ts order."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        meta = read_meta(self.root)
        if meta is None:
            raise FileNotFoundError(
                f"{self.root / CATALOG_META} not found: build it with `dolphin catalog synth` or "
                "`dolphin catalog import VBT_CACHE_DIR`"
            )
        self.meta = meta
        self.catalog = ParquetDataCatalog(str(self.root))

    @property
    def assets(self) -> list[str]:
        """Asset order of ``DolphinScan.prices``."""
        return list(self.meta["assets"])

    @property
    def days(self) -> list[str]:
        """Completed days."""
        return list(self.meta["days"])

    def _check(self, date: str) -> tuple[int, int]:
        if date not in self.meta["days"]:
            raise KeyError(f"{self.root}: day {date} is not a completed day of this catalog")
        return day_bounds_ns(date)

    def instruments(self) -> list[CryptoPerpetual]:
        """The catalog's instruments, in asset order."""
        by_id = {i.id.value: i for i in self.catalog.instruments()}
        return [by_id[instrument_id(a).value] for a in self.assets if instrument_id(a).value in by_id]

    def load_scans(self, date: str) -> list[DolphinScan]:
        """The day's scans, ts-ordered."""
        s, e = self._check(date)
        rows = self.catalog.query(DolphinScan, start=s, end=e)
        out = [r.data if isinstance(r, CustomData) else r for r in rows]
        out.sort(key=lambda x: x.ts_init)
        return out

    def load_quotes(self, date: str, assets: Iterable[str] | None = None) -> list[QuoteTick]:
        """The day's QuoteTicks (all or some assets), ts-ordered (stable by asset order)."""
        s, e = self._check(date)
        ids = [instrument_id(a).value for a in (assets or self.assets)]
        quotes = self.catalog.query(QuoteTick, identifiers=ids, start=s, end=e)
        order = {iid: k for k, iid in enumerate(ids)}
        quotes.sort(key=lambda q: (q.ts_init, order.get(q.instrument_id.value, 0)))
        return quotes

    def load_ob_snapshots(self, date: str, assets: Iterable[str] | None = None) -> list[DolphinOBSnapshot]:
        """The day's recorded OB snapshots (empty when none), ts-ordered then by asset order."""
        s, e = self._check(date)
        ids = [instrument_id(a).value for a in (assets or self.assets)]
        rows = self.catalog.query(DolphinOBSnapshot, identifiers=ids, start=s, end=e)
        out = [r.data if isinstance(r, CustomData) else r for r in rows]
        order = {iid: k for k, iid in enumerate(ids)}
        out.sort(key=lambda x: (x.ts_init, order.get(x.instrument_id.value, 0)))
        return out

    def scans_frame(self, date: str) -> pd.DataFrame:
        """The day's scans as a vbt_cache-layout frame (columns as the loader returns them)."""
        scans = self.load_scans(date)
        ts = np.array([x.ts_init for x in scans], dtype=np.int64)
        cols: dict[str, Any] = {
            TIMESTAMP_COL: pd.to_datetime(ts, unit="ns"),
            SCAN_NUMBER_COL: np.array([x.scan_number for x in scans], dtype=np.int64),
            VEL_DIV_COL: np.array([x.vel_div for x in scans]),
        }
        for c in (*VELOCITY_COLS, *INSTABILITY_COLS):
            cols[c] = np.array([getattr(x, c) for x in scans])
        px = np.vstack([x.prices for x in scans]) if scans else np.empty((0, len(self.assets)))
        for k, a in enumerate(self.assets):
            cols[a] = px[:, k]
        return pd.DataFrame(cols)
