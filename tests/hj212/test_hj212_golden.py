"""Golden frames (HJ 212-2017 vectors and the 2025 examples) decode strictly and re-encode byte for byte."""

from __future__ import annotations

from datetime import datetime

import pytest
from hj212_golden import frames
from hypothesis import given, settings
from hypothesis import strategies as st

from uplink.hj212 import CN, Dialect, crc16, crc16_modbus, decode, encode

D2017 = Dialect(version=2017)
D2025 = Dialect(version=2025)
GOLDEN_2017 = frames("vectors_2017.txt")
GOLDEN_2025 = frames("vectors_2025.txt")


def test_golden_files_hold_the_expected_frames() -> None:
    assert len(GOLDEN_2017) == 10
    assert len(GOLDEN_2025) == 10


def test_crc_check_values() -> None:
    # hj212.md §2: Appendix A check value 2F80; CRC-16/MODBUS would give 4B37.
    assert crc16(b"123456789") == 0x2F80
    assert crc16_modbus(b"123456789") == 0x4B37


@pytest.mark.parametrize("raw", GOLDEN_2017, ids=lambda r: r[6:60].decode())
def test_2017_golden_roundtrip(raw: bytes) -> None:
    decoded = decode(raw, D2017, strict=True)
    assert decoded.warnings == ()
    assert decoded.raw == raw
    assert decoded.frame.version == 2017
    assert encode(decoded.frame, D2017) == raw


@pytest.mark.parametrize("raw", GOLDEN_2025, ids=lambda r: r[6:60].decode())
def test_2025_golden_roundtrip(raw: bytes) -> None:
    decoded = decode(raw, D2025, strict=True)
    assert decoded.warnings == ()
    assert decoded.frame.version == 2025
    assert encode(decoded.frame, D2025) == raw


def test_length_and_crc_are_over_utf8_bytes() -> None:
    raw = GOLDEN_2017[-1]
    assert "清洗管路".encode() in raw
    frame = decode(raw, D2017, strict=True).frame
    assert frame.cp.get("i11001-Info") == "//清洗管路//"
    assert raw.startswith(b"##0152") and raw.endswith(b"9741\r\n")


def test_hour_record_fields() -> None:
    frame = decode(GOLDEN_2017[8], D2017).frame
    assert (frame.qn, frame.st, frame.cn, frame.pw, frame.flag) == (
        "20160801090000001",
        "32",
        CN.HOUR_DATA,
        "123456",
        5,
    )
    assert frame.mn == "010000A8900016F000169DC0"
    assert frame.wants_answer and not frame.is_split
    assert frame.cp.time("DataTime") == datetime(2016, 8, 1, 8, 0)
    factors = frame.cp.factors()
    assert list(factors) == ["w00000", "w01001", "w01018"]
    assert factors["w00000"] == {"Cou": "63.0", "Min": "16.4", "Avg": "17.5", "Max": "20.1", "Flag": "N"}
    assert frame.cp.number("w01018-Avg") == pytest.approx(40.1)
    assert len(frame.cp.groups) == 4


def test_2025_flags_and_resend_marker() -> None:
    by_cn = {decode(raw, D2025).frame.cn: decode(raw, D2025).frame for raw in GOLDEN_2025}
    assert by_cn["9015"].wants_answer and by_cn["9015"].flag == 9
    assert not by_cn["9013"].wants_answer and by_cn["9013"].flag == 8
    assert by_cn["1001"].mn == ""
    resend = decode(GOLDEN_2025[-1], D2025).frame
    assert resend.rf is True
    assert all(not decode(raw, D2025).frame.rf for raw in GOLDEN_2025[:-1])


def _appendix_a_bitwise(data: bytes) -> int:
    """HJ 212 Appendix A transcribed step by step (shift/xor per bit), as an oracle for the table-driven crc16."""
    reg = 0xFFFF
    for byte in data:
        reg = (reg >> 8) ^ byte
        for _ in range(8):
            check = reg & 0x0001
            reg >>= 1
            if check:
                reg ^= 0xA001
    return reg


@given(st.binary(max_size=2048))
@settings(max_examples=200, deadline=None)
def test_table_crc_matches_appendix_a_bitwise(data: bytes) -> None:
    assert crc16(data) == _appendix_a_bitwise(data)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"version": 2019},
        {"cipher_wire": "hex"},
        {"encrypt": True},  # 2017 has no encryption
        {"version": 2025, "encrypt": True},  # no key
        {"version": 2025, "sm4_key": b"short"},
        {"split_limit": 10},
        {"split_limit": 10000},
    ],
)
def test_dialect_rejects_bad_settings(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        Dialect(**kwargs)
