"""Test stand-ins as subprocesses: start one, read its JSON banner, stop it and check its port (test helper)."""

import asyncio
import json
import os
import selectors
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


@dataclass
class VenueProcess:
    """A running loopback Binance venue subprocess (a TEST STAND-IN) and a small control client."""

    proc: subprocess.Popen
    port: int
    http: str
    ws: str

    def control(self, path: str, body: dict | None = None, method: str | None = None) -> Any:
        """Call ``/_control/<path>``; raise AssertionError on a non-2xx reply."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"{self.http}/_control/{path}", data=data, method=method or ("POST" if data is not None else "GET"),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"control {path} failed: {exc.code} {exc.read()!r}") from None

    async def acontrol(self, path: str, body: dict | None = None, method: str | None = None) -> Any:
        """``control`` off the event loop (for scenarios running inside the node)."""
        return await asyncio.to_thread(self.control, path, body, method)

    def state(self) -> dict:
        """The venue state snapshot."""
        return self.control("state")


def read_banner(proc: subprocess.Popen, deadline: float, what: str) -> dict[str, Any]:
    """Wait (bounded) for the first stdout line of ``proc`` and parse it as JSON; kill it on failure."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    end = time.monotonic() + deadline
    line = ""
    while time.monotonic() < end and not line and proc.poll() is None:
        if sel.select(timeout=0.2):
            line = proc.stdout.readline()
    sel.close()
    if not line:
        proc.kill()
        _, err = proc.communicate(timeout=5)
        raise AssertionError(f"{what} printed no banner within {deadline}s: {(err or '')[-2000:]}")
    return json.loads(line)


def spawn_module(module: str, args: list[str], env: dict[str, str] | None = None, deadline: float = 20.0,
                 what: str | None = None) -> tuple[subprocess.Popen, dict[str, Any]]:
    """Start ``python -m module args`` in the repository and return it with its banner."""
    full_env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
    proc = subprocess.Popen([sys.executable, "-m", module, *args], cwd=REPO, env=full_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, read_banner(proc, deadline, what or module)


def port_closed(port: int) -> bool:
    """Whether nothing accepts connections on 127.0.0.1:``port``."""
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) != 0


def stop_process(proc: subprocess.Popen, port: int | None = None) -> None:
    """Terminate ``proc`` (kill after 5 s), close its pipes, and check ``port`` is released."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    for stream in (proc.stdout, proc.stderr):
        if stream:
            stream.close()
    if port is not None:
        assert port_closed(port), f"port {port} still open after teardown"


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of process ``pid`` in MB from /proc (NaN when unavailable)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")
