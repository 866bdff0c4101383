"""Run ``binance_exec`` tests in a fresh pytest process when this one is tainted (test helper).

A backtest or sandbox execution client for venue ``BINANCE`` makes Nautilus 1.221 compute every later
``BINANCE-...`` account from fills, process-wide (``strategies.live_node.binance_accounts_calculated``):
a real Binance execution client in the same process then double-counts fees. CI runs the e2e
backtests first, so tests marked ``binance_exec`` re-run alone in a child process when needed. The
conftests that hold such tests import ``pytest_runtest_protocol`` from here.
"""

import os
import subprocess
import sys
import time

import pytest

from strategies.live_node import binance_accounts_calculated

CHILD_ENV = "DOLPHIN_VENUE_TEST_CHILD"
"""Set in the fresh subprocess that runs a ``binance_exec`` test (no second re-run from there)."""
CHILD_TIMEOUT_SECS = 1000.0  # the live soak runs 10 minutes


def child_reports(item: pytest.Item) -> list[pytest.TestReport]:
    """Run ``item`` alone in a fresh pytest process; its outcome as setup/call/teardown reports."""
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rN", "-m", "", item.nodeid]
    env = dict(os.environ, **{CHILD_ENV: "1"})
    started = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=item.config.rootpath, env=env, capture_output=True, text=True,
                              timeout=CHILD_TIMEOUT_SECS, stdin=subprocess.DEVNULL)
        rc, output = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:  # subprocess.run kills the child
        rc, output = -1, f"timed out after {CHILD_TIMEOUT_SECS}s\n{exc.stdout or ''}"
    duration = time.monotonic() - started
    longrepr = None if rc == 0 else f"in a fresh process ({' '.join(cmd[1:])}), exit code {rc}:\n{output[-12000:]}"
    common = {"nodeid": item.nodeid, "location": item.location, "keywords": dict.fromkeys(item.keywords, 1)}
    return [
        pytest.TestReport(outcome="passed", longrepr=None, when="setup", duration=0.0, **common),
        pytest.TestReport(outcome="passed" if rc == 0 else "failed", longrepr=longrepr, when="call",
                          duration=duration, sections=[("fresh process", output[-4000:])] if rc == 0 else [],
                          **common),
        pytest.TestReport(outcome="passed", longrepr=None, when="teardown", duration=0.0, **common),
    ]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    """Run a ``binance_exec`` test in a fresh process when this one is tainted (else as usual)."""
    if item.get_closest_marker("binance_exec") is None or os.environ.get(CHILD_ENV):
        return None
    if not binance_accounts_calculated():
        return None
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    for report in child_reports(item):
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True
