"""``dolphin bench harness`` on a tiny data directory (the full window is a benchmark script)."""

from pathlib import Path

import pytest

from nautilus_dolphin.cli import main


@pytest.mark.slow
def test_bench_harness_prints_figures(vbt_catalog: Path, capsys: pytest.CaptureFixture) -> None:
    rc = main(["bench", "harness", "--data", str(vbt_catalog), "--days", "2"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "2 days x 6 assets, 3,000 bars" in out
    assert "run, including loading" in out and "bars/s" in out


def test_bench_harness_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["bench", "harness", "--data", str(tmp_path / "missing")]) == 2
    assert "data directory not found" in capsys.readouterr().err
    assert main(["bench", "harness", "--days", "0"]) == 2
