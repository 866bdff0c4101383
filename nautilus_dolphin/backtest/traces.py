"""Trace writers: ``trade_trace.csv``, ``daily_trace.csv``, ``tick_trace.csv`` and ``summary.json``.

The same files are written by the standalone harness and (later) the Nautilus runner, so the two
can be diffed. Output is deterministic: the same run gives byte-identical files. Cells are
formatted by :func:`format_cell`: floats with ``repr`` (the shortest string that round-trips the
float64 exactly, locale-independent), ``nan``/``inf``/``-inf`` for non-finite floats, ``True`` /
``False`` for booleans, an empty cell for ``None``, compact sorted JSON for dicts and lists. Lines
end with ``\\n``; files are UTF-8.
"""

import csv
import io
import json
import math
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any
from typing import TextIO

import numpy as np

from nautilus_dolphin.engine.records import NDTradeRecord

TRADE_TRACE: str = "trade_trace.csv"
DAILY_TRACE: str = "daily_trace.csv"
TICK_TRACE: str = "tick_trace.csv"
SUMMARY: str = "summary.json"

TRADE_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(NDTradeRecord))
"""Every ``NDTradeRecord`` field, in declaration order."""

DAY_COLUMNS: tuple[str, ...] = (
    "date",
    "capital_start",
    "capital_end",
    "pnl",
    "trades",
    "wins",
    "losses",
    "fees",
    "bars",
    "bars_skipped",
    "mc_status",
    "acb_boost",
    "acb_beta",
    "liq_stops",
    "max_leverage_used",
    "open_position",
)
"""The day-dict keys of contracts §5, in that order; extra keys follow, sorted by name."""


def format_cell(value: Any) -> str:
    """Return the deterministic text of one CSV cell (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping | list | tuple | np.ndarray):
        return json.dumps(_jsonable(value), sort_keys=True, separators=(",", ":"), allow_nan=False)
    if hasattr(value, "to_dict"):
        return json.dumps(_jsonable(value.to_dict()), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return str(value)


def _jsonable(value: Any) -> Any:
    """Convert to JSON-safe Python types; non-finite floats become None (strict JSON has no NaN)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    if hasattr(value, "to_dict"):
        return _jsonable(value.to_dict())
    return str(value)


def _writer(fh: TextIO) -> Any:
    return csv.writer(fh, lineterminator="\n")


def write_trade_trace(path: str | Path, trades: Iterable[NDTradeRecord]) -> Path:
    """Write one row per trade with every ``NDTradeRecord`` field (``TRADE_COLUMNS``)."""
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = _writer(fh)
        w.writerow(TRADE_COLUMNS)
        for t in trades:
            w.writerow([format_cell(getattr(t, c)) for c in TRADE_COLUMNS])
    return path


def day_columns(days: Sequence[Mapping[str, Any]]) -> list[str]:
    """Return ``DAY_COLUMNS`` followed by any extra keys found in ``days``, sorted."""
    extra = sorted({k for d in days for k in d} - set(DAY_COLUMNS))
    return [*DAY_COLUMNS, *extra]


def write_daily_trace(path: str | Path, days: Sequence[Mapping[str, Any]]) -> Path:
    """Write one row per day (``day_columns(days)``; missing keys are empty cells)."""
    path = Path(path)
    cols = day_columns(days)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = _writer(fh)
        w.writerow(cols)
        for d in days:
            w.writerow([format_cell(d.get(c)) for c in cols])
    return path


class TickTraceWriter:
    """Stream the engine's per-bar ``tick_hook`` dicts to ``tick_trace.csv``, one row per bar.

    Rows go straight to disk (buffered), nothing is kept in memory. The header is fixed by the first
    row: ``date`` first (added from :meth:`set_date` when the engine's dict has none), then the
    first dict's keys in their order. Later rows missing a key get an empty cell; keys not in the
    header are dropped and listed in :attr:`dropped_keys` (sorted) so nothing is lost silently.
    Use as a context manager or call :meth:`close`.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fh: TextIO | None = self.path.open("w", encoding="utf-8", newline="", buffering=1 << 20)
        self._w = _writer(self._fh)
        self._cols: list[str] | None = None
        self._colset: frozenset[str] = frozenset()
        self._date: str = ""
        self.rows: int = 0
        self._dropped: set[str] = set()

    @property
    def dropped_keys(self) -> list[str]:
        """Keys that appeared after the header was fixed and were not written."""
        return sorted(self._dropped)

    def set_date(self, date_str: str) -> None:
        """Set the date stamped on rows whose dict carries no ``date`` key."""
        self._date = date_str

    def __call__(self, tick: Mapping[str, Any]) -> None:
        """Write one bar (the engine's ``tick_hook`` signature)."""
        if self._fh is None:
            raise ValueError(f"tick trace {self.path} is closed")
        if self._cols is None:
            self._cols = ["date", *[k for k in tick if k != "date"]]
            self._colset = frozenset(self._cols)
            self._w.writerow(self._cols)
        if not self._colset.issuperset(tick):
            self._dropped.update(k for k in tick if k not in self._colset)
        row = [format_cell(tick.get("date", self._date))]
        row.extend(format_cell(tick.get(c)) for c in self._cols[1:])
        self._w.writerow(row)
        self.rows += 1

    def close(self) -> None:
        """Flush and close the file (idempotent); writes a ``date`` header if no row came."""
        if self._fh is not None:
            if self._cols is None:
                self._w.writerow(["date"])
            self._fh.close()
            self._fh = None

    def __enter__(self) -> "TickTraceWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def summary_json_text(summary: Mapping[str, Any]) -> str:
    """Return the deterministic JSON text of a summary (sorted keys, indent 2, non-finite -> null)."""
    buf = io.StringIO()
    json.dump(_jsonable(summary), buf, sort_keys=True, indent=2, allow_nan=False)
    buf.write("\n")
    return buf.getvalue()


def write_summary(path: str | Path, summary: Mapping[str, Any]) -> Path:
    """Write ``summary.json`` (see :func:`summary_json_text`)."""
    path = Path(path)
    path.write_text(summary_json_text(summary), encoding="utf-8", newline="\n")
    return path
