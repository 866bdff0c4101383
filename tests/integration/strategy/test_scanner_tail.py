"""``ScannerActor`` warm-up: the saved price tail and a recorded file continue the kernel's windows."""

import numpy as np
import pandas as pd
import pytest
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from support.engine_frames import ASSETS6
from support.engine_frames import nautilus_objects_for_frame
from support.engine_frames import scenario_frame

from nautilus_dolphin.kernels.eigen import EigenScanner
from strategies.scanner_actor import ScannerActor
from strategies.scanner_actor import ScannerActorConfig
from strategies.venue import add_binance_usdtm_venue

WINDOWS = (4, 8, 12, 16)


def _frame() -> pd.DataFrame:
    df = scenario_frame(n=80, signal_bar=60)
    rng = np.random.default_rng(3)
    df[ASSETS6] = (df[ASSETS6] * np.exp(np.cumsum(rng.normal(0, 2e-3, (len(df), 6)), axis=0))).round(4)
    return df


def _run_scanner(df: pd.DataFrame, **cfg) -> tuple[list, ScannerActor]:
    """Run a ScannerActor (5 s timer) over the frame's quotes in a BacktestEngine; its published scans."""
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True)))
    add_binance_usdtm_venue(engine, 1000.0)
    instruments, quotes, _, _ = nautilus_objects_for_frame(df, ASSETS6)
    for inst in instruments:
        engine.add_instrument(inst)
    engine.add_data(quotes)
    actor = ScannerActor(ScannerActorConfig(assets=tuple(ASSETS6), interval_secs=5.0, windows=WINDOWS, **cfg))
    engine.add_actor(actor)
    published: list = []
    engine.kernel.msgbus.subscribe("data.DolphinScan*", published.append)
    try:
        engine.run()
    finally:
        engine.dispose()  # stops the actor: on_stop writes the tail
    return published, actor


def _continued(first: list, second: list) -> np.ndarray:
    """vel_div of one kernel fed the first run's prices, then the second run's: the uninterrupted scanner."""
    ref = EigenScanner(6, WINDOWS)
    for s in first:
        ref.update(s.prices)
    return np.array([ref.update(s.prices)[-1] for s in second])


@pytest.mark.timeout(120)
def test_restart_continues_the_windows_from_the_saved_tail(tmp_path) -> None:
    df = _frame()
    tail = tmp_path / "scanner_tail.npz"
    first, a = _run_scanner(df.iloc[:40], tail_path=str(tail))
    assert tail.is_file() and a.warmup_rows == 0
    saved = np.load(tail)
    assert saved["prices"].shape == (max(WINDOWS) + 1, 6) and tuple(saved["assets"]) == tuple(ASSETS6)
    second, b = _run_scanner(df.iloc[40:], tail_path=str(tail))
    assert b.warmup_rows == max(WINDOWS) + 1 and b.warmup_source.startswith("tail")
    got = np.array([s.vel_div for s in second])
    continued = _continued(first, second)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, continued, rtol=1e-6, atol=1e-9)
    # without the tail the windows refill first: NaN signals (no entries) for max(windows) scans
    cold, c = _run_scanner(df.iloc[40:])
    cold_vd = np.array([s.vel_div for s in cold])
    assert np.isnan(cold_vd[: max(WINDOWS)]).all() and np.isfinite(cold_vd[max(WINDOWS) :]).all()
    assert c.warming_scans == max(WINDOWS) and b.warming_scans == 0


@pytest.mark.timeout(120)
def test_warm_up_from_a_recorded_file_and_stale_or_foreign_tails_are_ignored(tmp_path) -> None:
    df = _frame()
    first, _ = _run_scanner(df.iloc[:40])
    recorded = pd.DataFrame(np.vstack([s.prices for s in first]), columns=list(ASSETS6))
    path = tmp_path / "recorded.parquet"
    recorded.to_parquet(path)
    tail = tmp_path / "old_tail.npz"
    np.savez(tail, assets=np.asarray(ASSETS6), prices=np.ones((17, 6)), saved_at=0.0)  # 1970: too old
    second, b = _run_scanner(df.iloc[40:], tail_path=str(tail), warmup_path=str(path))
    assert b.warmup_source == f"file {path}" and b.warmup_rows == max(WINDOWS) + 1
    got = np.array([s.vel_div for s in second])
    np.testing.assert_allclose(got, _continued(first, second), rtol=1e-6, atol=1e-9)
    with pytest.raises(ValueError, match=r"lacks asset column\(s\) \['AAAUSDT'\]"):
        recorded.drop(columns=["AAAUSDT"]).to_parquet(path)
        _run_scanner(df.iloc[40:], warmup_path=str(path))
