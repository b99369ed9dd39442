"""`[outlets.<id>.power]` (用电监控, HJ 212-2025 ST=44): meter points → configured d-codes, for 2025 platforms only.

The codes are settings (hj212-2025.md §6 gives only examples); a 2017 platform in the list, a code that is not
d2xxxx/d3xxxx or contradicts its role, and a point that is an outlet factor are refused with file:line:key.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from config_site import SITE, line_with, write

from agent.config import ConfigError, build, load_config
from agent.daemon.plan import plan_from_config

PROVINCE = """
[platforms.province]
host = "127.0.0.1"
port = 9002
version = 2025
mns = { DW001 = "33010000A8900016F0000002" }
"""

POWER = """
[outlets.DW001.power]
platforms = ["province"]

[[outlets.DW001.power.points]]
point = "meter.ua"
code = "d30101"
role = "treatment"

[[outlets.DW001.power.points]]
point = "meter.p"
code = "d30501"
role = "treatment"
decimals = 3
"""


def site(power: str = POWER) -> str:
    return SITE + PROVINCE + power


def problems(tmp_path: Path, text: str) -> tuple[Path, str]:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    return path, str(info.value)


def test_power_points_build_a_plan_and_the_session_settings(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, site()), environ={})
    plan = build.power_points(config)["DW001"]
    assert plan.interval_s == 30  # the platform's RtdInterval (the outlet's, by default)
    assert plan.points == (("meter", "d30101", 2), ("meter", "d30501", 3))
    assert plan.platforms == ("province",)
    sessions = build.session_settings(config)
    assert sessions["province/DW001"].upload.power is True
    assert sessions["province/DW001"].decimals == {"d30101": 2, "d30501": 3}
    # The readings are stored under their d-codes; the equipment on the same point follows that code.
    devices = build.devices_config(config)
    assert devices.devices["meter"].override("ua").factor == "d30101"
    params = build.outlet_params(config)["DW001"]
    assert params.equipment[0].source == "d30501"
    site_plan = plan_from_config(config)
    dw = next(o for o in site_plan.outlets if o.name == "DW001")
    assert dw.power == plan and "meter" in dw.devices
    assert ("meter", "d30501") in dw.feeds


def test_an_unlisted_2025_platform_gets_no_power_data(tmp_path: Path) -> None:
    other = PROVINCE.replace("province", "city").replace("9002", "9003").replace("0002", "0003")
    config = load_config(write(tmp_path, site() + other), environ={})
    sessions = build.session_settings(config)
    assert sessions["city/DW001"].upload.power is False
    assert sessions["city/DW001"].decimals == {}


def test_the_interval_is_a_setting(tmp_path: Path) -> None:
    text = site(POWER.replace('platforms = ["province"]', 'platforms = ["province"]\ninterval_s = 300'))
    config = load_config(write(tmp_path, text), environ={})
    assert build.power_points(config)["DW001"].interval_s == 300


def test_a_2017_platform_is_refused(tmp_path: Path) -> None:
    text = site(POWER.replace('platforms = ["province"]', 'platforms = ["province", "national"]'))
    path, msg = problems(tmp_path, text)
    wanted = f"{path}:{line_with(text, 'platforms = [')}: outlets.DW001.power.platforms[1]: "
    hit = next((m for m in msg.splitlines() if m.startswith(wanted)), None)
    assert hit is not None, msg
    assert "HJ 212-2017" in hit and "2025" in hit


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ('code = "d30101"', 'code = "a21026"', ("d2xxxx", "a21026")),
        ('code = "d30101"', 'code = "d20101"', ("role is treatment",)),
        ('point = "meter.ua"', 'point = "meter.nope"', ("no value point 'nope'",)),
        ('point = "meter.ua"', 'point = "cod.result"', ("factor of outlet DW001",)),
    ],
)
def test_bad_points_name_their_line(tmp_path: Path, old: str, new: str, words: tuple[str, ...]) -> None:
    text = site(POWER.replace(old, new))
    path, msg = problems(tmp_path, text)
    hits = [m for m in msg.splitlines() if m.startswith(f"{path}:") and "outlets.DW001.power.points[0]" in m]
    assert hits, msg
    # The point's own line, or (for a rule over two keys) the line of its table
    mine = [n for n, line in enumerate(text.splitlines(), 1) if line == new]
    lines = {mine[-1], line_with(text, "[[outlets.DW001.power.points]]")}
    assert int(hits[0].split(":")[1]) in lines, (lines, hits)
    for word in words:
        assert word in hits[0], hits[0]


def test_a_platform_without_the_outlet_is_refused(tmp_path: Path) -> None:
    text = site().replace(
        'mns = { DW001 = "33010000A8900016F0000002" }', 'mns = { DA001 = "33010000A8900016F0000002" }'
    )
    _, msg = problems(tmp_path, text)
    assert "outlets.DW001.power.platforms[0]" in msg and "no MN for outlet DW001" in msg, msg


def test_the_demo_site_sends_its_meters_to_the_2025_platform() -> None:
    config = load_config(Path(__file__).resolve().parents[2] / "agent/config/demo_site.toml", environ={})
    plan = build.power_points(config)["DW001"]
    assert plan.platforms == ("province",)
    codes = {code for _, code, _ in plan.points}
    assert {"d20101", "d20201", "d20301", "d20401", "d20501"} <= codes
    assert {"d30101", "d30201", "d30301", "d30401", "d30501"} <= codes
    sessions = build.session_settings(config)
    assert sessions["province/DW001"].upload.power and not sessions["national/DW001"].upload.power
    assert [e.code for e in config.outlets["DW001"].equipment] == ["SB1", "SB2"]
