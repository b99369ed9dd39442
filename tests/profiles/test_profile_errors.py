"""A broken profile is refused with `file: key: what was expected`, never loaded half-right."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.profiles import ProfileError, load_builtin, load_profile

GOOD = """
[device]
name = "my_meter"
title = "测试 test"
vendor = "v"
model = "m"
kind = "other"
protocol = "modbus"
source = "manual p.3"

[[points]]
name = "level"
unit = "m"
fc = 3
address = 10
type = "float32"
range = [0, 5]

[[points]]
name = "state"
role = "state"
fc = 3
address = 20

[state.state]
rows = [{ value = 1, flag = "D", info = { i12001 = 2 }, zh = "故障", en = "fault" }]
"""


def _write(tmp_path: Path, text: str, name: str = "my_meter") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str, name: str = "my_meter") -> str:
    path = _write(tmp_path, text, name)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    return message


def test_good_user_profile_loads_without_code(tmp_path: Path) -> None:
    profile = load_profile(_write(tmp_path, GOOD))
    assert profile.point("level").range == (0.0, 5.0)
    assert profile.state["state"].rows[0].info == {"i12001": 2}


def test_misspelt_key_is_named_with_the_point(tmp_path: Path) -> None:
    message = _error(tmp_path, GOOD.replace('unit = "m"', 'unit = "m"\nscael = 2'))
    assert "points[0](level).scael: unknown key" in message


def test_wrong_type_names_key_and_choices(tmp_path: Path) -> None:
    message = _error(tmp_path, GOOD.replace('type = "float32"', 'type = "float"'))
    assert "points[0](level).type:" in message
    assert "'float32'" in message


def test_missing_address_for_modbus(tmp_path: Path) -> None:
    message = _error(tmp_path, GOOD.replace("address = 10\n", ""))
    assert "points[0]: `fc` and `address` expected for a modbus device" in message


def test_bad_flag_letter_in_state_row(tmp_path: Path) -> None:
    message = _error(tmp_path, GOOD.replace('flag = "D"', 'flag = "Z"'))
    assert "state.state.rows[0].flag:" in message


def test_state_table_without_state_point(tmp_path: Path) -> None:
    message = _error(tmp_path, GOOD.replace("[state.state]", "[state.level]"))
    assert "state.level: a point named 'level' with role = 'state' expected" in message


def test_duplicate_point_name(tmp_path: Path) -> None:
    message = _error(tmp_path, GOOD.replace('name = "state"', 'name = "level"'))
    assert "points[1].name: 'level' already used in points[0]" in message


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    message = _error(tmp_path, GOOD.replace("range = [0, 5]", "range = [0, 5"))
    assert "TOML syntax" in message
    assert "line" in message


def test_file_name_must_match_device_name(tmp_path: Path) -> None:
    message = _error(tmp_path, GOOD, name="other_name")
    assert "device.name: 'other_name' expected" in message


def test_4_20ma_point_needs_a_range(tmp_path: Path) -> None:
    message = _error(tmp_path, GOOD.replace("range = [0, 5]", 'signal = "4-20mA"'))
    assert "points[0](level): a 4-20mA point needs `range`" in message


def test_extends_a_builtin_and_reports_errors_against_the_child(tmp_path: Path) -> None:
    child = '[device]\nextends = "water_fpi_cod"\nname = "site_cod"\n\n[[points]]\nname = "result"\nrange = [0, 200]\n'
    profile = load_profile(_write(tmp_path, child, "site_cod"))
    assert profile.point("result").range == (0.0, 200.0)
    assert profile.point("result").factor == "w01018"
    message = _error(tmp_path, child.replace("range = [0, 200]", "range = [200, 0]"), "site_cod")
    assert "points[0](result): range must be [low, high]" in message


def test_unknown_builtin_lists_the_known_ones() -> None:
    with pytest.raises(ProfileError, match="power_sdm630"):
        load_builtin("no_such_device")


def test_every_problem_is_listed_not_only_the_first(tmp_path: Path) -> None:
    message = _error(tmp_path, GOOD.replace('unit = "m"', "unit = 5\nfoo = 1"))
    assert message.count(str(tmp_path)) == 2
