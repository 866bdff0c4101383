"""``dolphin backtest`` on tiny data: exit codes, progress, summary, outputs, for both runners.

Most cases use the standalone runner on a vbt_cache directory (fast); the default (Nautilus)
runner is exercised on a small real catalog.
"""

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from nautilus_dolphin.backtest.traces import DAILY_TRACE
from nautilus_dolphin.backtest.traces import SUMMARY
from nautilus_dolphin.backtest.traces import TICK_TRACE
from nautilus_dolphin.backtest.traces import TRADE_TRACE
from nautilus_dolphin.cli import main


def test_backtest_runs_and_writes_outputs(vbt_catalog: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    rc = main(["backtest", "--catalog", str(vbt_catalog), "--days", "2", "--out", str(out), "--tick-trace",
               "--no-forewarner", "--runner", "standalone"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    for name in (TRADE_TRACE, DAILY_TRACE, TICK_TRACE, SUMMARY):
        assert (out / name).is_file(), name
    progress = [ln for ln in cap.err.splitlines() if "/2 2026-01-0" in ln]
    assert len(progress) == 2
    assert "ROI" in cap.out and "max DD (daily)" in cap.out and "liq_stops" in cap.out
    summary = json.loads((out / SUMMARY).read_text())
    assert summary["window"]["days"] == 2
    assert summary["engine"] == "d_liq"


def test_engine_choice_and_date_range(vbt_catalog: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "base"
    rc = main(["backtest", "--catalog", str(vbt_catalog / "vbt_cache"), "--engine", "baseline",
               "--start", "2026-01-02", "--end", "2026-01-03", "--out", str(out), "--quiet", "--no-forewarner",
               "--runner", "standalone"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    summary = json.loads((out / SUMMARY).read_text())
    assert summary["engine_class"] == "NDAlphaEngine"
    assert (summary["window"]["start"], summary["window"]["end"]) == ("2026-01-02", "2026-01-03")
    assert "/2 " not in cap.err  # --quiet


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--engine", "gold"], "unknown engine 'gold'"),
        (["--runner", "vectorbt"], "unknown runner 'vectorbt'"),
        (["--start", "2030-01-01"], "no days in range"),
        (["--start", "01/02/2026"], "--start must be YYYY-MM-DD"),
        (["--start", "2026-01-03", "--end", "2026-01-01"], "is after --end"),
        (["--days", "2", "--start", "2026-01-01"], "either --start/--end or --days"),
        (["--days", "0"], "--days must be >= 1"),
        (["--realistic"], "--realistic"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    vbt_catalog: Path, tmp_path: Path, capsys: pytest.CaptureFixture, argv: list[str], message: str
) -> None:
    rc = main(["backtest", "--catalog", str(vbt_catalog), "--out", str(tmp_path / "o"), "--runner", "standalone",
               *argv])
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err
    assert not (tmp_path / "o" / SUMMARY).exists()


def test_missing_catalog_directory_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rc = main(["backtest", "--catalog", str(tmp_path / "nope")])
    assert rc == 2
    assert "catalog directory not found" in capsys.readouterr().err


def test_catalog_without_days_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "empty" / "vbt_cache").mkdir(parents=True)
    rc = main(["backtest", "--catalog", str(tmp_path / "empty"), "--runner", "standalone"])
    assert rc == 2
    assert "no YYYY-MM-DD.parquet files" in capsys.readouterr().err


def test_no_arguments_builds_the_default_catalog_then_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, request: pytest.FixtureRequest
) -> None:
    """With no arguments: default catalog (./catalog) is built when missing, D_LIQ runs, outputs in runs/."""
    write_catalog = request.getfixturevalue("nautilus_catalog_factory")
    calls: list[int] = []

    def ensure_default_catalog(root: Path = Path("catalog"), **_: object) -> Path:
        """Fake builder at the outermost edge: writes a tiny real catalog instead of the synthetic market."""
        if not (Path(root) / "dolphin_catalog.json").is_file():
            calls.append(1)
            print("building the default catalog (fake)", file=sys.stderr)
            write_catalog(Path(root), 2, 800)
        return Path(root)

    fake = types.ModuleType("strategies.catalog_cli")
    fake.ensure_default_catalog = ensure_default_catalog  # type: ignore[attr-defined]
    fake.register = lambda subparsers: None  # type: ignore[attr-defined]  # the top-level CLI registers it
    monkeypatch.setitem(sys.modules, "strategies.catalog_cli", fake)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DOLPHIN_CATALOG", raising=False)
    rc = main(["backtest", "--no-forewarner"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert calls == [1]
    assert "building the default catalog" in cap.err
    summary = json.loads((tmp_path / "runs" / "backtest" / "d_liq" / SUMMARY).read_text())
    assert summary["engine"] == "d_liq" and summary["window"]["days"] == 2
    # second run: data present, no build
    assert main(["backtest", "--no-forewarner", "--quiet"]) == 0
    assert calls == [1]  # built once


def test_dolphin_catalog_env_is_the_default(
    vbt_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DOLPHIN_CATALOG", str(vbt_catalog))
    assert main(["backtest", "--days", "1", "--quiet", "--no-forewarner", "--runner", "standalone"]) == 0
    assert str(vbt_catalog) in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_console_script_subprocess(vbt_catalog: Path, tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("dolphin")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "nautilus_dolphin.cli"]
    out = tmp_path / "sub"
    proc = subprocess.run(
        [*cmd, "backtest", "--catalog", str(vbt_catalog), "--days", "1", "--out", str(out), "--no-forewarner",
         "--runner", "standalone"],
        capture_output=True, text=True, timeout=110, env={**os.environ, "NUMBA_DISABLE_JIT": "0"},
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / TRADE_TRACE).is_file()
    bad = subprocess.run([*cmd, "backtest", "--catalog", str(tmp_path / "missing")],
                         capture_output=True, text=True, timeout=110)
    assert bad.returncode == 2
    assert "catalog directory not found" in bad.stderr


def test_corrupt_day_file_exits_2_naming_the_file(
    vbt_catalog: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    bad = vbt_catalog / "vbt_cache" / "2026-01-02.parquet"
    bad.write_bytes(b"")
    rc = main(["backtest", "--catalog", str(vbt_catalog), "--out", str(tmp_path / "o"), "--no-forewarner",
               "--runner", "standalone"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "bad data" in err and "2026-01-02.parquet" in err


def test_vbt_cache_directory_with_the_default_runner_says_how_to_import(
    vbt_catalog: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    rc = main(["backtest", "--catalog", str(vbt_catalog), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2
    assert "not a DOLPHIN catalog" in err and "dolphin catalog import" in err and "--runner standalone" in err


@pytest.mark.slow
def test_nautilus_runner_on_a_small_catalog_writes_both_report_sets(
    nautilus_catalog: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "n"
    rc = main(["backtest", "--catalog", str(nautilus_catalog), "--out", str(out), "--no-forewarner",
               "--ob", "none"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert "runner nautilus" in cap.out
    summary = json.loads((out / SUMMARY).read_text())
    assert summary["window"]["days"] == 2 and summary["engine"] == "d_liq"
    for name in (TRADE_TRACE, DAILY_TRACE, SUMMARY):
        assert (out / name).is_file(), name
    assert any(p.name.startswith("order_fills") or "fills" in p.name for p in out.iterdir())
