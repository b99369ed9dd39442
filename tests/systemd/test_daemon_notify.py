"""`das run` speaks to systemd as the unit expects: pings from the start, READY=1 with a STATUS line after the first
poll cycle, STOPPING=1 on SIGTERM and a clean exit, all seen on a real notify socket.

The demo site's devices and platforms are not running, so every read fails: READY must still come (a dead
analyzer is flagged B, it does not keep the agent from starting).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from notify_socket import NotifySocket

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "agent" / "config" / "demo_site.toml"


def _collect(sock: NotifySocket, until: str, timeout: float) -> list[dict[str, str]]:
    got: list[dict[str, str]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got += sock.messages(wait=0.2)
        if any(until in m for m in got):
            break
    return got


def test_das_run_notifies_ready_status_watchdog_and_stopping(notify_path: NotifySocket, tmp_path: Path) -> None:
    env = {**os.environ, "NOTIFY_SOCKET": notify_path.name, "WATCHDOG_USEC": "400000"}
    code = "import sys; from agent.cli import main; sys.argv = ['das', *sys.argv[1:]]; main()"
    args = ["run", "--config", str(DEMO), "--state-dir", str(tmp_path)]
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        started = _collect(notify_path, "READY", timeout=90)
        ready = next((m for m in started if "READY" in m), None)
        assert ready is not None, started
        assert ready["READY"] == "1" and ready["STATUS"].strip()
        assert {"WATCHDOG": "1"} in _collect(notify_path, "WATCHDOG", timeout=10)  # pings go on after READY
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out = proc.communicate(timeout=30)[0].decode(errors="replace")  # TimeoutStopSec=30
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    stopping = _collect(notify_path, "STOPPING", timeout=1)
    assert any(m.get("STOPPING") == "1" for m in stopping), stopping
    assert proc.returncode == 0, out[-2000:]
