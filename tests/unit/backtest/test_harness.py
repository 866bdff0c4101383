"""The standalone harness end to end on small hand-built DOLPHIN-format frames."""

import csv
import json
from collections.abc import Callable
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from nautilus_dolphin.backtest.harness import bar_timestamps
from nautilus_dolphin.backtest.harness import engine_factory_for
from nautilus_dolphin.backtest.harness import list_vbt_dates
from nautilus_dolphin.backtest.harness import load_vbt_day
from nautilus_dolphin.backtest.harness import run_backtest
from nautilus_dolphin.backtest.harness import run_gold
from nautilus_dolphin.backtest.harness import select_dates
from nautilus_dolphin.backtest.traces import DAILY_TRACE
from nautilus_dolphin.backtest.traces import SUMMARY
from nautilus_dolphin.backtest.traces import TICK_TRACE
from nautilus_dolphin.backtest.traces import TRADE_TRACE
from nautilus_dolphin.config import ENGINE_KWARGS
from nautilus_dolphin.data.volatility import dvol_per_bar
from nautilus_dolphin.data.volatility import gold_vol_p60
from nautilus_dolphin.engine import LiquidationGuardEngine
from nautilus_dolphin.engine import create_d_liq_engine
from nautilus_dolphin.risk.acb import AdaptiveCircuitBreaker

DaysFactory = Callable[..., list[tuple]]


class RecordingEngine(LiquidationGuardEngine):
    """The real D_LIQ engine, recording the wiring calls and the vol filter it is given."""

    def __init__(self, **kwargs: Any) -> None:
        from nautilus_dolphin.config import D_LIQ_ABS_CAP
        from nautilus_dolphin.config import D_LIQ_MC_REF
        from nautilus_dolphin.config import D_LIQ_SOFT_CAP

        super().__init__(
            soft_cap=D_LIQ_SOFT_CAP, hard_cap=D_LIQ_ABS_CAP, mc_ref=D_LIQ_MC_REF, adaptive_beta=True, **kwargs
        )
        self.calls: list[str] = []
        self.vol_masks: list[np.ndarray] = []

    def set_ob_engine(self, ob_engine: Any) -> None:
        self.calls.append("set_ob_engine")
        super().set_ob_engine(ob_engine)

    def set_acb(self, acb: Any) -> None:
        self.calls.append("set_acb")
        super().set_acb(acb)

    def set_mc_forewarner(self, forewarner: Any, mc_base_cfg: Mapping[str, Any] | None = None) -> None:
        self.calls.append("set_mc_forewarner")
        super().set_mc_forewarner(forewarner, mc_base_cfg)

    def set_esoteric_hazard_multiplier(self, hazard_score: float) -> None:
        self.calls.append(f"set_esoteric_hazard_multiplier({hazard_score})")
        super().set_esoteric_hazard_multiplier(hazard_score)

    def process_day(self, date_str, df, asset_columns, vol_regime_ok=None, **kw):  # type: ignore[no-untyped-def]
        self.calls.append(f"process_day({date_str})")
        self.vol_masks.append(np.asarray(vol_regime_ok).copy())
        return super().process_day(date_str, df, asset_columns, vol_regime_ok=vol_regime_ok, **kw)


class FakeForewarner:
    """Fake MC-Forewarner (the outermost edge): a fixed status per call, configs recorded."""

    def __init__(self, status: str) -> None:
        self.status = status
        self.configs: list[dict] = []

    def assess(self, config: Mapping[str, float]) -> Any:
        self.configs.append(dict(config))
        return type("Assessment", (), {"status": self.status})()


def _d_liq() -> LiquidationGuardEngine:
    return create_d_liq_engine(**ENGINE_KWARGS)


def test_gold_loop_wiring_order_vol_filter_and_capital_chain(days_factory: DaysFactory) -> None:
    days = days_factory(3, 1500)
    holder: list[RecordingEngine] = []

    def factory() -> RecordingEngine:
        holder.append(RecordingEngine(**ENGINE_KWARGS))
        return holder[0]

    fw = FakeForewarner("OK")
    res = run_backtest(factory, days, forewarner=fw)
    eng = holder[0]
    assert eng.calls == [
        "set_ob_engine",
        "set_acb",
        "set_mc_forewarner",
        "set_esoteric_hazard_multiplier(0.0)",
        "process_day(2026-01-01)",
        "process_day(2026-01-02)",
        "process_day(2026-01-03)",
    ]
    # vol_p60 by the gold method over the first two days' BTC; vol_ok = dvol > vol_p60 (finite only)
    expect_p60 = gold_vol_p60([d[1]["BTCUSDT"].to_numpy() for d in days[:2]])
    assert res.vol_p60 == expect_p60
    for (_, df, _, _), mask in zip(days, eng.vol_masks):
        dvol = dvol_per_bar(df["BTCUSDT"].to_numpy())
        assert mask.dtype == bool
        assert np.array_equal(mask, np.isfinite(dvol) & (np.nan_to_num(dvol, nan=-1.0) > expect_p60))
        assert not mask[:10].any()  # dvol is NaN before 10 prices
    # the forewarner was asked once per day
    assert len(fw.configs) == 3
    # capital chain: each day starts where the previous ended; harness before/after agree
    for prev, cur in zip(res.days, res.days[1:]):
        assert cur["capital_start"] == prev["capital_end"]
    for row in res.days:
        assert row["cap_before"] == row["capital_start"]
        assert row["cap_after"] == row["capital_end"]
        assert row["rows"] == 1500
    assert res.trades, "the frames are built to produce entries"
    assert res.metrics.trades == len(res.trades) == sum(d["trades"] for d in res.days)
    assert res.final_capital == pytest.approx(res.initial_capital + sum(t.pnl for t in res.trades), rel=1e-12)
    assert res.components == {
        "ob_engine": "default OBFeatureEngine",
        "acb": "default AdaptiveCircuitBreaker (preloaded 3 days 2026-01-01..2026-01-03)",
        "forewarner": "FakeForewarner",
    }
    assert res.bars == 4500 and res.engine_seconds > 0


def test_acb_is_preloaded_over_the_window(days_factory: DaysFactory) -> None:
    days = days_factory(4, 800)
    acb = AdaptiveCircuitBreaker()
    run_backtest(_d_liq, days, acb=acb, ob_engine=False)
    assert list(acb.dates) == [d[0] for d in days]


def test_vol_p60_above_every_dvol_blocks_all_entries(days_factory: DaysFactory) -> None:
    res = run_backtest(_d_liq, days_factory(2, 1500), vol_p60=1.0)
    assert res.trades == []
    assert all(row["vol_ok_bars"] == 0 for row in res.days)
    assert res.metrics.roi_pct == 0.0


def test_mc_red_every_day_halts_and_is_counted(days_factory: DaysFactory) -> None:
    res = run_backtest(_d_liq, days_factory(3, 1500), forewarner=FakeForewarner("RED"))
    assert res.metrics.mc_red_days == 3
    assert res.trades == []
    assert [d["mc_status"] for d in res.days] == ["RED"] * 3


def test_disabled_components_are_recorded(days_factory: DaysFactory) -> None:
    res = run_backtest(_d_liq, days_factory(2, 600), ob_engine=False, acb=False)
    assert res.components == {"ob_engine": "disabled", "acb": "disabled", "forewarner": "none"}


def test_dvol_given_by_the_loader_is_used(days_factory: DaysFactory) -> None:
    days = days_factory(2, 800)
    # a dvol that passes only bars 200..399 on both days
    forced = [(ds, df, ac, np.where((np.arange(len(df)) >= 200) & (np.arange(len(df)) < 400), 1.0, 0.0))
              for ds, df, ac, _ in days]
    res = run_backtest(_d_liq, forced, vol_p60=0.5)
    assert [row["vol_ok_bars"] for row in res.days] == [200, 200]
    for t in res.trades:
        assert 200 <= t.entry_bar < 400


def test_nan_vel_div_bars_are_skipped_and_counted(days_factory: DaysFactory, tmp_path: Path) -> None:
    days = days_factory(2, 800)
    df = days[1][1].copy()
    df.loc[[5, 6, 700], "vel_div"] = np.nan
    days[1] = (days[1][0], df, days[1][2], None)
    res = run_backtest(_d_liq, days, tick_trace=tmp_path / "tick.csv")
    assert res.days[1]["bars_skipped"] == 3
    assert res.metrics.bars_skipped == 3
    # one tick row per processed bar
    assert res.tick_rows == 1600 - 3
    with (tmp_path / "tick.csv").open() as fh:
        assert sum(1 for _ in fh) == 1 + 1600 - 3


def _run_to(out: Path, days: list[tuple]) -> dict[str, bytes]:
    run_backtest(_d_liq, days, tick_trace=True, out_dir=out, engine_name="d_liq", params=dict(ENGINE_KWARGS))
    return {name: (out / name).read_bytes() for name in (TRADE_TRACE, DAILY_TRACE, TICK_TRACE, SUMMARY)}


def test_two_runs_write_byte_identical_files(days_factory: DaysFactory, tmp_path: Path) -> None:
    a = _run_to(tmp_path / "a", days_factory(3, 1200))
    b = _run_to(tmp_path / "b", days_factory(3, 1200))
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == b[name], name
    trades = list(csv.reader(a[TRADE_TRACE].decode().splitlines()))
    assert len(trades) > 1
    summary = json.loads(a[SUMMARY])
    assert summary["engine"] == "d_liq"
    assert summary["seed"] == 42
    assert summary["window"] == {"start": "2026-01-01", "end": "2026-01-03", "days": 3, "bars": 3600}
    assert summary["metrics"]["trades"] == len(trades) - 1
    assert set(summary["versions"]) >= {"nautilus_dolphin", "python", "numpy", "pandas", "numba"}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda days: [], "no days"),
        (lambda days: [days[1], days[0]], "strictly increasing"),
        (lambda days: [("2026/01/01", *days[0][1:])], "YYYY-MM-DD"),
        (lambda days: [(days[0][0], days[0][1].drop(columns=["BTCUSDT"]), ["ETHUSDT"], None)], "BTCUSDT"),
        (lambda days: [(days[0][0], days[0][1], ["NOPEUSDT"], None)], "NOPEUSDT"),
        (lambda days: [(days[0][0], days[0][1], days[0][2], np.zeros(3))], "dvol has shape"),
        (lambda days: [(days[0][0], "not a frame", days[0][2], None)], "DataFrame"),
    ],
)
def test_bad_input_is_named(days_factory: DaysFactory, mutate: Callable, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        run_backtest(_d_liq, mutate(days_factory(2, 200)), ob_engine=False, acb=False)


def test_tick_trace_true_needs_out_dir(days_factory: DaysFactory) -> None:
    with pytest.raises(ValueError, match="out_dir"):
        run_backtest(_d_liq, days_factory(1, 200), tick_trace=True)


def test_bar_timestamps_accepts_the_contract_forms() -> None:
    aware = pd.DataFrame({"timestamp": pd.to_datetime([0, 5], unit="s", utc=True)})
    naive = pd.DataFrame({"timestamp": pd.to_datetime([0, 5], unit="s")})
    unix = pd.DataFrame({"timestamp": [1767225600.0, 1767225605.0]})
    assert bar_timestamps(aware).tolist() == [0.0, 5.0]
    assert bar_timestamps(naive).tolist() == [0.0, 5.0]
    assert bar_timestamps(unix).tolist() == [1767225600.0, 1767225605.0]
    assert bar_timestamps(pd.DataFrame({"x": [1]})) is None
    with pytest.raises(ValueError, match="timestamp"):
        bar_timestamps(pd.DataFrame({"timestamp": ["a"]}))


def test_select_dates() -> None:
    dates = ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"]
    assert select_dates(dates, "2026-01-02", "2026-01-03") == dates[1:3]
    assert select_dates(dates, n_days=2) == dates[:2]
    assert select_dates(dates, start="2026-01-04", n_days=3) == dates[3:]
    assert select_dates(dates, start="2027-01-01") == []
    with pytest.raises(ValueError, match="--start"):
        select_dates(dates, start="1/1/2026")
    with pytest.raises(ValueError, match="--days"):
        select_dates(dates, n_days=0)


def test_engine_factory_for_names() -> None:
    assert type(engine_factory_for("d_liq")()).__name__ == "LiquidationGuardEngine"
    assert type(engine_factory_for("baseline")()).__name__ == "NDAlphaEngine"
    assert type(engine_factory_for("boost")()).__name__ == "AdaptiveBoostEngine"
    with pytest.raises(ValueError, match="unknown engine"):
        engine_factory_for("gold")


def test_load_vbt_day_reads_the_catalog_layout(vbt_catalog: Path) -> None:
    vdir = vbt_catalog / "vbt_cache"
    assert list_vbt_dates(vdir) == ["2026-01-01", "2026-01-02", "2026-01-03"]
    ds, df, acols, dvol = load_vbt_day(vdir / "2026-01-02.parquet")
    assert ds == "2026-01-02"
    assert "BTCUSDT" in acols and "vel_div" not in acols and "timestamp" not in acols
    assert all(df[c].dtype == np.float64 for c in acols)
    assert np.array_equal(dvol, dvol_per_bar(df["BTCUSDT"].to_numpy()), equal_nan=True)
    with pytest.raises(FileNotFoundError):
        list_vbt_dates(vbt_catalog / "missing")


@pytest.mark.slow
def test_run_gold_writes_outputs(vbt_catalog: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = run_gold(vbt_catalog, "d_liq", n_days=2, out_dir=out, tick_trace=True, forewarner=False)
    assert res.dates == ["2026-01-01", "2026-01-02"]
    for name in (TRADE_TRACE, DAILY_TRACE, TICK_TRACE, SUMMARY):
        assert (out / name).is_file(), name
    summary = json.loads((out / SUMMARY).read_text())
    assert summary["runner"] == "standalone"
    assert summary["data_source"].endswith("vbt_cache")
    assert summary["parameters"] == json.loads(json.dumps(dict(ENGINE_KWARGS)))
    assert summary["vol_p60"] == res.vol_p60
    assert summary["components"]["forewarner"] == "none"
    with pytest.raises(ValueError, match="no days in range"):
        run_gold(vbt_catalog, start="2030-01-01")


def test_run_gold_sub_window_uses_the_dataset_vol_p60(vbt_catalog: Path) -> None:
    full = gold_vol_p60(
        [load_vbt_day(vbt_catalog / "vbt_cache" / f"2026-01-0{i}.parquet")[1]["BTCUSDT"].to_numpy() for i in (1, 2)]
    )
    res = run_gold(vbt_catalog, start="2026-01-03", forewarner=False)
    assert res.dates == ["2026-01-03"]
    assert res.vol_p60 == full
    # the ACB also sees the dataset's days before the window (history only, no look-ahead)
    assert res.components["acb"].endswith("(preloaded 3 days 2026-01-01..2026-01-03)")


def test_acb_history_days_come_from_the_loader(days_factory: DaysFactory) -> None:
    days = days_factory(3, 600)
    loaded: list[str] = []

    def loader(d: str) -> pd.DataFrame:
        loaded.append(d)
        return days[0][1]

    acb = AdaptiveCircuitBreaker()
    run_backtest(_d_liq, days[2:], acb=acb, ob_engine=False, acb_dates=["2026-01-01", "2026-01-02"],
                 acb_loader=loader)
    assert loaded == ["2026-01-01", "2026-01-02"]
    assert list(acb.dates) == ["2026-01-01", "2026-01-02", "2026-01-03"]
    with pytest.raises(ValueError, match="acb_loader"):
        run_backtest(_d_liq, days[2:], ob_engine=False, acb_dates=["2026-01-01"])


_JIT_SCRIPT = """
import sys
from nautilus_dolphin.backtest.harness import engine_factory_for, run_backtest
from nautilus_dolphin.data.vbt_cache import VbtCache
days = list(VbtCache(sys.argv[1]).iter_days())
run_backtest(engine_factory_for(sys.argv[3]), days, ob_engine=False, tick_trace=True, out_dir=sys.argv[2])
"""


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.parametrize("engine", ["d_liq", "baseline"])
def test_same_files_with_and_without_jit(vbt_catalog: Path, tmp_path: Path, engine: str) -> None:
    """The harness output is byte-identical under NUMBA_DISABLE_JIT=1 (OB engine off to keep it fast)."""
    import os
    import subprocess
    import sys

    outs = {}
    for jit in ("0", "1"):
        out = tmp_path / f"jit{jit}"
        proc = subprocess.run(
            [sys.executable, "-c", _JIT_SCRIPT, str(vbt_catalog / "vbt_cache"), str(out), engine],
            capture_output=True, text=True, timeout=170, env={**os.environ, "NUMBA_DISABLE_JIT": jit},
        )
        assert proc.returncode == 0, proc.stderr
        outs[jit] = {n: (out / n).read_bytes() for n in (TRADE_TRACE, DAILY_TRACE, TICK_TRACE, SUMMARY)}
    for name, data in outs["0"].items():
        assert data == outs["1"][name], name
    assert outs["0"][TICK_TRACE].count(b"\n") == 1 + 4500
