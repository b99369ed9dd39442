"""Serial text protocol spec, checksums and line parsing (pure, no port).

Golden lines come from devices.md §4 (MEWTOCOL BCC 0x12 verified there) and hj212.md's recomputed HJ 212 vectors.
Checksums written as literals below were computed by hand-run scripts when the tests were written.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.errors import ProtocolError
from drivers.serialtext import (
    ChecksumSpec,
    DeviceRefused,
    FieldSpec,
    TextSpec,
    build_request,
    crc16_hj212,
    crc16_modbus,
    parse_reply,
    reply_length,
    sum8,
    unescape,
    xor8,
)

DCON = TextSpec(
    request="#01\\r",
    terminator="\\r",
    start=">",
    pattern=r"^>(?P<ch0>[+-]\d+\.\d+)(?P<ch1>[+-]\d+\.\d+)(?P<ch2>[+-]\d+\.\d+)",
    fields=(
        FieldSpec(name="ch0", group="ch0", unit="mA"),
        FieldSpec(name="ch1", group="ch1", unit="mA"),
        FieldSpec(name="ch2", group="ch2", unit="mA"),
    ),
    error_pattern=r"^\?",
)


def test_check_values() -> None:
    assert crc16_hj212(b"123456789") == 0x2F80  # hj212.md §2
    assert crc16_modbus(b"123456789") == 0x4B37
    assert sum8(b"#01") == 0x84
    assert xor8(b"%01$RD12020206214000000547") == 0x12


def test_dcon_reply_without_checksum() -> None:
    values = parse_reply(DCON, b">+08.074+05.794+07.228\r")
    assert [(v.name, v.value) for v in values] == [("ch0", 8.074), ("ch1", 5.794), ("ch2", 7.228)]


def test_dcon_with_sum8_checksum_on_request_and_reply() -> None:
    spec = TextSpec(**{**_kwargs(DCON), "checksum": ChecksumSpec(kind="sum8", request=True)})
    assert build_request(spec) == b"#0184\r"
    assert [v.value for v in parse_reply(spec, b">+08.074+05.794+07.22858\r")] == [8.074, 5.794, 7.228]
    assert [v.value for v in parse_reply(spec, b">+08.074+05.794+07.22858\r")] == [8.074, 5.794, 7.228]
    with pytest.raises(ProtocolError, match="sum8 checksum '59' wrong, line sums to '58'"):
        parse_reply(spec, b">+08.074+05.794+07.22859\r")
    with pytest.raises(ProtocolError, match="sum8 checksum"):
        parse_reply(spec, b">+08.074+05.794+07.328\r")  # the digit 3 turned into the checksum field: refused


def test_dcon_error_reply_is_a_device_error() -> None:
    with pytest.raises(DeviceRefused, match="refused"):
        parse_reply(DCON, b"?01\r")


def test_mewtocol_bcc_golden() -> None:
    """devices.md §4: `%01$RD…` data words as 4 hex chars, BCC = XOR of all preceding chars (0x12)."""
    spec = TextSpec(
        request="%01#RDD0152101525**\\r",
        start="%",
        pattern=r"^%01\$RD(?P<w0>[0-9A-F]{4})(?P<w1>[0-9A-F]{4})",
        fields=(FieldSpec(name="w0", group="w0", base=16), FieldSpec(name="w1", group="w1", base=16)),
        checksum=ChecksumSpec(kind="xor8"),
    )
    values = parse_reply(spec, b"%01$RD1202020621400000054712\r")
    assert [v.value for v in values] == [0x1202, 0x0206]
    with pytest.raises(ProtocolError, match="xor8"):
        parse_reply(spec, b"%01$RD1202020621400000054713\r")


def test_hj212_line_from_an_analyzer() -> None:
    """An analyzer speaking HJ 212 (devices.md §4): CRC16 (HJ 212 Appendix A) over the data segment."""
    spec = TextSpec(
        mode="stream",
        terminator="\\r\\n",
        start="##",
        pattern=r"RtdInterval=(?P<interval>\d+)",
        fields=(FieldSpec(name="interval", group="interval", unit="s"),),
        checksum=ChecksumSpec(kind="crc16_hj212", start=6),
    )
    line = (
        b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;"
        b"CP=&&RtdInterval=30&&1C80\r\n"
    )
    assert [v.value for v in parse_reply(spec, line)] == [30.0]
    assert [v.value for v in parse_reply(spec, line.replace(b"1C80", b"1c80"))] == [30.0]  # either case accepted
    with pytest.raises(ProtocolError, match="crc16_hj212 checksum '1C81' wrong, line sums to '1C80'"):
        parse_reply(spec, line.replace(b"1C80", b"1C81"))


def test_separator_fields_decimal_checksum_with_gap_and_trailer() -> None:
    """`$GAS,…*CS;` style: span after `$`, a `*` gap before a decimal xor8, one trailer char before CRLF."""
    spec = TextSpec(
        mode="stream",
        terminator="\\r\\n",
        start="$",
        separator=",",
        fields=(
            FieldSpec(name="so2", index=1, unit="mg/m3"),
            FieldSpec(name="nox", index=2, unit="mg/m3"),
            FieldSpec(name="o2", index=3, unit="%", scale=0.01),
        ),
        checksum=ChecksumSpec(kind="xor8", encoding="decimal", start=1, gap=1, trailer=1),
    )
    assert xor8(b"GAS,35.2,120.5,831") == 113
    values = parse_reply(spec, b"$GAS,35.2,120.5,831*113;\r\n")
    assert [v.value for v in values] == [35.2, 120.5, pytest.approx(8.31)]


def test_one_bad_field_does_not_spoil_the_others() -> None:
    spec = TextSpec(
        request="R\\r",
        separator=";",
        fields=(FieldSpec(name="a", index=0), FieldSpec(name="b", index=1), FieldSpec(name="c", index=5)),
    )
    a, b, c = parse_reply(spec, b"1.5;--;2\r")
    assert a.value == 1.5 and a.error is None
    assert b.value is None and "not a number" in str(b.error)
    assert c.value is None and "missing" in str(c.error)
    nan = parse_reply(spec, b"nan;inf;2\r")
    assert all(v.value is None for v in nan[:2])


def test_request_mode_framing_skips_noise_before_start() -> None:
    length = reply_length(DCON)
    assert length(b"") is None
    assert length(b"\x00\xff>+08.0") is None
    assert length(b"\x00\xff>+08.074+05.794+07.228\r>+1") == 25
    assert [v.value for v in parse_reply(DCON, b"\x00\xff>+08.074+05.794+07.228\r")] == [8.074, 5.794, 7.228]
    assert length(b"noise\r>+08.074+05.794+07.228\r") == 29  # a terminated noise line is skipped
    with pytest.raises(ProtocolError, match="no reply line"):
        length(b"\x00" * 600)


def test_stream_framing_takes_the_newest_whole_line_only() -> None:
    spec = TextSpec(
        mode="stream", terminator="\\n", separator=",", fields=(FieldSpec(name="x", index=0),), max_length=64
    )
    length = reply_length(spec)
    assert length(b"3.5,1\n") is None  # joined mid-line: "3.5" could be the tail of "13.5"
    assert length(b"3.5,1\n7.25,1\n") == 13
    assert [v.value for v in parse_reply(spec, b"3.5,1\n7.25,1\n")] == [7.25]
    assert length(b"3.5,1\n7.25,1\n8.0,1\n9") == 19  # backlog: the newest complete line wins
    assert [v.value for v in parse_reply(spec, b"3.5,1\n7.25,1\n8.0,1\n")] == [8.0]
    with pytest.raises(ProtocolError, match="without a terminator"):
        length(b"1\n" + b"x" * 100)


def test_unescape() -> None:
    assert unescape(r"#01\r\n\t\x02\\") == "#01\r\n\t\x02\\"
    with pytest.raises(ValueError, match="escape"):
        unescape(r"\q")
    with pytest.raises(ValueError, match="escape"):
        unescape("\\x4")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"mode": "poll"}, "mode 'poll'"),
        ({"request": ""}, "needs a request"),
        ({"terminator": ""}, "terminator is empty"),
        ({"pattern": r"(?P<ch0>\d"}, "not a valid regex"),
        ({"pattern": r"(?P<other>\d)"}, "group 'ch0' not in pattern"),
        ({"separator": ","}, "exactly one of pattern"),
        ({"fields": ()}, "no fields"),
        ({"fields": (FieldSpec(name="a", group="ch0"), FieldSpec(name="a", group="ch1"))}, "duplicate"),
        ({"request": "\\q"}, "escape"),
        ({"encoding": "klingon"}, "unknown"),
    ],
)
def test_spec_validation_names_the_problem(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TextSpec(**{**_kwargs(DCON), **changes})


def test_field_and_checksum_validation() -> None:
    with pytest.raises(ValueError, match="exactly one of group"):
        FieldSpec(name="a")
    with pytest.raises(ValueError, match="checksum kind 'md5'"):
        ChecksumSpec(kind="md5")
    with pytest.raises(ValueError, match="hex or decimal"):
        ChecksumSpec(kind="sum8", encoding="base64")


def test_from_mapping_as_a_toml_profile_gives_it() -> None:
    spec = TextSpec.from_mapping(
        {
            "request": "#01\\r",
            "start": ">",
            "pattern": r"^>(?P<ch0>[+-]\d+\.\d+)",
            "fields": [{"name": "ch0", "group": "ch0", "unit": "mA"}],
            "checksum": {"kind": "sum8", "request": True},
        }
    )
    assert spec.checksum.kind == "sum8" and spec.fields[0].unit == "mA"
    with pytest.raises(ValueError, match="unknown serial-text key"):
        TextSpec.from_mapping({"requets": "#01\\r"})
    with pytest.raises(ValueError, match=r"checksum: unknown key"):
        TextSpec.from_mapping({**_kwargs(DCON), "checksum": {"knd": "sum8"}})


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.sampled_from(["dcon", "dcon_sum8", "stream"]))
def test_random_bytes_give_values_or_typed_errors(buf: bytes, which: str) -> None:
    spec = {
        "dcon": DCON,
        "dcon_sum8": TextSpec(**{**_kwargs(DCON), "checksum": ChecksumSpec(kind="sum8")}),
        "stream": TextSpec(mode="stream", terminator="\\n", separator=",", fields=(FieldSpec(name="x", index=0),)),
    }[which]
    with contextlib.suppress(ProtocolError):
        n = reply_length(spec)(buf)
        assert n is None or 0 < n <= len(buf)
    try:
        values = parse_reply(spec, buf)
    except (ProtocolError, DeviceRefused):
        return
    for v in values:
        assert (v.value is None) != (v.error is None)


def _kwargs(spec: TextSpec) -> dict[str, object]:
    return {name: getattr(spec, name) for name in spec.__dataclass_fields__}
