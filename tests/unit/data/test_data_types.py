"""Round trips of the DOLPHIN custom data types: dict, msgpack bytes, Arrow and the Parquet catalog."""

import numpy as np
import pytest
from nautilus_trader.model.data import DataType
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.persistence.catalog import ParquetDataCatalog

from nautilus_dolphin.obf.types import OBSnapshot
from strategies.data_types import DolphinOBSnapshot
from strategies.data_types import DolphinScan

BTC = InstrumentId.from_str("BTCUSDT-PERP.BINANCE")


def _scan(i: int, n_assets: int = 4) -> DolphinScan:
    prices = np.linspace(1.0, 2.0, n_assets) * (1 + i * 1e-3)
    prices[1] = np.nan
    return DolphinScan(
        ts_event=1_700_000_000_000_000_000 + i * 5_000_000_000,
        ts_init=1_700_000_000_000_000_000 + i * 5_000_000_000,
        scan_number=i,
        vel_div=-0.03 + i * 1e-4,
        v50_lambda_max_velocity=0.1,
        v150_lambda_max_velocity=0.2,
        v300_lambda_max_velocity=0.3,
        v750_lambda_max_velocity=0.4,
        instability_50=0.5,
        instability_150=0.6,
        prices=prices,
    )


def _ob(i: int, iid: InstrumentId = BTC) -> DolphinOBSnapshot:
    return DolphinOBSnapshot(
        ts_event=1_700_000_000_000_000_000 + i,
        ts_init=1_700_000_000_000_000_000 + i,
        instrument_id=iid,
        bid_notional=np.arange(5.0) + i,
        ask_notional=np.arange(5.0) * 2 + i,
        bid_depth=np.arange(5.0) / 3,
        ask_depth=np.arange(5.0) / 7,
        push_seq=i,
        pushed_at_ns=1_700_000_000_000_000_000 + i + 10,
    )


def test_scan_dict_and_bytes_round_trip() -> None:
    s = _scan(3)
    assert DolphinScan.from_dict(s.to_dict()) == s
    back = DolphinScan.from_bytes(s.to_bytes())
    assert back == s
    assert back.prices.dtype == np.float64
    assert np.isnan(back.prices[1])
    assert back != _scan(4)


def test_scan_arrow_round_trip_uses_list_column() -> None:
    s = _scan(1)
    batch = s.to_arrow()
    assert str(batch.schema.field("prices").type) == "list<item: double>"
    assert DolphinScan.from_arrow(batch) == [s]


def test_ob_snapshot_round_trips_and_ob_snapshot_conversion() -> None:
    o = _ob(7)
    assert DolphinOBSnapshot.from_dict(o.to_dict()) == o
    assert DolphinOBSnapshot.from_bytes(o.to_bytes()) == o
    assert DolphinOBSnapshot.from_arrow(o.to_arrow()) == [o]
    snap = OBSnapshot(
        asset="ETHUSDT",
        timestamp=1_700_000_000.5,
        bid_notional=np.ones(5),
        ask_notional=np.full(5, 2.0),
        bid_depth=np.full(5, 3.0),
        ask_depth=np.full(5, 4.0),
    )
    d = DolphinOBSnapshot.from_ob_snapshot(snap, ts_init=1_700_000_001_000_000_000)
    assert d.instrument_id == InstrumentId.from_str("ETHUSDT-PERP.BINANCE")
    assert d.push_seq == -1 and d.pushed_at_ns == 0
    assert d.ts_event == 1_700_000_000_500_000_000
    back = d.to_ob_snapshot()
    assert back.asset == "ETHUSDT"
    assert back.timestamp == pytest.approx(snap.timestamp)
    assert np.isnan(back.pushed_at)
    np.testing.assert_array_equal(back.ask_depth, snap.ask_depth)


def test_type_names_are_not_prefixes_of_each_other() -> None:
    a, b = DataType(DolphinScan).topic.rstrip("*"), DataType(DolphinOBSnapshot).topic.rstrip("*")
    assert not a.startswith(b) and not b.startswith(a)


def test_catalog_write_and_query(tmp_path) -> None:
    cat = ParquetDataCatalog(str(tmp_path))
    scans = [_scan(i) for i in range(20)]
    obs = [_ob(i) for i in range(5)] + [_ob(i, InstrumentId.from_str("ETHUSDT-PERP.BINANCE")) for i in range(3)]
    cat.write_data(scans)
    cat.write_data(obs)
    got = [c.data for c in cat.query(DolphinScan)]
    assert got == scans
    got_ob = [c.data for c in cat.query(DolphinOBSnapshot, identifiers=["BTCUSDT-PERP.BINANCE"])]
    assert got_ob == obs[:5]
    assert len(cat.query(DolphinOBSnapshot)) == 8
