"""Shared helpers for the backtest tests: DOLPHIN-format daily frames built in code."""

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nautilus_dolphin.data.schema import INSTABILITY_COLS
from nautilus_dolphin.data.schema import VELOCITY_COLS
from nautilus_dolphin.engine.records import NDTradeRecord

SMALL_ASSETS: tuple[str, ...] = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "BNBUSDT", "ADAUSDT")
REF_PRICES: dict[str, float] = {
    "BTCUSDT": 95000.0,
    "ETHUSDT": 3300.0,
    "SOLUSDT": 190.0,
    "XRPUSDT": 2.1,
    "BNBUSDT": 690.0,
    "ADAUSDT": 0.86,
}


def make_day_frame(
    date_str: str,
    n_bars: int = 600,
    assets: tuple[str, ...] = SMALL_ASSETS,
    seed: int = 0,
    start_prices: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Return one day of DOLPHIN vbt_cache-format scans (5 s apart from 00:00 UTC).

    Prices are correlated random walks (2 bps per scan); ``vel_div`` is small noise with a sharp
    negative dip (below the -0.02 entry threshold) every 97 scans, so an engine sees signals.
    """
    rng = np.random.default_rng(seed)
    t0 = datetime.strptime(date_str, "%Y-%m-%d").replace(tzinfo=UTC)
    ts = pd.to_datetime([t0 + timedelta(seconds=5 * i) for i in range(n_bars)], utc=True)
    common = rng.normal(0.0, 2e-4, n_bars)
    data: dict[str, np.ndarray] = {
        "timestamp": ts,
        "scan_number": np.arange(1, n_bars + 1, dtype=np.int64),
    }
    vel_div = rng.normal(0.0, 0.004, n_bars)
    vel_div[50::97] = -0.035 - 0.01 * rng.random(len(vel_div[50::97]))
    data["vel_div"] = vel_div
    for c in VELOCITY_COLS:
        data[c] = rng.normal(0.0, 0.01, n_bars)
    for c in INSTABILITY_COLS:
        data[c] = np.abs(rng.normal(0.3, 0.05, n_bars))
    for a in assets:
        p0 = (start_prices or {}).get(a, REF_PRICES.get(a, 10.0))
        rets = common + rng.normal(0.0, 1e-4, n_bars)
        data[a] = p0 * np.exp(np.cumsum(rets))
    return pd.DataFrame(data)


def make_days(n_days: int = 3, n_bars: int = 600, start: str = "2026-01-01", seed: int = 0) -> list[tuple]:
    """Return ``n_days`` consecutive ``(date, df, asset_columns, None)`` harness inputs."""
    d0 = datetime.strptime(start, "%Y-%m-%d")
    out = []
    for k in range(n_days):
        ds = (d0 + timedelta(days=k)).strftime("%Y-%m-%d")
        df = make_day_frame(ds, n_bars=n_bars, seed=seed + k)
        out.append((ds, df, list(SMALL_ASSETS), None))
    return out


def write_vbt_dir(root: Path, n_days: int = 3, n_bars: int = 600, start: str = "2026-01-01") -> Path:
    """Write ``make_days`` as ``root/vbt_cache/YYYY-MM-DD.parquet`` and return ``root``."""
    vdir = root / "vbt_cache"
    vdir.mkdir(parents=True, exist_ok=True)
    for ds, df, _, _ in make_days(n_days, n_bars, start):
        df.to_parquet(vdir / f"{ds}.parquet", index=False)
    return root


def write_nautilus_catalog(root: Path, n_days: int = 2, n_bars: int = 800, start: str = "2026-01-01") -> Path:
    """Write ``make_days`` into a DOLPHIN Nautilus catalog at ``root`` (quotes + scans, no books)."""
    from strategies.catalog import DolphinCatalogWriter

    writer = DolphinCatalogWriter(root, list(SMALL_ASSETS), source="test")
    writer.write_instruments()
    for ds, df, _, _ in make_days(n_days, n_bars, start):
        writer.write_day(ds, df)
    return root


def trade(trade_id: int, pnl: float, leverage: float = 2.0, fees: float = 1.0, **kw) -> NDTradeRecord:
    """Return a trade record with the fields metrics use set; the rest fixed placeholders."""
    base = dict(
        trade_id=trade_id,
        asset="BTCUSDT",
        direction=-1,
        entry_date="2026-01-01",
        entry_bar=10 * trade_id,
        entry_price=100.0,
        exit_date="2026-01-01",
        exit_bar=10 * trade_id + 5,
        exit_price=99.0,
        exit_reason="FIXED_TP",
        bars_held=5,
        leverage=leverage,
        notional=1000.0,
        quantity=10.0,
        capital_at_entry=1000.0,
        fees=fees,
        pnl=pnl,
        pnl_pct=pnl / 1000.0,
        vel_div_entry=-0.03,
    )
    base.update(kw)
    return NDTradeRecord(**base)


@pytest.fixture
def small_days() -> list[tuple]:
    """Three 600-bar days over six assets."""
    return make_days(3, 600)


@pytest.fixture
def make_trade():
    """The ``trade(trade_id, pnl, leverage=2.0, fees=1.0, **fields)`` record builder."""
    return trade


@pytest.fixture
def days_factory():
    """The ``make_days(n_days, n_bars, start, seed)`` harness-input builder."""
    return make_days


@pytest.fixture
def frame_factory():
    """The ``make_day_frame(date_str, n_bars, assets, seed)`` frame builder."""
    return make_day_frame


@pytest.fixture
def vbt_catalog(tmp_path: Path) -> Path:
    """A catalog root with ``vbt_cache/`` holding three 1500-bar days (2026-01-01 .. 03)."""
    return write_vbt_dir(tmp_path / "catalog", n_days=3, n_bars=1500)


@pytest.fixture
def nautilus_catalog(tmp_path: Path) -> Path:
    """A DOLPHIN Nautilus catalog (``dolphin_catalog.json``) of two 800-bar days over six assets."""
    return write_nautilus_catalog(tmp_path / "ncatalog")


@pytest.fixture
def nautilus_catalog_factory():
    """The ``write_nautilus_catalog(root, n_days, n_bars, start)`` catalog builder."""
    return write_nautilus_catalog
