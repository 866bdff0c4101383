"""Scan-frame validation and the per-scan data-quality score."""

import numpy as np
import pytest

from nautilus_dolphin.data.schema import SIGNAL_COLS
from nautilus_dolphin.data.schema import ScanValidationError
from nautilus_dolphin.data.schema import frame_quality
from nautilus_dolphin.data.schema import scan_quality
from nautilus_dolphin.data.schema import validate_scan_frame


def test_valid_frame_passes(frame) -> None:
    before = frame.copy()
    assert validate_scan_frame(frame, "f.parquet") is None  # no ScanValidationError raised
    assert frame.equals(before)  # validation never rewrites the caller's frame


@pytest.mark.parametrize(
    ("mutate", "pattern"),
    [
        (lambda f: f.drop(columns=["vel_div"]), r"f\.parquet, column 'vel_div': missing required"),
        (lambda f: f.assign(v50_lambda_max_velocity=f["v50_lambda_max_velocity"].where(f.index != 5, np.inf)),
         r"column 'v50_lambda_max_velocity', row 5: non-finite"),
        (lambda f: f.assign(ETHUSDT=f["ETHUSDT"].where(f.index != 8, -1.0)), r"column 'ETHUSDT', row 8: price must be"),
        (lambda f: f.iloc[::-1].reset_index(drop=True), r"column 'timestamp', row 1: decreasing timestamp"),
        (lambda f: f.assign(SOLUSDT=["abc" if i == 3 else str(v) for i, v in enumerate(f["SOLUSDT"])]),
         r"column 'SOLUSDT', row 3: non-numeric dtype object \(value 'abc'\)"),
    ],
)
def test_errors_name_file_column_row(frame, mutate, pattern) -> None:
    with pytest.raises(ScanValidationError, match=pattern):
        validate_scan_frame(mutate(frame), "f.parquet")


def test_nan_signals_allowed_unless_strict(frame) -> None:
    frame.loc[2, "vel_div"] = np.nan
    validate_scan_frame(frame, "f")
    with pytest.raises(ScanValidationError, match="row 2"):
        validate_scan_frame(frame, "f", allow_nan_signals=False)


def test_quality_score() -> None:
    prices = np.array([[1.0, 2.0, 3.0, 4.0], [1.0, np.nan, 0.0, 4.0]])
    signals = np.array([[0.1, 0.2], [np.nan, 0.2]])
    np.testing.assert_allclose(scan_quality(prices, signals), [1.0, 0.5 * 0.5 + 0.5 * 0.5])
    with pytest.raises(ValueError):
        scan_quality(prices, signals[:1])


def test_frame_quality(frame) -> None:
    frame.loc[0, "BTCUSDT"] = np.nan
    q = frame_quality(frame)
    assert q[1] == 1.0
    assert q[0] == pytest.approx(0.5 * 2 / 3 + 0.5)
    assert len(SIGNAL_COLS) == 7
