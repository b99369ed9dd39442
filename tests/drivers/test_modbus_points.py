"""Point decoding: every type in every byte/word order, from hand-computed register tables.

The registers below were written by hand from the value's big-endian bytes A B C D (E F G H): ABCD = [AB, CD],
CDAB = [CD, AB], BADC = [BA, DC], DCBA = [DC, BA]; 64-bit: ABCD = [AB CD EF GH], CDAB = [GH EF CD AB],
BADC = [BA DC FE HG], DCBA = [HG FE DC BA]. Nothing here comes from an encoder of ours.
"""

from __future__ import annotations

import math

import pytest

from drivers.errors import InvalidValue
from drivers.modbus import ByteOrder, DataType, PointSpec, parse_address

PI32 = 3.1415927410125732  # float32 0x40490FDB
PI64 = 3.141592653589793  # float64 0x400921FB54442D18

# (type, order, registers as hex words, expected value)
TABLE = [
    ("int16", "ABCD", "CFC7", -12345),
    ("int16", "CDAB", "CFC7", -12345),
    ("int16", "BADC", "C7CF", -12345),
    ("int16", "DCBA", "C7CF", -12345),
    ("uint16", "ABCD", "ABCD", 43981),
    ("uint16", "CDAB", "ABCD", 43981),
    ("uint16", "BADC", "CDAB", 43981),
    ("uint16", "DCBA", "CDAB", 43981),
    ("int32", "ABCD", "F8A4 32EB", -123456789),
    ("int32", "CDAB", "32EB F8A4", -123456789),
    ("int32", "BADC", "A4F8 EB32", -123456789),
    ("int32", "DCBA", "EB32 A4F8", -123456789),
    ("uint32", "ABCD", "1234 5678", 305419896),
    ("uint32", "CDAB", "5678 1234", 305419896),
    ("uint32", "BADC", "3412 7856", 305419896),
    ("uint32", "DCBA", "7856 3412", 305419896),
    ("int64", "ABCD", "0102 0304 0506 0708", 72623859790382856),
    ("int64", "CDAB", "0708 0506 0304 0102", 72623859790382856),
    ("int64", "BADC", "0201 0403 0605 0807", 72623859790382856),
    ("int64", "DCBA", "0807 0605 0403 0201", 72623859790382856),
    ("int64", "ABCD", "FFFF FFFF FFFF FFFE", -2),
    ("int64", "CDAB", "FFFE FFFF FFFF FFFF", -2),
    ("int64", "BADC", "FFFF FFFF FFFF FEFF", -2),
    ("int64", "DCBA", "FEFF FFFF FFFF FFFF", -2),
    ("uint64", "ABCD", "FEDC BA98 7654 3210", 18364758544493064720),
    ("uint64", "CDAB", "3210 7654 BA98 FEDC", 18364758544493064720),
    ("uint64", "BADC", "DCFE 98BA 5476 1032", 18364758544493064720),
    ("uint64", "DCBA", "1032 5476 98BA DCFE", 18364758544493064720),
    # Above 2**63: the top bit set must not turn negative in any order.
    ("uint64", "ABCD", "8000 0000 0000 0001", 9223372036854775809),
    ("uint64", "CDAB", "0001 0000 0000 8000", 9223372036854775809),
    ("uint64", "BADC", "0080 0000 0000 0100", 9223372036854775809),
    ("uint64", "DCBA", "0100 0000 0000 0080", 9223372036854775809),
    ("float32", "ABCD", "4049 0FDB", PI32),
    ("float32", "CDAB", "0FDB 4049", PI32),
    ("float32", "BADC", "4940 DB0F", PI32),
    ("float32", "DCBA", "DB0F 4940", PI32),
    ("float32", "ABCD", "C020 0000", -2.5),
    ("float32", "CDAB", "0000 C020", -2.5),
    ("float32", "BADC", "20C0 0000", -2.5),
    ("float32", "DCBA", "0000 20C0", -2.5),
    ("float64", "ABCD", "4009 21FB 5444 2D18", PI64),
    ("float64", "CDAB", "2D18 5444 21FB 4009", PI64),
    ("float64", "BADC", "0940 FB21 4454 182D", PI64),
    ("float64", "DCBA", "182D 4454 FB21 0940", PI64),
    ("bcd16", "ABCD", "1234", 1234),
    ("bcd16", "CDAB", "1234", 1234),
    ("bcd16", "BADC", "3412", 1234),
    ("bcd16", "DCBA", "3412", 1234),
    ("bcd32", "ABCD", "1234 5678", 12345678),
    ("bcd32", "CDAB", "5678 1234", 12345678),
    ("bcd32", "BADC", "3412 7856", 12345678),
    ("bcd32", "DCBA", "7856 3412", 12345678),
    # Strings: two ASCII characters per register; BADC/DCBA swap the bytes of each register.
    ("string", "ABCD", "4142 3132", "AB12"),
    ("string", "CDAB", "4142 3132", "AB12"),
    ("string", "BADC", "4241 3231", "AB12"),
    ("string", "DCBA", "4241 3231", "AB12"),
]


def words(text: str) -> list[int]:
    return [int(w, 16) for w in text.split()]


@pytest.mark.parametrize(("dtype", "order", "regs", "expected"), TABLE)
def test_decode_table(dtype: str, order: str, regs: str, expected: object) -> None:
    registers = words(regs)
    point = PointSpec(name="p", address=0, dtype=DataType(dtype), order=ByteOrder(order), count=len(registers))
    value = point.decode(registers)
    if isinstance(expected, float):
        assert value == pytest.approx(expected, rel=1e-12)
    else:
        assert value == expected
        assert type(value) is type(expected)


def test_table_covers_every_type_and_order() -> None:
    """Every ordered type (all but `bits` and `bool`, which have no byte order) in all four orders."""
    covered = {(d, o) for d, o, _, _ in TABLE}
    ordered = [t for t in DataType if t not in (DataType.BITS, DataType.BOOL)]
    assert {"int64", "uint64", "float64"} <= {t.value for t in ordered}
    missing = [(t.value, o.value) for t in ordered for o in ByteOrder if (t.value, o.value) not in covered]
    assert not missing


def test_bit_field() -> None:
    # 0xA006 = 1010 0000 0000 0110
    assert PointSpec(name="b", address=0, dtype="bits", bit=1, bits=2).decode([0xA006]) == 3
    assert PointSpec(name="b", address=0, dtype="bits", bit=13, bits=3).decode([0xA006]) == 5
    assert PointSpec(name="b", address=0, dtype="bits", bit=0).decode([0xA006]) == 0


def test_coils_are_bool() -> None:
    assert PointSpec(name="c", address=5, function=1, dtype="bool").decode([1]) is True
    assert PointSpec(name="c", address=5, function=2, dtype="bool").decode([0]) is False


def test_scale_and_offset() -> None:
    p = PointSpec(name="t", address=0, dtype="int16", scale=0.1, offset=-40)
    assert p.decode([0x0258]) == pytest.approx(20.0)  # 600 × 0.1 − 40


def test_sentinel_and_nan_give_no_value() -> None:
    p = PointSpec(name="s", address=0, dtype="uint16", sentinels=(0xFFFF,), scale=0.1)
    result = p.result([0xFFFF])
    assert result.value is None and isinstance(result.error, InvalidValue) and result.raw == (0xFFFF,)
    f = PointSpec(name="f", address=0, dtype="float32")
    assert f.result([0x7FC0, 0x0000]).value is None  # quiet NaN
    assert f.result([0x7F80, 0x0000]).value is None  # +inf
    i = PointSpec(name="i", address=0, dtype="int16", sentinels=(-9999,))
    assert i.result([0xD8F1]).value is None  # -9999
    assert i.result([0xD8F2]).value == -9998


def test_bad_bcd_digit_is_invalid() -> None:
    with pytest.raises(InvalidValue):
        PointSpec(name="b", address=0, dtype="bcd16").decode([0x12A4])


def test_wrong_register_count_is_invalid() -> None:
    with pytest.raises(InvalidValue):
        PointSpec(name="f", address=0, dtype="float32").decode([1])


@pytest.mark.parametrize(
    ("text", "function", "expected"),
    [
        ("40001", None, (3, 0)),
        ("40010", None, (3, 9)),
        ("30531", None, (4, 530)),  # devices.md §5.3: JuGuang "30531" = 0x0212
        ("10001", None, (2, 0)),
        ("00001", None, (1, 0)),
        ("400001", None, (3, 0)),
        ("465536", None, (3, 65535)),
        ("0x2000", 3, (3, 0x2000)),
        (17, 4, (4, 17)),
        ("40001", 3, (3, 0)),
    ],
)
def test_address_convention(text: str | int, function: int | None, expected: tuple[int, int]) -> None:
    assert parse_address(text, function) == expected


@pytest.mark.parametrize(("text", "function"), [("40001", 4), ("40000", None), (17, None), ("abc", 3), (70000, 3)])
def test_address_errors(text: str | int, function: int | None) -> None:
    with pytest.raises(ValueError):
        parse_address(text, function)


def test_point_at_notation() -> None:
    p = PointSpec.at("30001", name="so2", dtype="float32", order="cdab")
    assert (p.function, p.address, p.order, p.width) == (4, 0, ByteOrder.CDAB, 2)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"function": 5},
        {"function": 1, "dtype": "uint16"},
        {"function": 3, "dtype": "bool"},
        {"dtype": "string"},
        {"dtype": "float32", "count": 3},
        {"dtype": "bits", "bit": 15, "bits": 2},
        {"address": 65535, "dtype": "float32"},
        {"scale": 0},
        {"scale": math.nan},
        {"order": "ACBD"},
    ],
)
def test_spec_validation(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        PointSpec(name="p", **{"address": 0, **kwargs})  # type: ignore[arg-type]
