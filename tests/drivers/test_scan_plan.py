"""`das scan serial` line settings: each protocol sweeps its usual ones unless the user narrows them.

DL/T 645 meters run at 2400 8E1 (1200 8E1 for 1997 meters, devices.md §1.1); the old default (9600 8N1 for
every probe) never reached them.
"""

from __future__ import annotations

from typer.testing import CliRunner

from agent.cli import _load_commands, app
from drivers.link.scan import ScanOptions, estimate_seconds, line_plan, load_probes, serial_steps


def _settings(plan: list, protocol: str) -> list[str]:  # type: ignore[type-arg]
    return [step.params.line for step in plan if any(p.name == protocol for p in step.probes)]


def test_default_plan_sweeps_each_protocols_usual_settings() -> None:
    plan = line_plan("/dev/ttyS1", load_probes())
    assert _settings(plan, "dlt645") == ["9600 8E1", "2400 8E1", "1200 8E1"]
    modbus = _settings(plan, "modbus-rtu")
    assert len(modbus) == 12
    assert {line.split()[0] for line in modbus} == {"9600", "19200", "4800", "2400", "38400", "115200"}
    assert {line.split()[1] for line in modbus} == {"8N1", "8E1"}
    assert "1200 8E1" not in modbus
    lines = [step.params.line for step in plan]
    assert len(lines) == len(set(lines)) == 13  # 2400 E and 9600 E are visited once, with both probes
    assert lines[0] == "9600 8N1"


def test_given_lists_narrow_every_probe() -> None:
    plan = line_plan("/dev/ttyS1", load_probes(), bauds=[9600], parities=["N"])
    assert [step.params.line for step in plan] == ["9600 8N1"]
    assert {p.name for p in plan[0].probes} == {"modbus-rtu", "dlt645"}
    only_baud = line_plan("/dev/ttyS1", load_probes(), bauds=[2400])
    assert _settings(only_baud, "dlt645") == ["2400 8E1"]
    assert _settings(only_baud, "modbus-rtu") == ["2400 8N1", "2400 8E1"]


def test_default_sweep_estimate_stays_a_few_minutes() -> None:
    options = ScanOptions(units=tuple(range(1, 33)), timeout=0.3)
    plan = line_plan("/dev/ttyS1", load_probes())
    seconds = estimate_seconds(plan, options)
    # 12 Modbus settings x 32 units x (0.3 s + t3.5), plus the meter probes: about two minutes.
    assert 12 * 32 * 0.3 < seconds < 180
    assert serial_steps(plan, options) == 12 * 32 + 3 * 2


def test_cli_shows_the_settings_and_estimate_before_scanning() -> None:
    _load_commands()
    result = CliRunner().invoke(app, ["scan", "serial", "/nonexistent/tty"])
    assert result.exit_code == 2
    assert "13 种线路设置 / line settings: 9600 8N1, 9600 8E1" in result.output
    assert "1200 8E1" in result.output and "at most ~2 min" in result.output
