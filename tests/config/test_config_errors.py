"""Broken site configurations: every problem names the file, the line and the key, all of them at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from config_site import SITE, edit, line_with, write

from agent.config import ConfigError, load_config


def problems_of(tmp_path: Path, text: str) -> tuple[Path, str]:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    return path, str(info.value)


def assert_problem(message: str, path: Path, line: int, key: str, *words: str) -> None:
    wanted = f"{path}:{line}: {key}: "
    hits = [m for m in message.splitlines() if m.startswith(wanted)]
    assert hits, f"no problem starting {wanted!r} in:\n{message}"
    for word in words:
        assert word in hits[0], f"{word!r} not in {hits[0]!r}"


def test_the_test_site_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path), environ={})
    assert set(config.devices) == {"cems", "flue", "cod", "meter"}
    assert config.outlets["DA001"].outlet == "DA001"
    assert config.profiles["meter"].device.protocol == "dlt645"


def test_wrong_type(tmp_path: Path) -> None:
    text = edit("unit = 2\n", 'unit = "two"\n')
    path, msg = problems_of(tmp_path, text)
    assert_problem(msg, path, line_with(text, 'unit = "two"'), "devices.flue.unit", "integer", "'two'")


def test_unknown_key(tmp_path: Path) -> None:
    text = edit("port = 9001\n", 'port = 9001\ncolour = "red"\n')
    path, msg = problems_of(tmp_path, text)
    assert_problem(msg, path, line_with(text, "colour"), "platforms.national.colour", "unknown key")


def test_missing_required_key_points_at_its_table(tmp_path: Path) -> None:
    text = edit('[outlets.DW001]\nkind = "water"\n', "[outlets.DW001]\n")
    path, msg = problems_of(tmp_path, text)
    assert_problem(msg, path, line_with(text, "[outlets.DW001]"), "outlets.DW001.kind", "required")


def test_bad_factor_code(tmp_path: Path) -> None:
    text = edit('code = "a19001"', 'code = "a1900"')
    path, msg = problems_of(tmp_path, text)
    assert_problem(msg, path, line_with(text, 'code = "a1900"'), "outlets.DA001.factors[1].code", "factor code")


def test_min_interval_7_in_an_outlet(tmp_path: Path) -> None:
    text = edit("reference_o2 = 6.0\n", "reference_o2 = 6.0\nmin_interval = 7\n")
    path, msg = problems_of(tmp_path, text)
    assert_problem(msg, path, line_with(text, "min_interval = 7"), "outlets.DA001.min_interval", "Table 4")


def test_min_interval_7_in_statistics_is_reported_there_once(tmp_path: Path) -> None:
    text = edit("min_interval = 10\n", "min_interval = 7\n")
    path, msg = problems_of(tmp_path, text)
    assert_problem(msg, path, line_with(text, "min_interval = 7"), "statistics.min_interval", "Table 4")
    assert msg.count("min_interval 7") == 1


def test_duplicate_device_name(tmp_path: Path) -> None:
    text = SITE + '\n[devices.cems]\nprofile = "water_fpi_tp"\nlink = "rs485_1"\n'
    path, msg = problems_of(tmp_path, text)
    assert_problem(msg, path, line_with(text, "[devices.cems]", 2), "devices.cems", "twice")


def test_two_links_on_one_port_with_other_line_settings(tmp_path: Path) -> None:
    text = edit('port = "/dev/ttyS2"\n', 'port = "/dev/ttyS1"\n')
    path, msg = problems_of(tmp_path, text)
    # rs485_1 takes 9600 8N1 from its Modbus devices, meters 2400 8E1 from the DL/T 645 profile.
    assert_problem(msg, path, line_with(text, 'port = "/dev/ttyS1"', 2), "links.meters.port", "9600 8N1", "2400 8E1")


def test_devices_with_different_factory_settings_on_a_link_without_settings(tmp_path: Path) -> None:
    text = edit('link = "meters"\n', 'link = "rs485_1"\n')
    path, msg = problems_of(tmp_path, text)
    assert_problem(msg, path, line_with(text, "[links.rs485_1]"), "links.rs485_1", "baud", "meter 2400")


def test_explicit_line_settings_on_the_link_settle_it(tmp_path: Path) -> None:
    text = edit('link = "meters"\n', 'link = "rs485_1"\n')
    text = edit('port = "/dev/ttyS1"\n', 'port = "/dev/ttyS1"\nbaud = 9600\nparity = "N"\n', text)
    load_config(write(tmp_path, text), environ={})


def test_device_on_an_undefined_link(tmp_path: Path) -> None:
    text = edit('link = "meters"\n', 'link = "rs485_9"\n')
    path, msg = problems_of(tmp_path, text)
    assert_problem(msg, path, line_with(text, "rs485_9"), "devices.meter.link", "no link named 'rs485_9'")


def test_outlet_factor_mapped_to_no_device(tmp_path: Path) -> None:
    text = edit('point = "cod.result"', 'point = "toc.result"')
    path, msg = problems_of(tmp_path, text)
    assert_problem(msg, path, line_with(text, "toc.result"), "outlets.DW001.factors[0].point", "no device named 'toc'")


def test_outlet_factor_without_a_point(tmp_path: Path) -> None:
    text = edit('point = "cod.result"\n', "")
    path, msg = problems_of(tmp_path, text)
    line = line_with(text, "[[outlets.DW001.factors]]")
    assert_problem(msg, path, line, "outlets.DW001.factors[0].point", "required")


def test_factor_on_a_point_of_another_factor_needs_a_confirmed_remap(tmp_path: Path) -> None:
    text = edit('point = "cems.o2"', 'point = "cems.humidity"')
    path, msg = problems_of(tmp_path, text)
    assert_problem(msg, path, line_with(text, 'code = "a19001"'), "outlets.DA001.factors[1].code", "a01014")
    confirmed = edit("unit = 1\n", 'unit = 1\npoints.humidity = { factor = "a19001", unit = "%" }\n', text)
    load_config(write(tmp_path, confirmed), environ={})


def test_unit_mismatch_between_device_and_factor(tmp_path: Path) -> None:
    text = edit('point = "cems.so2"\n', 'point = "cems.so2"\nunit = "ppm"\nmolar_mass = 64.06\n')
    path, msg = problems_of(tmp_path, text)
    assert_problem(msg, path, line_with(text, 'unit = "ppm"'), "outlets.DA001.factors[0].unit", "mg/m3")


def test_water_factor_in_a_gas_outlet(tmp_path: Path) -> None:
    text = edit('code = "a21026"\npoint = "cems.so2"', 'code = "w01018"\npoint = "cod.result"')
    path, msg = problems_of(tmp_path, text)
    assert_problem(msg, path, line_with(text, 'code = "w01018"'), "outlets.DA001.factors[0].code", "water factor")


def test_platform_mn_for_an_unknown_outlet_and_a_shared_mn(tmp_path: Path) -> None:
    text = edit('DW001 = "010000A8900016F000169DC1"', 'DW001 = "010000A8900016F000169DC0", DX9 = "1"')
    path, msg = problems_of(tmp_path, text)
    line = line_with(text, "mns =")
    assert_problem(msg, path, line, "platforms.national.mns.DX9", "no outlet named 'DX9'")
    assert_problem(msg, path, line, "platforms.national.mns.DW001", "also outlet DA001")


def test_platform_interval_that_differs_from_its_outlets(tmp_path: Path) -> None:
    text = edit("port = 9001\n", "port = 9001\nmin_interval = 5\n")
    path, msg = problems_of(tmp_path, text)
    assert_problem(msg, path, line_with(text, "min_interval = 5"), "platforms.national.min_interval", "outlet")


def test_uplink_rules_are_reported_against_the_platform_table(tmp_path: Path) -> None:
    text = edit("port = 9001\n", "port = 9001\nencrypt = true\n")
    path, msg = problems_of(tmp_path, text)
    assert_problem(msg, path, line_with(text, "encrypt"), "platforms.national.encrypt", "2025")


def test_statistics_rule_names_its_key(tmp_path: Path) -> None:
    """A rule of OutletParams that starts with a key's name points at that key's line."""
    text = edit('[[outlets.DA001.factors]]\ncode = "a19001"\npoint = "cems.o2"\n', "")
    path, msg = problems_of(tmp_path, text)
    assert_problem(msg, path, line_with(text, "reference_o2"), "outlets.DA001.reference_o2", "role o2")


def test_retention_below_a_year_for_hours(tmp_path: Path) -> None:
    text = SITE + "\n[retention]\ndays = { hour = 100 }\n"
    path, msg = problems_of(tmp_path, text)
    assert_problem(msg, path, line_with(text, "[retention]"), "retention", "365")


def test_toml_syntax_error_has_its_line(tmp_path: Path) -> None:
    text = edit("port = 9001\n", "port = \n")
    path, msg = problems_of(tmp_path, text)
    assert msg.startswith(f"{path}:{text.splitlines().index('port = ') + 1}: ")
    assert "TOML" in msg


def test_unsupported_version(tmp_path: Path) -> None:
    text = edit("version = 1\n", "version = 9\n")
    path, msg = problems_of(tmp_path, text)
    assert_problem(msg, path, 1, "version", "got 9")


def test_all_problems_at_once(tmp_path: Path) -> None:
    text = edit('point = "cod.result"', 'point = "toc.result"')
    text = edit('link = "meters"\n', 'link = "rs485_9"\n', text)
    _, msg = problems_of(tmp_path, text)
    assert "toc" in msg and "rs485_9" in msg


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")
