"""`[[commands]]` and `writable` `[[info]]`: what a platform may make the analyzer do, checked at load."""

from __future__ import annotations

import pytest

from drivers.profiles import ProfileError, builtin_names, load_builtin, parse_profile

HEAD = """
[device]
name = "t"
title = "t"
vendor = "t"
model = "t"
kind = "water_analyzer"
protocol = "modbus"
source = "test"

[[points]]
name = "cod"
fc = 3
address = 0
type = "float32"
factor = "w01018"
"""


def load(extra: str):  # type: ignore[no-untyped-def]
    return parse_profile(HEAD + extra, "t.toml")


def test_commands_and_writable_info_load() -> None:
    profile = load(
        """
[[commands]]
kind = "zero_calibration"
fc = 6
address = 0x3000
value = 1

[[commands]]
kind = "standard_check"
fc = 16
address = 0x3001
value = [4, 0]

[[commands]]
kind = "measure_now"
fc = 5
address = 7
value = true

[[info]]
name = "digest_temp"
code = "i13004"
fc = 3
address = 0x1000
type = "uint16"
writable = true
range = [100, 200]

[[info]]
name = "slope"
code = "i13008"
fc = 3
address = 0x1009
type = "float32"
"""
    )
    zero = profile.command("zero_calibration")
    assert zero is not None and (zero.fc, zero.address, zero.words) == (6, 0x3000, (1,))
    check = profile.command("standard_check")
    assert check is not None and check.words == (4, 0)
    assert profile.command("span_calibration") is None
    temp = profile.info_item("i13004")
    assert temp is not None and temp.writable and temp.range == (100, 200) and temp.write_function == 6
    slope = profile.info_item("i13008")
    assert slope is not None and not slope.writable


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[[commands]]\nkind = "reboot"\nfc = 6\naddress = 1\nvalue = 1', "commands[0].kind"),
        ('[[commands]]\nkind = "measure_now"\nfc = 6\naddress = 1\nvalue = 70000', "0..65535"),
        ('[[commands]]\nkind = "measure_now"\nfc = 5\naddress = 1\nvalue = 1', "true or false"),
        ('[[commands]]\nkind = "measure_now"\nfc = 3\naddress = 1\nvalue = 1', "commands[0].fc"),
        (
            '[[commands]]\nkind = "measure_now"\nfc = 6\naddress = 1\nvalue = 1\n'
            '[[commands]]\nkind = "measure_now"\nfc = 6\naddress = 2\nvalue = 1',
            "given 2 times",
        ),
        ('[[info]]\nname = "a"\ncode = "i13004"\nfc = 3\naddress = 9\nwritable = true', "range"),
        ('[[info]]\nname = "a"\ncode = "i12001"\nfc = 3\naddress = 9\nwritable = true\nrange = [0, 1]', "i13xxx"),
        (
            '[[info]]\nname = "a"\ncode = "i13101"\nfc = 3\naddress = 9\ntype = "bcd_datetime"\n'
            "writable = true\nrange = [0, 1]",
            "numeric",
        ),
        ('[[info]]\nname = "a"\ncode = "i13004"\nfc = 4\naddress = 9\nwritable = true\nrange = [0, 1]', "fc = 3"),
        (
            '[[info]]\nname = "a"\ncode = "i13004"\nfc = 3\naddress = 9\ntype = "float32"\n'
            "writable = true\nrange = [0, 1]\nwrite_fc = 6",
            "write_fc",
        ),
        ('[[info]]\nname = "a"\ncode = "i13004"\nfc = 3\naddress = 9\nrange = [0, 1]', "only for a writable"),
    ],
)
def test_bad_commands_and_writable_items_name_the_key(extra: str, message: str) -> None:
    with pytest.raises(ProfileError) as err:
        load(extra)
    assert message in str(err.value)


def test_builtin_profiles_invent_no_vendor_command_registers() -> None:
    """devices.md §2.3 gives no command or write registers for any analyzer: no built-in profile may have one."""
    for name in builtin_names():
        profile = load_builtin(name)
        assert profile.commands == (), name
        assert not any(i.writable for i in profile.info), name
