"""vbt_cache loader: normal loading and the documented behaviour on bad files."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nautilus_dolphin.data.schema import SIGNAL_COLS
from nautilus_dolphin.data.vbt_cache import VbtCache
from nautilus_dolphin.data.vbt_cache import VbtCacheError
from nautilus_dolphin.data.vbt_cache import load_day
from nautilus_dolphin.data.vbt_cache import read_day
from nautilus_dolphin.data.volatility import dvol_per_bar
from nautilus_dolphin.data.volatility import gold_vol_p60

ASSETS_SMALL = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]


def _write(df: pd.DataFrame, path) -> None:
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path)


def test_loads_float64_canonical_order(tmp_path, frame) -> None:
    _write(frame, tmp_path / "2026-01-05.parquet")
    day = read_day(tmp_path / "2026-01-05.parquet")
    assert day.date == "2026-01-05"
    assert day.asset_columns == sorted(ASSETS_SMALL)
    assert list(day.df.columns[:9]) == ["timestamp", "scan_number", *SIGNAL_COLS]
    assert all(day.df[c].dtype == np.float64 for c in (*SIGNAL_COLS, *ASSETS_SMALL))
    np.testing.assert_array_equal(day.df["ETHUSDT"].to_numpy(), frame["ETHUSDT"].to_numpy())
    np.testing.assert_allclose(day.dvol, dvol_per_bar(frame["BTCUSDT"].to_numpy()), equal_nan=True)
    date, df, acols, dvol = load_day(tmp_path / "2026-01-05.parquet")
    assert date == "2026-01-05" and acols == day.asset_columns and len(dvol) == len(df)


def test_shuffled_columns(tmp_path, frame) -> None:
    cols = list(frame.columns)
    rng = np.random.default_rng(5)
    rng.shuffle(cols)
    shuffled = frame[cols].copy()
    _write(shuffled, tmp_path / "2026-01-05.parquet")
    a = read_day(tmp_path / "2026-01-05.parquet").df
    _write(frame, tmp_path / "ref.parquet")
    b = read_day(tmp_path / "ref.parquet").df
    pd.testing.assert_frame_equal(a, b)


def test_float32_file_is_cast(tmp_path, frame) -> None:
    f32 = frame.astype({c: np.float32 for c in (*SIGNAL_COLS, *ASSETS_SMALL)})
    _write(f32, tmp_path / "2026-01-05.parquet")
    df = read_day(tmp_path / "2026-01-05.parquet").df
    assert df["BTCUSDT"].dtype == np.float64
    np.testing.assert_allclose(df["BTCUSDT"], frame["BTCUSDT"], rtol=1e-6)


def test_nan_vel_div_rows_are_kept(tmp_path, frame) -> None:
    frame.loc[[3, 7, 50], "vel_div"] = np.nan
    _write(frame, tmp_path / "2026-01-05.parquet")
    df = read_day(tmp_path / "2026-01-05.parquet").df
    assert len(df) == len(frame)
    assert df["vel_div"].isna().sum() == 3


def test_missing_column(tmp_path, frame) -> None:
    _write(frame.drop(columns=["instability_150"]), tmp_path / "2026-01-05.parquet")
    with pytest.raises(VbtCacheError, match=r"2026-01-05\.parquet.*missing required column.*instability_150"):
        read_day(tmp_path / "2026-01-05.parquet")


def test_duplicate_timestamps(tmp_path, frame) -> None:
    frame.loc[10, "timestamp"] = frame.loc[9, "timestamp"]
    _write(frame, tmp_path / "2026-01-05.parquet")
    with pytest.raises(VbtCacheError, match=r"column 'timestamp', row 10: duplicate timestamp"):
        read_day(tmp_path / "2026-01-05.parquet")


def test_zero_byte_file(tmp_path) -> None:
    (tmp_path / "2026-01-05.parquet").write_bytes(b"")
    with pytest.raises(VbtCacheError, match="zero-byte file"):
        read_day(tmp_path / "2026-01-05.parquet")


def test_empty_file(tmp_path, frame) -> None:
    _write(frame.iloc[:0], tmp_path / "2026-01-05.parquet")
    with pytest.raises(VbtCacheError, match=r"empty file \(0 rows\)"):
        read_day(tmp_path / "2026-01-05.parquet")


def test_strings_in_price_column(tmp_path, frame) -> None:
    bad = frame.astype({"ETHUSDT": object})
    bad["ETHUSDT"] = bad["ETHUSDT"].astype(str)
    bad.loc[4, "ETHUSDT"] = "n/a"
    _write(bad, tmp_path / "2026-01-05.parquet")
    with pytest.raises(VbtCacheError, match=r"column 'ETHUSDT', row 4 \(value 'n/a'\).*expected float"):
        read_day(tmp_path / "2026-01-05.parquet")


def test_non_positive_price(tmp_path, frame) -> None:
    frame.loc[6, "SOLUSDT"] = 0.0
    _write(frame, tmp_path / "2026-01-05.parquet")
    with pytest.raises(VbtCacheError, match=r"column 'SOLUSDT', row 6: price must be finite and > 0"):
        read_day(tmp_path / "2026-01-05.parquet")


def test_unix_seconds_timestamps(tmp_path, frame) -> None:
    f = frame.copy()
    f["timestamp"] = f["timestamp"].astype("int64") / 1e9
    _write(f, tmp_path / "2026-01-05.parquet")
    df = read_day(tmp_path / "2026-01-05.parquet").df
    pd.testing.assert_series_equal(df["timestamp"], frame["timestamp"], check_names=False)


def test_cache_lazy_days_and_vol_p60(tmp_path, make_frame) -> None:
    frames = [make_frame(200, f"2026-01-0{d}", seed=d) for d in (1, 2, 3)]
    for d, f in zip((1, 2, 3), frames):
        _write(f, tmp_path / f"2026-01-0{d}.parquet")
    (tmp_path / "notes.txt").write_text("ignored")
    cache = VbtCache(tmp_path)
    assert cache.dates == ["2026-01-01", "2026-01-02", "2026-01-03"]
    assert cache.vol_p60 == pytest.approx(gold_vol_p60([f["BTCUSDT"].to_numpy() for f in frames[:2]]))
    it = cache.iter_days()
    date, df, acols, dvol = next(it)
    assert date == "2026-01-01" and len(df) == 200 and acols == sorted(ASSETS_SMALL) and len(dvol) == 200
    assert [d for d, *_ in it] == ["2026-01-02", "2026-01-03"]
    assert cache.load_ob_day("2026-01-01") is None


def test_extra_numeric_column_is_an_asset(tmp_path, frame) -> None:
    frame["XRPUSDT"] = 2.0
    _write(frame, tmp_path / "2026-01-05.parquet")
    assert "XRPUSDT" in read_day(tmp_path / "2026-01-05.parquet").asset_columns
