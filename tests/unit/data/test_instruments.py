"""Instruments: ids, real exchange filters where present, the universe otherwise."""

from decimal import Decimal
from pathlib import Path

import pytest

from nautilus_dolphin.data.universe import ASSETS
from strategies.instruments import DEFAULT_EXCHANGE_INFO
from strategies.instruments import exchange_info_specs
from strategies.instruments import instrument_id
from strategies.instruments import make_perpetual
from strategies.instruments import make_universe


def test_instrument_id() -> None:
    assert instrument_id("BTCUSDT").value == "BTCUSDT-PERP.BINANCE"


def test_universe_without_exchange_info() -> None:
    inst = make_perpetual("1000PEPEUSDT", exchange_info={})
    assert str(inst.price_increment) == "0.0000001"
    assert inst.maker_fee == Decimal("0.0002") and inst.taker_fee == Decimal("0.0005")
    assert inst.raw_symbol.value == "1000PEPEUSDT"
    assert len(make_universe()) == len(ASSETS) == 48


def test_missing_file_gives_no_specs(tmp_path: Path) -> None:
    assert exchange_info_specs(tmp_path / "nope.json") == {}


def test_real_exchange_info_used_when_present() -> None:
    if not DEFAULT_EXCHANGE_INFO.is_file():
        pytest.skip(f"real exchange info not available at {DEFAULT_EXCHANGE_INFO}")
    specs = exchange_info_specs(DEFAULT_EXCHANGE_INFO)
    assert {"BTCUSDT", "ETHUSDT"} <= set(specs)
    inst = make_perpetual("BTCUSDT", specs)
    assert str(inst.price_increment) == "0.1" and str(inst.size_increment) == "0.001"
    assert inst.min_notional.as_decimal() == Decimal("10")
    assert inst.margin_maint == Decimal("0.025")
