"""`das run` on SIGHUP (systemctl reload): a file that does not validate, or whose store cannot be opened, is
refused and the running site goes on polling; a valid changed file takes effect; SIGTERM still ends cleanly.

The demo site's devices and platforms are not running (every read is flagged B): the agent keeps going, and its
real-time records (one per rtd_interval whatever the devices answer) show that the statistics keep running.
The clock runs 60x so those records come every half second.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime
from itertools import pairwise
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "agent" / "config" / "demo_site.toml"
CODE = "import sys; from agent.cli import main; sys.argv = ['das', *sys.argv[1:]]; main()"


class Agent:
    """`das run` as a subprocess whose log lines are collected by a reader thread."""

    def __init__(self, config: Path) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CODE, "run", "--config", str(config), "--clock-speed", "60"],
            cwd=REPO,
            env={**os.environ, "NOTIFY_SOCKET": "", "WATCHDOG_USEC": ""},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, word: str, after: int = 0, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines[after:]:
                if word in line:
                    return line
            assert self.proc.poll() is None, "\n".join(self.lines[-40:])
            time.sleep(0.05)
        raise AssertionError(f"no {word!r} within {timeout} s:\n" + "\n".join(self.lines[-40:]))

    def hup(self) -> int:
        mark = len(self.lines)
        self.proc.send_signal(signal.SIGHUP)
        return mark

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)  # TimeoutStopSec=30
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise


def _config(folder: Path, text: str | None = None) -> Path:
    path = folder / "agent.toml"
    path.write_text(text if text is not None else DEMO.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def _rtd_times(store: Path) -> list[datetime]:
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=10) as db:
        rows = db.execute("SELECT data_time FROM record WHERE outlet = 'DA001' AND kind = 'rtd' ORDER BY data_time")
        return [datetime.fromisoformat(r[0]) for r in rows]


def _still_polling(store: Path, timeout: float = 30.0) -> None:
    """New real-time records keep arriving (the statistics tick and the polls run)."""
    before = len(_rtd_times(store))
    deadline = time.monotonic() + timeout
    while len(_rtd_times(store)) < before + 3:
        assert time.monotonic() < deadline, "no new real-time records"
        time.sleep(0.2)


def _integrity(store: Path) -> str:
    with sqlite3.connect(store) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0]


def test_invalid_config_is_refused_and_the_agent_keeps_polling(tmp_path: Path) -> None:
    config = _config(tmp_path)
    good = config.read_text(encoding="utf-8")
    store = tmp_path / "das-demo.sqlite"
    agent = Agent(config)
    try:
        agent.wait_for("site_started")
        _still_polling(store)

        bad_value = good.replace("rtd_interval = 30", 'rtd_interval = "abc"')
        line = bad_value.splitlines().index('rtd_interval = "abc"          # RtdInterval, s') + 1
        config.write_text(bad_value, encoding="utf-8")
        refused = agent.wait_for("reload_refused", after=agent.hup())
        assert f"agent.toml:{line}:" in refused and "rtd_interval" in refused
        _still_polling(store)

        config.write_text(good + "\n[platforms.broken\n", encoding="utf-8")  # TOML syntax error on the last line
        refused = agent.wait_for("reload_refused", after=agent.hup())
        assert f"agent.toml:{len(good.splitlines()) + 2}:" in refused, refused
        _still_polling(store)
        assert not any("reloading" in line for line in agent.lines)  # the running site was never stopped
    finally:
        code = agent.stop()
    assert code == 0, "\n".join(agent.lines[-40:])


def test_valid_changed_config_takes_effect(tmp_path: Path) -> None:
    config = _config(tmp_path)
    store = tmp_path / "das-demo.sqlite"
    agent = Agent(config)
    try:
        agent.wait_for("site_started")
        _still_polling(store)
        config.write_text(
            config.read_text(encoding="utf-8").replace("rtd_interval = 30", "rtd_interval = 60"), encoding="utf-8"
        )
        agent.wait_for("reloaded", after=agent.hup())
        count = len(_rtd_times(store))
        _still_polling(store)
        after = _rtd_times(store)[count + 1 :]  # the first may still be the old site's last
        assert len(after) >= 2
        assert {(b - a).total_seconds() for a, b in pairwise(after)} == {60.0}
    finally:
        code = agent.stop()
    assert code == 0, "\n".join(agent.lines[-40:])


def test_unopenable_store_is_refused_then_sigterm_exits_cleanly(tmp_path: Path) -> None:
    config = _config(tmp_path)
    good = config.read_text(encoding="utf-8")
    store = tmp_path / "das-demo.sqlite"
    agent = Agent(config)
    try:
        agent.wait_for("site_started")
        _still_polling(store)
        config.write_text(
            re.sub(r'(?m)^path = "das-demo.sqlite"', 'path = "/proc/nope/das.sqlite"', good), encoding="utf-8"
        )
        refused = agent.wait_for("reload_refused", after=agent.hup())
        assert "/proc/nope/das.sqlite" in refused
        _still_polling(store)
        assert agent.proc.poll() is None
    finally:
        code = agent.stop()
    assert code == 0, "\n".join(agent.lines[-40:])
    assert _integrity(store) == "ok"
