"""Every defect maps to the QnRtn a platform would answer, with a message a person understands."""

from __future__ import annotations

import pytest
from hj212_golden import frames

from uplink.hj212 import (
    CnError,
    CpError,
    CrcError,
    Dialect,
    FlagError,
    Frame,
    FrameError,
    Hj212Error,
    LengthError,
    ModbusCrcError,
    QnRtn,
    crc16,
    crc16_modbus,
    decode,
    encode,
    validate,
)

GOLDEN = frames("vectors_2017.txt")
REQUEST = GOLDEN[1]  # CN=1000 OverTime/ReCount, Flag=5
CHINESE = GOLDEN[-1]
D2017 = Dialect()


def _reframe(segment: bytes, *, crc: int | None = None, length: int | None = None, crc_fmt: str = "%04X") -> bytes:
    crc = crc16(segment) if crc is None else crc
    length = len(segment) if length is None else length
    return b"##%04d" % length + segment + (crc_fmt % crc).encode() + b"\r\n"


def _segment(raw: bytes) -> bytes:
    return raw[6:-6]


def test_bad_crc_is_qnrtn_9() -> None:
    raw = REQUEST[:-6] + b"0000\r\n"
    with pytest.raises(CrcError) as err:
        decode(raw)
    assert err.value.qn_rtn == QnRtn.CRC_ERROR == 9
    assert "CAC1" in str(err.value) and "0000" in str(err.value)


def test_modbus_crc_is_named() -> None:
    segment = _segment(REQUEST)
    raw = _reframe(segment, crc=crc16_modbus(segment))
    with pytest.raises(ModbusCrcError) as err:
        decode(raw)
    assert err.value.qn_rtn == 9
    assert "CRC-16/MODBUS" in str(err.value)


def test_lowercase_crc_lenient_warns_strict_rejects() -> None:
    raw = _reframe(_segment(CHINESE), crc_fmt="%04x")
    assert raw.endswith(b"9741\r\n")  # digits only: use a frame with letters
    raw = _reframe(_segment(REQUEST), crc_fmt="%04x")
    assert raw.endswith(b"cac1\r\n")
    decoded = decode(raw)
    assert any("lowercase" in w for w in decoded.warnings)
    with pytest.raises(CrcError):
        decode(raw, strict=True)


def test_character_counted_length_lenient_only() -> None:
    segment = _segment(CHINESE)
    raw = _reframe(segment, length=len(segment.decode()))
    assert raw.startswith(b"##0144")
    decoded = decode(raw)
    assert any("characters" in w for w in decoded.warnings)
    assert decoded.frame == decode(CHINESE).frame
    with pytest.raises(LengthError):
        decode(raw, strict=True)


def test_crc_over_characters_is_a_crc_error() -> None:
    """hj212.md §2: char-based libraries produce 0144 / 35C0 for the Chinese log frame."""
    segment = _segment(CHINESE)
    raw = _reframe(segment, length=144, crc=0x35C0)
    with pytest.raises(CrcError) as err:
        decode(raw)
    assert err.value.qn_rtn == 9


def test_wrong_length_is_a_length_error() -> None:
    raw = b"##0108" + REQUEST[6:]
    with pytest.raises(LengthError) as err:
        decode(raw)
    assert err.value.qn_rtn == 100
    assert "0108" in str(err.value)


@pytest.mark.parametrize(
    ("old", "new", "qn_rtn"),
    [
        (b"ST=32;", b"ST=3;", 5),
        (b"CN=1000;", b"CN=10A0;", 8),
        (b"PW=123456;", b"PW=12345;", 3),
        (b"MN=010000A8900016F000169DC0;", b"MN=010000A8900016F000169DC0FF;", 4),
        (b"Flag=5;", b"Flag=300;", 6),
        (b"QN=20160801085857223;", b"QN=2016080108585722;", 7),
    ],
)
def test_header_defects_map_to_qnrtn(old: bytes, new: bytes, qn_rtn: int) -> None:
    raw = _reframe(_segment(REQUEST).replace(old, new))
    with pytest.raises(Hj212Error) as err:
        decode(raw, strict=True)
    assert err.value.qn_rtn == qn_rtn, str(err.value)


def test_unknown_version_bits_lenient_warns() -> None:
    raw = _reframe(_segment(REQUEST).replace(b"Flag=5;", b"Flag=13;"))  # version bits 000011
    decoded = decode(raw)
    assert decoded.frame.version is None
    assert any("version bits" in w for w in decoded.warnings)
    with pytest.raises(FlagError) as err:
        decode(raw, strict=True)
    assert err.value.qn_rtn == 6


def test_dialect_version_mismatch() -> None:
    with pytest.raises(FlagError):
        decode(REQUEST, Dialect(version=2025), strict=True)
    assert decode(REQUEST, Dialect(version=2025)).warnings


def test_split_bit_without_pnum_is_a_flag_error() -> None:
    raw = _reframe(_segment(REQUEST).replace(b"Flag=5;", b"Flag=7;"))
    with pytest.raises(FlagError) as err:
        decode(raw)
    assert err.value.qn_rtn == 6


def test_rf_other_values_lenient() -> None:
    raw = frames("vectors_2025.txt")[-1]
    odd = _reframe(_segment(raw).replace(b"RF=1;", b"RF=0;"))
    decoded = decode(odd, Dialect(version=2025))
    assert decoded.frame.rf is False
    assert any("RF" in w for w in decoded.warnings)
    with pytest.raises(Hj212Error):
        decode(odd, Dialect(version=2025), strict=True)


@pytest.mark.parametrize(
    "raw",
    [b"", b"#", b"##", b"##01", b"##abcd\r\n", b"xx0087", b"##0003abc0000\r\n", REQUEST[:-2] + b"\n"],
)
def test_garbage_raises_codec_errors_only(raw: bytes) -> None:
    with pytest.raises(Hj212Error):
        decode(raw, strict=True)


def test_missing_crlf_lenient() -> None:
    decoded = decode(REQUEST[:-2])
    assert any("CR LF" in w for w in decoded.warnings)
    with pytest.raises(FrameError):
        decode(REQUEST[:-2], strict=True)


def test_bad_cp_item() -> None:
    raw = _reframe(_segment(REQUEST).replace(b"OverTime=5", b"OverTime5"))
    with pytest.raises(CpError):
        decode(raw)


def test_validate_checks_in_order() -> None:
    frame = decode(REQUEST).frame
    validate(frame, expect_mn=frame.mn, expect_pw="123456", dialect=D2017)
    cases = [
        ({"expect_mn": "X" * 24}, 4),
        ({"expect_pw": "654321"}, 3),
        ({"dialect": Dialect(version=2025)}, 6),
    ]
    for kwargs, qn_rtn in cases:
        with pytest.raises(Hj212Error) as err:
            validate(frame, **kwargs)
        assert err.value.qn_rtn == qn_rtn
    with pytest.raises(CnError):
        validate(Frame(frame.qn, "32", "1999", "123456", frame.mn, 5), dialect=D2017)
    with pytest.raises(Hj212Error) as err:
        validate(Frame("2016130108585722X", "32", "1000", "123456", frame.mn, 5))
    assert err.value.qn_rtn == 7


def test_encode_rejects_what_we_must_not_send() -> None:
    frame = decode(REQUEST).frame
    with pytest.raises(FlagError):
        encode(frame, Dialect(version=2025))  # Flag=5 is a 2017 flag
    with pytest.raises(Hj212Error):
        encode(Frame(frame.qn, "32", "1000", "1234", frame.mn, 5), D2017)
    with pytest.raises(LengthError):
        big = Frame(frame.qn, "32", "2011", "123456", frame.mn, 5, cp=decode(GOLDEN[8]).frame.cp)
        encode(big, Dialect(split_limit=200))


def test_trailing_comma_in_cp_strict_rejects_lenient_keeps_bytes() -> None:
    """Audit of issue 2: a frame ending `…a21026-Rtd=1,&&` decoded in strict mode without a word."""
    raw = _reframe(
        b"QN=20160801085857223;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&a21026-Rtd=1,&&"
    )
    with pytest.raises(CpError) as err:
        decode(raw, strict=True)
    assert err.value.qn_rtn == QnRtn.UNKNOWN
    decoded = decode(raw)
    assert any("分隔符" in w for w in decoded.warnings)
    assert decoded.frame.cp.get("a21026-Rtd") == "1"
    assert encode(decoded.frame, D2017) == raw
