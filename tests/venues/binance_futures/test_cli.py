"""``dolphin venue`` (the loopback Binance USDT-M venue, a test stand-in) from the command line."""

import json
import subprocess
import sys

import pytest


@pytest.mark.timeout(30)
def test_dolphin_venue_prints_urls_and_stops_after_duration(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "nautilus_dolphin.cli", "venue", "--symbols", "BTCUSDT", "--duration", "1"],
        capture_output=True,
        text=True,
        timeout=25,
    )
    assert proc.returncode == 0, proc.stderr
    banner = json.loads(proc.stdout.splitlines()[0])
    assert banner["http"] == f"http://127.0.0.1:{banner['port']}"
    assert banner["ws"] == f"ws://127.0.0.1:{banner['port']}"
    assert banner["symbols"] == ["BTCUSDT"] and "secret" not in proc.stdout


@pytest.mark.timeout(30)
def test_dolphin_venue_rejects_unknown_symbol():
    proc = subprocess.run(
        [sys.executable, "-m", "nautilus_dolphin.cli", "venue", "--symbols", "NOPEUSDT", "--duration", "1"],
        capture_output=True,
        text=True,
        timeout=25,
    )
    assert proc.returncode == 2 and "NOPEUSDT" in proc.stderr
