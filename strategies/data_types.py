"""Nautilus custom data types of DOLPHIN: the 5-second scan and the 5-level order-book snapshot.

Both use pattern A of ``shared/notes/nautilus-1.221.md`` §1: ``@customdataclass`` with an explicit
``_schema`` (real Arrow ``list<double>`` columns for the arrays), ``to_dict``/``from_dict`` and a
column-wise ``from_arrow`` so catalog queries decode whole tables without a per-row dict.

Names are chosen so neither is a prefix of the other (``DataType(X).topic`` is ``"X*"``).

This module must not use ``from __future__ import annotations`` (it breaks the decorator).
"""

import math
from typing import Any

import numpy as np
import pyarrow as pa
from nautilus_trader.core.data import Data
from nautilus_trader.model.custom import customdataclass
from nautilus_trader.model.identifiers import InstrumentId

from nautilus_dolphin.obf.types import N_LEVELS
from nautilus_dolphin.obf.types import OBSnapshot

PERP_SUFFIX: str = "-PERP"
VENUE: str = "BINANCE"

_F64_LIST = pa.list_(pa.float64())


def _f64(values: Any) -> np.ndarray:
    """Return ``values`` as a 1-D float64 array (None -> empty array)."""
    if values is None:
        return np.empty(0, dtype=np.float64)
    return np.asarray(values, dtype=np.float64).reshape(-1)


def _list_column_to_matrix(column: pa.ChunkedArray | pa.Array, n_rows: int) -> np.ndarray:
    """Turn a ``list<double>`` column of equal-length lists into an (n_rows, width) float64 matrix.

    Nulls inside the lists become NaN. Raises ValueError when the lists differ in length.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if n_rows == 0:
        return np.empty((0, 0), dtype=np.float64)
    offsets = column.offsets.to_numpy(zero_copy_only=False)
    lengths = np.diff(offsets)
    width = int(lengths[0])
    if not np.all(lengths == width):
        raise ValueError(f"list column has rows of different lengths: {sorted(set(lengths.tolist()))[:5]}")
    flat = column.flatten().to_numpy(zero_copy_only=False)
    return np.asarray(flat, dtype=np.float64).reshape(n_rows, width)


@customdataclass
class DolphinScan(Data):
    """One 5-second DOLPHIN scan: the eigenvalue features and one price per asset.

    ``prices`` follows the asset order recorded in ``catalog/dolphin_catalog.json`` (NaN = the
    asset had no valid price in this scan).
    """

    scan_number: int = 0
    vel_div: float = 0.0
    v50_lambda_max_velocity: float = 0.0
    v150_lambda_max_velocity: float = 0.0
    v300_lambda_max_velocity: float = 0.0
    v750_lambda_max_velocity: float = 0.0
    instability_50: float = 0.0
    instability_150: float = 0.0
    prices: np.ndarray = None

    _schema = pa.schema(
        {
            "scan_number": pa.int64(),
            "vel_div": pa.float64(),
            "v50_lambda_max_velocity": pa.float64(),
            "v150_lambda_max_velocity": pa.float64(),
            "v300_lambda_max_velocity": pa.float64(),
            "v750_lambda_max_velocity": pa.float64(),
            "instability_50": pa.float64(),
            "instability_150": pa.float64(),
            "prices": _F64_LIST,
            "type": pa.string(),
            "ts_event": pa.int64(),
            "ts_init": pa.int64(),
        },
    )

    def __post_init__(self) -> None:
        self.prices = _f64(self.prices)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DolphinScan):
            return NotImplemented
        return (
            self._scalars() == other._scalars()
            and self._ts_event == other._ts_event
            and self._ts_init == other._ts_init
            and np.array_equal(self.prices, other.prices, equal_nan=True)
        )

    __hash__ = None  # mutable arrays: not hashable

    def _scalars(self) -> tuple:
        return (
            self.scan_number,
            self.vel_div,
            self.v50_lambda_max_velocity,
            self.v150_lambda_max_velocity,
            self.v300_lambda_max_velocity,
            self.v750_lambda_max_velocity,
            self.instability_50,
            self.instability_150,
        )

    def to_dict(self) -> dict[str, Any]:
        """Return a plain dict (lists for arrays) with ``type``, ``ts_event`` and ``ts_init``."""
        return {
            "scan_number": int(self.scan_number),
            "vel_div": float(self.vel_div),
            "v50_lambda_max_velocity": float(self.v50_lambda_max_velocity),
            "v150_lambda_max_velocity": float(self.v150_lambda_max_velocity),
            "v300_lambda_max_velocity": float(self.v300_lambda_max_velocity),
            "v750_lambda_max_velocity": float(self.v750_lambda_max_velocity),
            "instability_50": float(self.instability_50),
            "instability_150": float(self.instability_150),
            "prices": _f64(self.prices).tolist(),
            "type": "DolphinScan",
            "ts_event": int(self._ts_event),
            "ts_init": int(self._ts_init),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DolphinScan":
        """Build a scan from ``to_dict`` output (``type`` is ignored)."""
        return cls(
            ts_event=int(data["ts_event"]),
            ts_init=int(data["ts_init"]),
            scan_number=int(data["scan_number"]),
            vel_div=float(data["vel_div"]),
            v50_lambda_max_velocity=float(data["v50_lambda_max_velocity"]),
            v150_lambda_max_velocity=float(data["v150_lambda_max_velocity"]),
            v300_lambda_max_velocity=float(data["v300_lambda_max_velocity"]),
            v750_lambda_max_velocity=float(data["v750_lambda_max_velocity"]),
            instability_50=float(data["instability_50"]),
            instability_150=float(data["instability_150"]),
            prices=_f64(data["prices"]),
        )

    @classmethod
    def from_arrow(cls, table: pa.Table | pa.RecordBatch) -> list["DolphinScan"]:
        """Decode a whole Arrow table column-wise (much faster than ``to_pylist``)."""
        n = table.num_rows
        if n == 0:
            return []
        cols = {name: table.column(name).to_numpy(zero_copy_only=False) for name in _SCAN_SCALARS}
        ts_event = table.column("ts_event").to_numpy(zero_copy_only=False)
        ts_init = table.column("ts_init").to_numpy(zero_copy_only=False)
        prices = _list_column_to_matrix(table.column("prices"), n)
        out: list[DolphinScan] = []
        for i in range(n):
            out.append(
                cls(
                    ts_event=int(ts_event[i]),
                    ts_init=int(ts_init[i]),
                    scan_number=int(cols["scan_number"][i]),
                    vel_div=float(cols["vel_div"][i]),
                    v50_lambda_max_velocity=float(cols["v50_lambda_max_velocity"][i]),
                    v150_lambda_max_velocity=float(cols["v150_lambda_max_velocity"][i]),
                    v300_lambda_max_velocity=float(cols["v300_lambda_max_velocity"][i]),
                    v750_lambda_max_velocity=float(cols["v750_lambda_max_velocity"][i]),
                    instability_50=float(cols["instability_50"][i]),
                    instability_150=float(cols["instability_150"][i]),
                    prices=prices[i].copy(),
                ),
            )
        return out


_SCAN_SCALARS: tuple[str, ...] = (
    "scan_number",
    "vel_div",
    "v50_lambda_max_velocity",
    "v150_lambda_max_velocity",
    "v300_lambda_max_velocity",
    "v750_lambda_max_velocity",
    "instability_50",
    "instability_150",
)

_OB_ARRAYS: tuple[str, ...] = ("bid_notional", "ask_notional", "bid_depth", "ask_depth")


def _asset_of(instrument_id: InstrumentId) -> str:
    sym = instrument_id.symbol.value
    return sym[: -len(PERP_SUFFIX)] if sym.endswith(PERP_SUFFIX) else sym


@customdataclass
class DolphinOBSnapshot(Data):
    """One 5-level order-book snapshot of one asset (seed 000 §2 payload) for the catalog.

    ``bid_notional``/``ask_notional`` are USDT notional per level and ``bid_depth``/``ask_depth``
    base quantity per level (level 0 = top of book, length 5). ``push_seq`` is -1 and
    ``pushed_at_ns`` 0 when unknown. ``ts_event`` is the snapshot's own timestamp.
    """

    instrument_id: InstrumentId = None
    bid_notional: np.ndarray = None
    ask_notional: np.ndarray = None
    bid_depth: np.ndarray = None
    ask_depth: np.ndarray = None
    push_seq: int = -1
    pushed_at_ns: int = 0

    _schema = pa.schema(
        {
            "instrument_id": pa.string(),
            "bid_notional": _F64_LIST,
            "ask_notional": _F64_LIST,
            "bid_depth": _F64_LIST,
            "ask_depth": _F64_LIST,
            "push_seq": pa.int64(),
            "pushed_at_ns": pa.int64(),
            "type": pa.string(),
            "ts_event": pa.int64(),
            "ts_init": pa.int64(),
        },
    )

    def __post_init__(self) -> None:
        if isinstance(self.instrument_id, str):
            self.instrument_id = InstrumentId.from_str(self.instrument_id)
        for name in _OB_ARRAYS:
            setattr(self, name, _f64(getattr(self, name)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DolphinOBSnapshot):
            return NotImplemented
        return (
            self.instrument_id == other.instrument_id
            and self.push_seq == other.push_seq
            and self.pushed_at_ns == other.pushed_at_ns
            and self._ts_event == other._ts_event
            and self._ts_init == other._ts_init
            and all(
                np.array_equal(getattr(self, n), getattr(other, n), equal_nan=True) for n in _OB_ARRAYS
            )
        )

    __hash__ = None

    @property
    def asset(self) -> str:
        """Return the DOLPHIN asset symbol (``BTCUSDT`` for ``BTCUSDT-PERP.BINANCE``)."""
        return _asset_of(self.instrument_id)

    def to_dict(self) -> dict[str, Any]:
        """Return a plain dict (lists for arrays, the instrument id as a string)."""
        return {
            "instrument_id": self.instrument_id.value,
            "bid_notional": _f64(self.bid_notional).tolist(),
            "ask_notional": _f64(self.ask_notional).tolist(),
            "bid_depth": _f64(self.bid_depth).tolist(),
            "ask_depth": _f64(self.ask_depth).tolist(),
            "push_seq": int(self.push_seq),
            "pushed_at_ns": int(self.pushed_at_ns),
            "type": "DolphinOBSnapshot",
            "ts_event": int(self._ts_event),
            "ts_init": int(self._ts_init),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DolphinOBSnapshot":
        """Build a snapshot from ``to_dict`` output (``type`` is ignored)."""
        iid = data["instrument_id"]
        return cls(
            ts_event=int(data["ts_event"]),
            ts_init=int(data["ts_init"]),
            instrument_id=iid if isinstance(iid, InstrumentId) else InstrumentId.from_str(iid),
            bid_notional=_f64(data["bid_notional"]),
            ask_notional=_f64(data["ask_notional"]),
            bid_depth=_f64(data["bid_depth"]),
            ask_depth=_f64(data["ask_depth"]),
            push_seq=int(data.get("push_seq", -1)),
            pushed_at_ns=int(data.get("pushed_at_ns", 0)),
        )

    @classmethod
    def from_arrow(cls, table: pa.Table | pa.RecordBatch) -> list["DolphinOBSnapshot"]:
        """Decode a whole Arrow table column-wise."""
        n = table.num_rows
        if n == 0:
            return []
        iids_raw = table.column("instrument_id").to_pylist()
        cache: dict[str, InstrumentId] = {}
        mats = {name: _list_column_to_matrix(table.column(name), n) for name in _OB_ARRAYS}
        seq = table.column("push_seq").to_numpy(zero_copy_only=False)
        pushed = table.column("pushed_at_ns").to_numpy(zero_copy_only=False)
        ts_event = table.column("ts_event").to_numpy(zero_copy_only=False)
        ts_init = table.column("ts_init").to_numpy(zero_copy_only=False)
        out: list[DolphinOBSnapshot] = []
        for i in range(n):
            s = iids_raw[i]
            iid = cache.get(s)
            if iid is None:
                iid = cache[s] = InstrumentId.from_str(s)
            out.append(
                cls(
                    ts_event=int(ts_event[i]),
                    ts_init=int(ts_init[i]),
                    instrument_id=iid,
                    bid_notional=mats["bid_notional"][i].copy(),
                    ask_notional=mats["ask_notional"][i].copy(),
                    bid_depth=mats["bid_depth"][i].copy(),
                    ask_depth=mats["ask_depth"][i].copy(),
                    push_seq=int(seq[i]),
                    pushed_at_ns=int(pushed[i]),
                ),
            )
        return out

    @classmethod
    def from_ob_snapshot(cls, snap: OBSnapshot, ts_init: int) -> "DolphinOBSnapshot":
        """Wrap an ``OBSnapshot`` (unix-second timestamps) as catalog data.

        ``ts_event`` is the snapshot timestamp in ns; a NaN ``pushed_at`` becomes 0.
        """
        pushed = snap.pushed_at
        pushed_ns = round(pushed * 1e9) if pushed is not None and math.isfinite(pushed) else 0
        return cls(
            ts_event=round(snap.timestamp * 1e9),
            ts_init=int(ts_init),
            instrument_id=InstrumentId.from_str(f"{snap.asset}{PERP_SUFFIX}.{VENUE}"),
            bid_notional=_f64(snap.bid_notional),
            ask_notional=_f64(snap.ask_notional),
            bid_depth=_f64(snap.bid_depth),
            ask_depth=_f64(snap.ask_depth),
            push_seq=int(snap.push_seq),
            pushed_at_ns=pushed_ns,
        )

    def to_ob_snapshot(self) -> OBSnapshot:
        """Return the engine-side ``OBSnapshot`` (timestamps in unix seconds; pushed_at NaN if 0)."""
        return OBSnapshot(
            asset=self.asset,
            timestamp=self._ts_event / 1e9,
            bid_notional=_f64(self.bid_notional).copy(),
            ask_notional=_f64(self.ask_notional).copy(),
            bid_depth=_f64(self.bid_depth).copy(),
            ask_depth=_f64(self.ask_depth).copy(),
            pushed_at=self.pushed_at_ns / 1e9 if self.pushed_at_ns else float("nan"),
            push_seq=int(self.push_seq),
        )


assert N_LEVELS == 5, "DolphinOBSnapshot arrays are 5 levels (seed 000 §2)"

__all__ = ["PERP_SUFFIX", "VENUE", "DolphinOBSnapshot", "DolphinScan"]
