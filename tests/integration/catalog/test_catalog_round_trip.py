"""synth -> vbt_cache files -> import -> catalog -> query returns the same scans and prices.

Small window (2 days x ~300 scans x 6 assets). Also: QuoteTick bytes identical to what
``ParquetDataCatalog.write_data`` produces, idempotent re-runs, interrupted-run cleanup, CLI.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.persistence.catalog import ParquetDataCatalog

from nautilus_dolphin.data.vbt_cache import VbtCache
from strategies.catalog import CATALOG_META
from strategies.catalog import CatalogMismatchError
from strategies.catalog import DolphinCatalog
from strategies.catalog import DolphinCatalogWriter
from strategies.catalog import quote_table
from strategies.catalog_cli import build_synthetic_catalog
from strategies.catalog_cli import import_vbt_cache
from strategies.instruments import make_perpetual

SMALL = dict(days=2, assets=6, seed=3, progress=False, scans_per_day=300)


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth")
    build_synthetic_catalog(root, **SMALL)
    return root


@pytest.mark.slow
def test_round_trip_synth_import_query(synth_root: Path, tmp_path: Path) -> None:
    vbt = VbtCache(synth_root / "vbt_cache")
    assert vbt.dates == ["2025-12-31", "2026-01-01"]
    out = tmp_path / "imported"
    figs = import_vbt_cache(synth_root / "vbt_cache", out, progress=False)
    assert figs["days_written"] == 2
    cat = DolphinCatalog(out)
    direct = DolphinCatalog(synth_root)
    assert cat.assets == direct.assets == vbt.load(vbt.dates[0]).asset_columns
    for d in vbt.dates:
        day = vbt.load(d)
        scans = cat.load_scans(d)
        assert len(scans) == len(day.df) and 270 <= len(scans) <= 330
        prices = np.vstack([s.prices for s in scans])
        np.testing.assert_array_equal(prices, day.df[cat.assets].to_numpy())
        np.testing.assert_array_equal([s.vel_div for s in scans], day.df["vel_div"].to_numpy())
        np.testing.assert_array_equal([s.ts_init for s in scans], day.ts_ns)
        assert [s.scan_number for s in scans] == day.df["scan_number"].tolist()
        # the synth's own catalog holds the same scans
        assert direct.load_scans(d) == scans
        quotes = cat.load_quotes(d)
        assert len(quotes) == len(scans) * len(cat.assets)
        assert all(quotes[i].ts_init <= quotes[i + 1].ts_init for i in range(len(quotes) - 1))
        btc = [q for q in quotes if q.instrument_id.value == "BTCUSDT-PERP.BINANCE"]
        mid = np.array([(float(q.bid_price) + float(q.ask_price)) / 2 for q in btc])
        np.testing.assert_allclose(mid, day.df["BTCUSDT"].to_numpy(), rtol=2e-4)
        assert all(float(q.bid_price) < float(q.ask_price) for q in btc)
        obs = cat.load_ob_snapshots(d)
        ob_df = vbt.load_ob_day(d)
        assert len(obs) == len(ob_df) > 0
        first = obs[0].to_ob_snapshot()
        row = ob_df[(ob_df["asset"] == first.asset) & (ob_df["timestamp"] == obs[0].ts_event)].iloc[0]
        np.testing.assert_array_equal(first.bid_depth, row[[f"bid_depth_{k}" for k in range(5)]].to_numpy(float))
    assert len(cat.instruments()) == 6


def test_quote_table_is_byte_identical_to_write_data(tmp_path: Path) -> None:
    for sym, px in (("BTCUSDT", [93500.1, 93499.3]), ("VETUSDT", [0.021234, 0.020001])):
        inst = make_perpetual(sym, exchange_info={})
        cat = ParquetDataCatalog(str(tmp_path / sym))
        qt = quote_table(inst, np.array(px), np.array([10, 20]), spread_bps=0.0)
        pp, sp = inst.price_precision, inst.size_precision
        step = float(inst.size_increment)
        objs = []
        for p, ts in zip(px, (10, 20)):
            size = Quantity(max(np.floor(1e6 / p / step), 1) * step, sp)
            objs.append(QuoteTick(inst.id, Price(p, pp), Price(p, pp), size, size, ts, ts))
        cat.write_data(objs)
        ref = pq.read_table(next((tmp_path / sym).rglob("*.parquet")))
        assert ref.schema.equals(qt.schema, check_metadata=True)
        assert ref.equals(qt)


@pytest.mark.slow
def test_idempotent_and_interrupted_day_cleanup(synth_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "cat"
    import_vbt_cache(synth_root / "vbt_cache", out, progress=False)
    files_before = sorted(p.relative_to(out) for p in (out / "data").rglob("*.parquet"))
    again = import_vbt_cache(synth_root / "vbt_cache", out, progress=False)
    assert again["days_written"] == 0 and again["days_skipped"] == 2
    assert sorted(p.relative_to(out) for p in (out / "data").rglob("*.parquet")) == files_before
    # simulate an interrupted run: day 2 files present but not recorded, plus a temp file
    meta = json.loads((out / CATALOG_META).read_text())
    meta["days"] = meta["days"][:1]
    (out / CATALOG_META).write_text(json.dumps(meta))
    (out / "data" / "custom_dolphin_scan" / "junk.parquet.tmp").write_bytes(b"partial")
    cat = DolphinCatalog(out)
    with pytest.raises(KeyError, match="not a completed day"):
        cat.load_scans("2026-01-01")
    writer = DolphinCatalogWriter(out, meta["assets"], "x", {"importer": 1})
    removed = writer.remove_incomplete()
    assert removed == 1 + 1 + 6 + 6  # tmp, scan file, 6 quote files, 6 OB files of the unlisted day
    resumed = import_vbt_cache(synth_root / "vbt_cache", out, progress=False)
    assert resumed["days_written"] == 1
    assert sorted(p.relative_to(out) for p in (out / "data").rglob("*.parquet")) == files_before
    with pytest.raises(CatalogMismatchError):
        DolphinCatalogWriter(out, meta["assets"][:3], "x", {"importer": 1})


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_cli_import_and_bad_dir(synth_root: Path, tmp_path: Path) -> None:
    exe = [sys.executable, "-m", "nautilus_dolphin.cli", "catalog"]
    r = subprocess.run([*exe, "import", str(synth_root / "vbt_cache"), "--out", str(tmp_path / "c")],
                       capture_output=True, text=True, timeout=110)
    assert r.returncode == 0, r.stderr
    assert "2 days imported" in r.stdout and "import [" in r.stderr
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "2026-01-01.parquet").write_bytes(b"")
    r = subprocess.run([*exe, "import", str(tmp_path / "bad"), "--out", str(tmp_path / "c2")],
                       capture_output=True, text=True, timeout=110)
    assert r.returncode == 2 and "zero-byte file" in r.stderr
