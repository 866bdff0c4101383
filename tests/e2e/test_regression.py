"""Regression pins on the default synthetic catalog, in the spirit of the spec's "T=2155 EXACT".

The pins were recorded by ``benchmarks/pin_regression.py`` from a run of this code; any drift in
trades, ROI or DD (to 1e-6) is a regression unless the change meant it (then re-pin and say why).
"""

import json
from pathlib import Path

import pytest

from nautilus_dolphin.backtest.harness import run_gold

PINS = json.loads((Path(__file__).with_name("regression_pins.json")).read_text())


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("engine", sorted(PINS))
def test_default_catalog_regression(default_catalog, engine):
    pin = PINS[engine]
    r = run_gold(default_catalog, engine=engine)
    m = r.metrics
    assert m.trades == pin["trades"]
    assert m.roi_pct == pytest.approx(pin["roi_pct"], abs=1e-6)
    assert m.max_dd_pct == pytest.approx(pin["max_dd_pct"], abs=1e-6)
    assert m.liq_stops == pin["liq_stops"]
    assert dict(m.exit_reasons) == pin["exit_reasons"]
    assert list(r.trades[0].key()) == pin["first_trade"]
    assert list(r.trades[-1].key()) == pin["last_trade"]
    assert r.components.get("forewarner", "").startswith("unavailable") is False
