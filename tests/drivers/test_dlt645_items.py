"""Every data identifier in the table decodes with the unit, decimals and sign the standard gives it.

Each row is written by hand from devices.md §1.3/§1.5 (DI, unit, format) with value bytes as they arrive
(unmasked, least-significant byte first) and the number they must give. A new table entry needs a new row:
`test_table_is_fully_covered` fails otherwise.
"""

from __future__ import annotations

import pytest

from drivers.dlt645 import ITEMS_1997, ITEMS_2007, DataItem, Version, decode_bcd, encode_bcd, lookup
from drivers.errors import ProtocolError

# (DI, name, unit, value bytes LSB first, expected value(s))
ROWS_2007 = [
    ("00000000", "energy_active_combined", "kWh", "56 34 12 80", -1234.56),  # combined energy is signed
    ("00010000", "energy_active_import", "kWh", "99 78 56 34", 345678.99),
    ("00010100", "energy_active_import_t1", "kWh", "01 00 00 00", 0.01),
    ("00010200", "energy_active_import_t2", "kWh", "00 01 00 00", 1.00),
    ("00010300", "energy_active_import_t3", "kWh", "00 00 01 00", 100.00),
    ("00010400", "energy_active_import_t4", "kWh", "00 00 00 99", 990000.00),  # unsigned: 0x99 is digits
    (
        "0001FF00",
        "energy_active_import_block",
        "kWh",
        "10 00 00 00 04 00 00 00 06 00 00 00 00 00 00 00 00 00 00 00",
        (0.10, 0.04, 0.06, 0.0, 0.0),
    ),
    ("00020000", "energy_active_export", "kWh", "25 00 00 00", 0.25),
    ("02010100", "voltage_a", "V", "01 22", 220.1),
    ("02010200", "voltage_b", "V", "99 21", 219.9),
    ("02010300", "voltage_c", "V", "50 23", 235.0),
    ("0201FF00", "voltage_block", "V", "01 22 99 21 50 23", (220.1, 219.9, 235.0)),
    ("02020100", "current_a", "A", "50 23 01", 12.350),
    ("02020200", "current_b", "A", "50 23 81", -12.350),
    ("02020300", "current_c", "A", "01 00 00", 0.001),
    ("0202FF00", "current_block", "A", "00 50 00 00 00 80 99 99 99", (5.0, 0.0, -199.999)),  # 0x99: sign bit + digit 1
    ("02030000", "power_active_total", "kW", "56 34 12", 12.3456),
    ("02030100", "power_active_a", "kW", "00 00 80", 0.0),  # negative zero is zero
    ("02030200", "power_active_b", "kW", "00 10 81", -1.1000),
    ("02030300", "power_active_c", "kW", "99 99 79", 79.9999),
    ("02040000", "power_reactive_total", "kvar", "00 50 82", -2.5000),
    ("02040100", "power_reactive_a", "kvar", "01 00 00", 0.0001),
    ("02040200", "power_reactive_b", "kvar", "00 00 01", 1.0),
    ("02040300", "power_reactive_c", "kvar", "00 00 81", -1.0),
    ("02050000", "power_apparent_total", "kVA", "00 00 85", 85.0),  # unsigned: bit 7 is the digit 8
    ("02050100", "power_apparent_a", "kVA", "34 12 00", 0.1234),
    ("02050200", "power_apparent_b", "kVA", "00 00 10", 10.0),
    ("02050300", "power_apparent_c", "kVA", "99 99 99", 99.9999),
    ("02060000", "power_factor_total", "", "87 09", 0.987),
    ("02060100", "power_factor_a", "", "00 10", 1.000),
    ("02060200", "power_factor_b", "", "00 85", -0.500),
    ("02060300", "power_factor_c", "", "50 08", 0.850),
    ("02800001", "current_neutral", "A", "00 01 00", 0.1),
    ("02800002", "frequency", "Hz", "01 50", 50.01),
]

ROWS_1997 = [
    ("9010", "energy_active_import", "kWh", "15 80 95 00", 9580.15),
    ("B611", "voltage_a", "V", "20 02", 220.0),  # integer volts in 1997
    ("B612", "voltage_b", "V", "19 02", 219.0),
    ("B613", "voltage_c", "V", "21 02", 221.0),
    ("B691", "voltage_ab", "V", "80 03", 380.0),
    ("B692", "voltage_bc", "V", "79 03", 379.0),
    ("B693", "voltage_ca", "V", "81 03", 381.0),
    ("B621", "current_a", "A", "34 12", 12.34),  # XX.XX in 1997, XXX.XXX in 2007
    ("B622", "current_b", "A", "00 05", 5.00),
    ("B623", "current_c", "A", "99 99", 99.99),
    ("B630", "power_active_total", "kW", "56 34 12", 12.3456),
    ("B631", "power_active_a", "kW", "00 00 04", 4.0),
    ("B632", "power_active_b", "kW", "00 50 04", 4.5),
    ("B633", "power_active_c", "kW", "01 00 00", 0.0001),
]


def _check(item: DataItem, di: str, name: str, unit: str, raw: str, expected: float | tuple[float, ...]) -> None:
    assert (item.di_hex, item.name, item.unit) == (di, name, unit)
    want = expected if isinstance(expected, tuple) else (expected,)
    assert item.decode(bytes.fromhex(raw)) == pytest.approx(want, abs=1e-9)
    assert lookup(name, item.version) is item
    assert lookup(di, item.version) is item
    assert lookup("0x" + di.lower(), item.version) is item


@pytest.mark.parametrize(("di", "name", "unit", "raw", "expected"), ROWS_2007)
def test_2007_item(di: str, name: str, unit: str, raw: str, expected: float | tuple[float, ...]) -> None:
    item = lookup(di, Version.V2007)
    assert item.version is Version.V2007
    _check(item, di, name, unit, raw, expected)


@pytest.mark.parametrize(("di", "name", "unit", "raw", "expected"), ROWS_1997)
def test_1997_item(di: str, name: str, unit: str, raw: str, expected: float | tuple[float, ...]) -> None:
    item = lookup(di, Version.V1997)
    assert item.version is Version.V1997
    _check(item, di, name, unit, raw, expected)


def test_table_is_fully_covered() -> None:
    assert sorted(i.di_hex for i in ITEMS_2007) == sorted(r[0] for r in ROWS_2007)
    assert sorted(i.di_hex for i in ITEMS_1997) == sorted(r[0] for r in ROWS_1997)
    for table in (ITEMS_2007, ITEMS_1997):
        assert len({i.name for i in table}) == len(table), "names must be unique within an edition"


@pytest.mark.parametrize(
    ("name", "signed"),
    [
        ("current_a", True),
        ("power_active_total", True),
        ("power_factor_total", True),
        ("energy_active_combined", True),
        ("energy_active_import", False),
        ("voltage_a", False),
        ("frequency", False),
        ("power_apparent_total", False),
    ],
)
def test_sign_rule_per_devices_md(name: str, signed: bool) -> None:
    """Signed: current, power, PF, combined energy (sign-magnitude in the top bit of the MSB)."""
    assert lookup(name).signed is signed


def test_wrong_length_and_non_bcd_are_protocol_errors() -> None:
    item = lookup("voltage_a")
    with pytest.raises(ProtocolError, match="3 value bytes, expected 2"):
        item.decode(bytes.fromhex("01 22 00"))
    with pytest.raises(ProtocolError, match="not BCD"):
        item.decode(bytes.fromhex("0A 22"))
    with pytest.raises(ProtocolError, match="not BCD"):
        lookup("current_a").decode(bytes.fromhex("00 00 8A"))  # sign bit is stripped, the A nibble is not


def test_lookup_errors_name_the_choices() -> None:
    with pytest.raises(KeyError, match="voltage_a"):
        lookup("voltage_x")
    with pytest.raises(KeyError, match="02FFFFFF is not in the table"):
        lookup("02FFFFFF")
    with pytest.raises(KeyError):
        lookup("02010100", Version.V1997)  # a 4-byte DI means nothing to a 1997 meter


def test_profile_can_define_an_item_the_table_lacks() -> None:
    item = DataItem(di=0x02800008, name="clock_battery", unit="V", length=2, decimals=2)
    assert item.decode(bytes.fromhex("60 03")) == (3.60,)
    with pytest.raises(ValueError, match="does not fit 2 bytes"):
        DataItem(di=0x12345, name="x", length=2, decimals=0, version=Version.V1997)
    with pytest.raises(ValueError, match="decimals"):
        DataItem(di=1, name="x", length=1, decimals=3)


@pytest.mark.parametrize(
    ("value", "length", "decimals", "signed", "raw"),
    [
        (220.1, 2, 1, False, "01 22"),
        (-1.234, 3, 3, True, "34 12 80"),
        (12.3456, 3, 4, True, "56 34 12"),
        (0.0, 2, 3, True, "00 00"),
    ],
)
def test_encode_bcd_matches_hand_bytes(value: float, length: int, decimals: int, signed: bool, raw: str) -> None:
    assert encode_bcd(value, length, decimals, signed=signed) == bytes.fromhex(raw)
    assert decode_bcd(bytes.fromhex(raw), decimals, signed=signed) == pytest.approx(value)


def test_encode_bcd_refuses_values_that_do_not_fit() -> None:
    with pytest.raises(ValueError):
        encode_bcd(80.0, 3, 4, signed=True)  # signed power stops at 79.9999
    with pytest.raises(ValueError):
        encode_bcd(-1.0, 2, 1)
