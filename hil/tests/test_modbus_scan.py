"""`das scan` finds the simulated units on a pty, at the right baud rate and parity only (done-when).

The simulator runs as its own process on the far end of a socat pty pair and stays silent unless the master's
end is set to its baud rate (19200), like a real slave at the wrong baud rate. Parity cannot be emulated on a
pty (the Linux pty driver clears PARENB), so both parities find the units at 19200, as with the many USB
adapters that ignore parity errors.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.cli import _load_commands, app
from agent.cli.scan import parse_units, snippet
from drivers.link.scan import Found

pytestmark = pytest.mark.hil


@pytest.fixture
def pty_bus(tmp_path: Path, require_tool: Callable[[str], str]) -> Iterator[str]:
    socat = require_tool("socat")
    a, b = tmp_path / "master", tmp_path / "slave"
    pair = subprocess.Popen([socat, "-d", "-d", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
                            stderr=subprocess.DEVNULL)  # fmt: skip
    sim = None
    try:
        deadline = time.monotonic() + 5
        while not (a.exists() and b.exists()):
            assert time.monotonic() < deadline, "socat did not create the pty pair"
            time.sleep(0.01)
        sim = subprocess.Popen(
            [sys.executable, "-m", "hil.sim", "rtu", "--port", str(b), "--baud", "19200",
             "--peer", str(a), "--units", "3,5"],
            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2],
        )  # fmt: skip
        assert sim.stdout is not None and sim.stdout.readline().startswith("serving")
        yield str(a)
    finally:
        for proc in (sim, pair):
            if proc is not None:
                proc.terminate()
                proc.wait(5)


def test_das_scan_finds_units_on_a_pty(pty_bus: str) -> None:
    _load_commands()
    result = CliRunner().invoke(
        app,
        ["scan", "serial", pty_bus, "--baud", "9600,19200", "--parity", "N,E", "--units", "1-6", "--timeout", "0.15"],
    )
    assert result.exit_code == 0, result.output
    found = [line for line in result.output.splitlines() if line.strip().startswith("modbus-rtu")]
    assert len(found) == 4, result.output
    assert all("19200 8" in line for line in found)
    assert ["address 3" in line for line in found] == [True, False, True, False]
    assert ["address 5" in line for line in found] == [False, True, False, True]
    assert "holding register 0 = 3000" in found[0]
    assert "baud = 19200" in result.output and "unit = 5" in result.output


def test_scan_of_a_missing_port_says_so() -> None:
    _load_commands()
    result = CliRunner().invoke(app, ["scan", "serial", "/nonexistent/tty", "--units", "1"])
    assert result.exit_code == 2
    assert "connection failed" in result.output


def test_unit_list_and_snippet() -> None:
    assert parse_units("1-3, 7,2") == (1, 2, 3, 7)
    text = snippet([Found("modbus-tcp", "10.0.0.5:502", "1", detail="x", device={"unit": 1})])
    assert '[links.link1]\ntype = "tcp"\nhost = "10.0.0.5"\nport = 502' in text
    assert 'link = "link1"\nunit = 1' in text


@pytest.mark.skipif(not os.environ.get("HIL_MODBUS_RTU_PORT"), reason="HIL_MODBUS_RTU_PORT not set (real bus)")
def test_das_scan_on_real_hardware() -> None:
    _load_commands()
    port = os.environ["HIL_MODBUS_RTU_PORT"]
    baud = os.environ.get("HIL_MODBUS_RTU_BAUD", "9600")
    parity = os.environ.get("HIL_MODBUS_RTU_PARITY", "N")
    units = os.environ.get("HIL_MODBUS_RTU_UNITS", "1")
    result = CliRunner().invoke(app, ["scan", "serial", port, "--baud", baud, "--parity", parity, "--units", units])
    assert result.exit_code == 0, result.output
    assert result.output.count("modbus-rtu") == len(parse_units(units))


def test_scan_of_a_silent_bus_keeps_stderr_short(tmp_path: Path, require_tool: Callable[[str], str]) -> None:
    """A sweep where nobody answers: one summary line on stderr, not a WARNING per silent unit id (20 × 2 here,
    thousands in a full sweep), which drowned the progress bar."""
    socat = require_tool("socat")
    a, b = tmp_path / "master", tmp_path / "nobody"
    pair = subprocess.Popen([socat, "-d", "-d", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
                            stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 5
        while not (a.exists() and b.exists()):
            assert time.monotonic() < deadline, "socat did not create the pty pair"
            time.sleep(0.01)
        result = subprocess.run(
            [sys.executable, "-c", "from agent.cli import main; main()", "scan", "serial", str(a),
             "--baud", "9600,19200", "--parity", "N", "--units", "1-20", "--timeout", "0.05"],
            capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[2],
        )  # fmt: skip
    finally:
        pair.terminate()
        pair.wait(5)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "no device answered" in result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) <= 3, result.stderr
    assert "not answering" not in result.stderr
    assert any("silent" in line for line in lines), result.stderr
