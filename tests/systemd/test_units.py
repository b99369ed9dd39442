"""The unit files: the checked-in ones are what install writes, they say what the issue asks, and systemd accepts them.

`systemd-analyze` checks use the `require_tool` fixture: they skip where systemd is not installed and fail under
CI=true, where `.ci/run` installs the systemd package (docs/operations.md, "Hardening").
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.cli.service import VIDEO_UNIT_NAME, UnitSettings, render_unit, render_video_unit

REPO = Path(__file__).resolve().parents[2]
UNITS = REPO / "systemd"
OPERATIONS = REPO / "docs" / "operations.md"


def _directives(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            out.setdefault(key, []).append(value)
    return out


def test_checked_in_units_are_what_install_writes() -> None:
    """Edit the text in agent/cli/service.py and regenerate with `das service unit [--video] > systemd/…`."""
    assert (UNITS / "das-agent.service").read_text() == render_unit()
    assert (UNITS / VIDEO_UNIT_NAME).read_text() == render_video_unit()


def test_agent_unit_has_what_the_issue_asks() -> None:
    d = _directives(render_unit())
    one = {k: v[-1] for k, v in d.items()}
    assert one["Type"] == "notify" and one["NotifyAccess"] == "main"
    assert one["WatchdogSec"] == "30" and one["Restart"] == "always" and one["RestartSec"] == "5"
    assert one["ExecStart"] == "/usr/local/bin/das run --config /etc/das-agent/agent.toml"
    assert (one["User"], one["Group"], one["SupplementaryGroups"]) == ("das", "das", "dialout")
    assert one["StateDirectory"] == one["ConfigurationDirectory"] == "das-agent"
    assert one["PrivateDevices"] == "no" and one["DevicePolicy"] == "closed"
    assert d["DeviceAllow"] == ["char-ttyS rw", "char-ttyUSB rw", "char-ttyACM rw"]  # no cameras here
    assert one["CapabilityBoundingSet"] == "" and one["UMask"] == "0027"
    assert one["RestrictAddressFamilies"] == "AF_UNIX AF_INET AF_INET6"
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "ProtectClock", "MemoryDenyWriteExecute"):
        assert one[key] == "yes", key
    assert one["ProtectSystem"] == "strict"
    assert "LogsDirectory" not in d  # journald keeps the logs


@pytest.fixture
def systemd_analyze(require_tool: Callable[[str], str]) -> str:
    return require_tool("systemd-analyze")


def _write_units(folder: Path) -> list[Path]:
    """Units pointing at this venv's real `das`, as install writes them (verify checks ExecStart exists)."""
    settings = UnitSettings(das=str(Path(sys.executable).with_name("das")))
    paths = [folder / "das-agent.service", folder / VIDEO_UNIT_NAME]
    paths[0].write_text(render_unit(settings))
    paths[1].write_text(render_video_unit(settings))
    return paths


def test_systemd_analyze_verify(systemd_analyze: str, tmp_path: Path) -> None:
    for unit in _write_units(tmp_path):
        done = subprocess.run([systemd_analyze, "verify", str(unit)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        assert unit.name not in done.stderr, done.stderr  # no warning about our unit


def _exposure(systemd_analyze: str, unit: Path) -> float:
    done = subprocess.run(
        [systemd_analyze, "security", "--offline=yes", str(unit)], capture_output=True, text=True, check=False
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d)", done.stdout)
    assert found, done.stdout + done.stderr
    return float(found.group(1))


def test_security_exposure_is_low_and_documented(systemd_analyze: str, tmp_path: Path) -> None:
    """The score in docs/operations.md is what this systemd computes; other versions weigh items differently."""
    agent, video = _write_units(tmp_path)
    scores = {"das-agent": _exposure(systemd_analyze, agent), "das-video": _exposure(systemd_analyze, video)}
    version = subprocess.run([systemd_analyze, "--version"], capture_output=True, text=True, check=True).stdout
    major = re.match(r"systemd (\d+)", version)
    doc = OPERATIONS.read_text()
    documented = re.search(r"systemd (\d+): das-agent (\d+\.\d), das-video (\d+\.\d)", doc)
    assert documented, "docs/operations.md must state the exposure scores"
    if major and major.group(1) == documented.group(1):
        assert scores == {"das-agent": float(documented.group(2)), "das-video": float(documented.group(3))}
    assert max(scores.values()) <= 2.0, scores  # "OK" band; a regression in hardening shows here
