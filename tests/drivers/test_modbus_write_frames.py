"""Write framing (fc 5/6/16) against hand-checked frames, and the parameter encoder against the decoder.

The RTU frames are the worked examples of the Modbus spec sections (§6.5, §6.6, §6.12, unit 0x11) as printed by
simplymodbus.ca, CRC included: facts checked by hand, not produced by our encoder.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.errors import IllegalDataAddress, ProtocolError
from drivers.modbus import PointSpec, frames


@pytest.mark.parametrize(
    ("function", "address", "values", "wire"),
    [
        (5, 0x00AC, True, "11 05 00 ac ff 00 4e 8b"),
        (6, 0x0001, 0x0003, "11 06 00 01 00 03 9a 9b"),
        (16, 0x0001, [0x000A, 0x0102], "11 10 00 01 00 02 04 00 0a 01 02 c6 f0"),
    ],
)
def test_write_requests_match_the_spec_examples(function: int, address: int, values: object, wire: str) -> None:
    assert frames.rtu_frame(0x11, frames.write_pdu(function, address, values)).hex(" ") == wire  # type: ignore[arg-type]


def test_coil_off_is_0000() -> None:
    assert frames.write_pdu(5, 7, False).hex(" ") == "05 00 07 00 00"


@pytest.mark.parametrize(
    ("function", "address", "values"),
    [(5, 0, 1), (6, 0, 0x10000), (6, 0, True), (16, 0, []), (16, 0xFFFF, [1, 2]), (16, 0, [0] * 124), (3, 0, 1)],
)
def test_bad_write_requests_are_refused(function: int, address: int, values: object) -> None:
    with pytest.raises(ValueError):
        frames.write_pdu(function, address, values)  # type: ignore[arg-type]


def test_write_reply_is_found_after_garbage_and_checked_against_the_request() -> None:
    pdu = frames.write_pdu(16, 1, [10, 258])
    reply = bytes.fromhex("11 10 00 01 00 02 12 98")  # spec §6.12 response example
    wire = b"\x00\xff" + reply
    assert frames.rtu_write_reply_length(0x11, 16)(wire[:5]) is None
    assert frames.rtu_write_reply_length(0x11, 16)(wire) == len(wire)
    frames.parse_write_pdu(frames.rtu_write_reply_pdu(wire, 0x11, 16), pdu)
    with pytest.raises(ProtocolError):
        frames.parse_write_pdu(bytes.fromhex("10 00 01 00 03"), pdu)  # quantity differs: not taken as asked
    with pytest.raises(IllegalDataAddress):
        frames.parse_write_pdu(bytes.fromhex("90 02"), pdu)


@pytest.mark.parametrize(
    ("spec", "value", "words"),
    [
        (PointSpec(name="t", address=0, dtype="uint16"), 168, [168]),
        (PointSpec(name="t", address=0, dtype="int16", scale=0.1), -12.3, [0xFF85]),
        (PointSpec(name="f", address=0, dtype="float32"), 3.1415927, [0x4049, 0x0FDB]),
        (PointSpec(name="f", address=0, dtype="float32", order="CDAB"), 3.1415927, [0x0FDB, 0x4049]),
        (PointSpec(name="f", address=0, dtype="float32", order="BADC"), 3.1415927, [0x4940, 0xDB0F]),
    ],
)
def test_encode_gives_the_registers_decode_reads(spec: PointSpec, value: float, words: list[int]) -> None:
    assert spec.encode(value) == words


@pytest.mark.parametrize(
    ("spec", "value"),
    [
        (PointSpec(name="t", address=0, dtype="uint16"), -1),
        (PointSpec(name="t", address=0, dtype="uint16"), 165.5),  # never rounded to a value not asked for
        (PointSpec(name="t", address=0, dtype="int16", scale=0.1), 16.55),
        (PointSpec(name="t", address=0, dtype="string", count=2), 1),
        (PointSpec(name="f", address=0, dtype="float32"), float("nan")),
    ],
)
def test_encode_refuses_values_the_register_cannot_hold(spec: PointSpec, value: float) -> None:
    with pytest.raises(ValueError):
        spec.encode(value)


@given(st.integers(-(2**31), 2**31 - 1), st.sampled_from(["ABCD", "CDAB", "BADC", "DCBA"]))
def test_int32_encode_decode_round_trip(value: int, order: str) -> None:
    spec = PointSpec(name="x", address=0, dtype="int32", order=order)
    assert spec.decode(spec.encode(value)) == value
