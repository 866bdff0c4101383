"""Trace writers: columns, cell formatting, streaming tick trace, deterministic bytes."""

import csv
import json
import math
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from nautilus_dolphin.backtest.traces import DAY_COLUMNS
from nautilus_dolphin.backtest.traces import TRADE_COLUMNS
from nautilus_dolphin.backtest.traces import TickTraceWriter
from nautilus_dolphin.backtest.traces import format_cell
from nautilus_dolphin.backtest.traces import summary_json_text
from nautilus_dolphin.backtest.traces import write_daily_trace
from nautilus_dolphin.backtest.traces import write_summary
from nautilus_dolphin.backtest.traces import write_trade_trace
from nautilus_dolphin.engine.records import NDTradeRecord

TradeFactory = Callable[..., NDTradeRecord]


def _read(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "True"),
        (np.bool_(False), "False"),
        (7, "7"),
        (np.int64(-3), "-3"),
        (0.1, "0.1"),
        (np.float64(1 / 3), "0.3333333333333333"),
        (1e-20, "1e-20"),
        (math.nan, "nan"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        ("FIXED_TP", "FIXED_TP"),
        ({"b": 1, "a": [1.5, None]}, '{"a":[1.5,null],"b":1}'),
    ],
)
def test_format_cell(value: object, text: str) -> None:
    assert format_cell(value) == text


def test_format_cell_floats_round_trip_exactly() -> None:
    rng = np.random.default_rng(3)
    for x in rng.normal(0, 1e4, 200):
        assert float(format_cell(x)) == float(x)


def test_trade_trace_has_every_record_field_and_round_trips(tmp_path: Path, make_trade: TradeFactory) -> None:
    assert TRADE_COLUMNS == tuple(f.name for f in fields(NDTradeRecord))
    trades = [make_trade(1, 12.345678901234567, liq_stop=True), make_trade(2, -0.1, exit_reason="MAX_HOLD")]
    rows = _read(write_trade_trace(tmp_path / "t.csv", trades))
    assert rows[0] == list(TRADE_COLUMNS)
    assert len(rows) == 3
    first = dict(zip(rows[0], rows[1]))
    assert float(first["pnl"]) == 12.345678901234567
    assert first["liq_stop"] == "True"
    assert first["trade_id"] == "1"
    assert dict(zip(rows[0], rows[2]))["exit_reason"] == "MAX_HOLD"


def test_daily_trace_contract_columns_first_then_extras_sorted(tmp_path: Path) -> None:
    days = [
        {"date": "2026-01-01", "capital_start": 1.0, "capital_end": 2.0, "zz": 1, "aa": 2},
        {"date": "2026-01-02", "capital_start": 2.0, "capital_end": 2.5, "mm": 3},
    ]
    rows = _read(write_daily_trace(tmp_path / "d.csv", days))
    assert rows[0] == [*DAY_COLUMNS, "aa", "mm", "zz"]
    assert rows[1][:3] == ["2026-01-01", "1.0", "2.0"]
    assert rows[1][rows[0].index("mm")] == ""  # missing key: empty cell
    assert rows[2][rows[0].index("mm")] == "3"
    assert len(rows) == 3


def test_tick_trace_streams_and_fixes_header_from_first_row(tmp_path: Path) -> None:
    path = tmp_path / "tick.csv"
    with TickTraceWriter(path) as w:
        w.set_date("2026-01-01")
        w({"bar_idx": 0, "vel_div": -0.03, "vol_ok": True})
        w({"bar_idx": 1, "vel_div": math.nan, "extra": 5})
        w.set_date("2026-01-02")
        w({"date": "2026-01-09", "bar_idx": 0})
        assert w.rows == 3
    rows = _read(path)
    assert rows[0] == ["date", "bar_idx", "vel_div", "vol_ok"]
    assert rows[1] == ["2026-01-01", "0", "-0.03", "True"]
    assert rows[2] == ["2026-01-01", "1", "nan", ""]
    assert rows[3] == ["2026-01-09", "0", "", ""]  # the dict's own date wins
    assert w.dropped_keys == ["extra"]
    w.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        w({"bar_idx": 2})


def test_tick_trace_does_not_hold_rows_in_memory(tmp_path: Path) -> None:
    w = TickTraceWriter(tmp_path / "tick.csv")
    for i in range(5000):
        w({"bar_idx": i, "v": float(i)})
    w.close()
    assert not any(isinstance(v, list) and len(v) >= 5000 for v in vars(w).values())
    assert len(_read(tmp_path / "tick.csv")) == 5001


def test_empty_tick_trace_still_has_a_header(tmp_path: Path) -> None:
    TickTraceWriter(tmp_path / "tick.csv").close()
    assert _read(tmp_path / "tick.csv") == [["date"]]


def test_summary_json_is_strict_sorted_and_stable(tmp_path: Path) -> None:
    summary = {"b": math.inf, "a": {"y": np.float64(0.5), "x": np.int64(2)}, "c": [math.nan, True]}
    text = summary_json_text(summary)
    assert json.loads(text) == {"a": {"x": 2, "y": 0.5}, "b": None, "c": [None, True]}
    assert text.index('"a"') < text.index('"b"') < text.index('"c"')
    p1 = write_summary(tmp_path / "s1.json", summary)
    p2 = write_summary(tmp_path / "s2.json", dict(reversed(list(summary.items()))))
    assert p1.read_bytes() == p2.read_bytes()
    assert p1.read_bytes().endswith(b"}\n")


def test_trace_files_are_byte_identical_across_writes(tmp_path: Path, make_trade: TradeFactory) -> None:
    trades = [make_trade(i, (-1) ** i * i / 7.0) for i in range(1, 30)]
    a = write_trade_trace(tmp_path / "a.csv", trades).read_bytes()
    b = write_trade_trace(tmp_path / "b.csv", list(trades)).read_bytes()
    assert a == b
    assert b"\r\n" not in a
