"""Golden DL/T 645 frames from devices.md §1.4/§1.5: checksums and values hand-checked there, copied here as data.

These are facts from field logs and the standard; they are never regenerated from our encoder.
"""

from __future__ import annotations

import pytest

from drivers.dlt645 import (
    Frame,
    MeterErrorReply,
    Version,
    decode_frame,
    encode_frame,
    lookup,
    parse_address_reply,
    parse_read_reply,
    read_address_request,
    read_request,
    reply_length,
)
from drivers.errors import DeviceException, ProtocolError


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# (frame, address, control, unmasked data) — devices.md §1.4 rows 1, 1r, 2, 3, 4, 4r, 5, 6, 7, 7r, 8, 10; §1.5.
FRAMES = [
    ("68 AA AA AA AA AA AA 68 13 00 DF 16", "AAAAAAAAAAAA", 0x13, ""),
    ("68 00 36 19 00 00 00 68 93 06 33 69 4C 33 33 33 39 16", "000000193600", 0x93, "00 36 19 00 00 00"),
    ("FE FE FE FE 68 AA AA AA AA AA AA 68 11 04 33 33 34 33 AE 16", "AAAAAAAAAAAA", 0x11, "00 00 01 00"),
    ("68 AA AA AA AA AA AA 68 11 04 33 34 34 35 B1 16", "AAAAAAAAAAAA", 0x11, "00 01 01 02"),
    ("68 37 03 00 92 81 39 68 11 04 33 33 34 33 38 16", "398192000337", 0x11, "00 00 01 00"),
    ("68 37 03 00 92 81 39 68 91 08 33 33 34 33 37 33 33 33 8C 16", "398192000337", 0x91, "00 00 01 00 04 00 00 00"),
    ("68 61 01 00 00 00 00 68 91 06 33 34 34 35 34 43 10 16", "000000000161", 0x91, "00 01 01 02 01 10"),
    ("FE FE FE FE 68 12 90 78 56 34 12 68 11 04 33 34 35 35 6C 16", "123456789012", 0x11, "00 01 02 02"),
    ("68 12 90 78 56 34 12 68 91 07 33 34 35 35 67 45 B3 4E 16", "123456789012", 0x91, "00 01 02 02 34 12 80"),
    ("FE FE FE FE 68 12 90 78 56 34 12 68 D1 01 35 8D 16", "123456789012", 0xD1, "02"),
    ("FE FE FE 68 14 04 00 00 00 00 68 01 02 43 C3 F1 16", "000000000414", 0x01, "10 90"),
    ("68 14 04 00 00 00 00 68 81 06 43 C3 48 B3 C8 33 6B 16", "000000000414", 0x81, "10 90 15 80 95 00"),
]

# Row 8's replies come from meter 123456789012 (the "…" in devices.md stands for its header).
HEADER_123456789012 = "68 12 90 78 56 34 12 68"

# (reply, meter, item key, edition, value) — the decoded values devices.md gives.
VALUES = [
    ("68 37 03 00 92 81 39 68 91 08 33 33 34 33 37 33 33 33 8C 16", "398192000337", "00010000", 2007, 0.04),
    ("68 61 01 00 00 00 00 68 91 06 33 34 34 35 34 43 10 16", "000000000161", "voltage_a", 2007, 100.1),
    (f"{HEADER_123456789012} 91 07 33 34 35 35 67 45 B3 4E 16", "123456789012", "current_a", 2007, -1.234),
    (f"{HEADER_123456789012} 91 07 33 33 36 35 89 67 45 24 16", "123456789012", "power_active_total", 2007, 12.3456),
    (f"{HEADER_123456789012} 91 06 33 33 39 35 BA 3C E7 16", "123456789012", "power_factor_total", 2007, 0.987),
    (f"{HEADER_123456789012} 91 06 35 33 B3 35 34 83 24 16", "123456789012", "frequency", 2007, 50.01),
    ("68 14 04 00 00 00 00 68 81 06 43 C3 48 B3 C8 33 6B 16", "000000000414", "9010", 1997, 9580.15),
]


@pytest.mark.parametrize(("wire", "address", "control", "data"), FRAMES)
def test_golden_frames_decode(wire: str, address: str, control: int, data: str) -> None:
    frame = decode_frame(h(wire))
    assert frame == Frame(address=address, control=control, data=h(data))


@pytest.mark.parametrize(("wire", "address", "control", "data"), FRAMES)
def test_golden_frames_encode_exactly(wire: str, address: str, control: int, data: str) -> None:
    """Our encoder reproduces each published frame byte for byte, preamble included."""
    raw = h(wire)
    preamble = len(raw) - len(raw.lstrip(b"\xfe"))
    assert encode_frame(Frame(address=address, control=control, data=h(data)), preamble=preamble) == raw


@pytest.mark.parametrize(("wire", "meter", "key", "edition", "value"), VALUES)
def test_golden_values(wire: str, meter: str, key: str, edition: int, value: float) -> None:
    item = lookup(key, edition)
    _, raw = parse_read_reply(h(wire), meter, item)
    assert item.decode(raw) == (pytest.approx(value, abs=1e-9),)


def test_golden_requests() -> None:
    assert read_address_request(preamble=0) == h("68 AA AA AA AA AA AA 68 13 00 DF 16")
    assert read_request("AAAAAAAAAAAA", lookup("energy_active_import")) == h(
        "FE FE FE FE 68 AA AA AA AA AA AA 68 11 04 33 33 34 33 AE 16"
    )
    assert read_request("AAAAAAAAAAAA", lookup("02010100"), preamble=0) == h(
        "68 AA AA AA AA AA AA 68 11 04 33 34 34 35 B1 16"
    )
    assert read_request("398192000337", lookup("energy_active_import"), preamble=0) == h(
        "68 37 03 00 92 81 39 68 11 04 33 33 34 33 38 16"
    )
    assert read_request("123456789012", lookup("current_a")) == h(
        "FE FE FE FE 68 12 90 78 56 34 12 68 11 04 33 34 35 35 6C 16"
    )
    assert read_request("414", lookup("9010", Version.V1997), preamble=3) == h(
        "FE FE FE 68 14 04 00 00 00 00 68 01 02 43 C3 F1 16"
    )


def test_golden_read_address_reply() -> None:
    assert parse_address_reply(h("68 00 36 19 00 00 00 68 93 06 33 69 4C 33 33 33 39 16")) == "000000193600"


def test_golden_block_reply_total_and_tariffs() -> None:
    """Row 6: a real 2014 block read of 0001FF00; the four tariffs add up to the total."""
    wire = h(
        "68 00 36 19 00 00 00 68 91 18 33 32 34 33 63 69 33 33 89 35 33 33 4C 33 33 33 6B 33 33 33 4A 66 33 33 E9 16"
    )
    item = lookup("energy_active_import_block")
    _, raw = parse_read_reply(wire, "000000193600", item)
    assert item.decode(raw) == pytest.approx((36.30, 2.56, 0.19, 0.38, 33.17))


def test_golden_error_reply_is_a_clear_device_exception() -> None:
    wire = h("FE FE FE FE 68 12 90 78 56 34 12 68 D1 01 35 8D 16")
    with pytest.raises(MeterErrorReply) as info:
        parse_read_reply(wire, "123456789012", lookup("current_a"))
    err = info.value
    assert isinstance(err, DeviceException)
    assert err.code == 0x02
    assert "no requested data" in str(err) and "无请求数据" in str(err)
    assert "123456789012" in str(err) and "02020100" in str(err)


def test_wrong_checksum_is_a_protocol_error_not_a_value() -> None:
    """Row 5 with its CS off by one: the value bytes are intact, the frame is still refused."""
    bad = h("68 61 01 00 00 00 00 68 91 06 33 34 34 35 34 43 11 16")
    assert reply_length(bad) == len(bad)  # complete, so the caller gets a protocol error, not a timeout
    with pytest.raises(ProtocolError, match="checksum 11 wrong, frame sums to 10"):
        parse_read_reply(bad, "000000000161", lookup("voltage_a"))


@pytest.mark.parametrize(("wire", "address", "control", "data"), FRAMES)
def test_reply_length_whole_bytewise_and_with_trailing_data(wire: str, address: str, control: int, data: str) -> None:
    """The framer gives the same answer for a whole frame, one fed byte by byte, and one with a partial tail."""
    raw = h(wire)
    if not control & 0x80:
        assert reply_length(raw) is None  # a master request (our echo) never completes a reply
        return
    assert reply_length(raw) == len(raw)
    for cut in range(len(raw)):
        assert reply_length(raw[:cut]) is None
    assert reply_length(raw + h("FE FE 68 12")) == len(raw)
    noisy = h("00 3F 68 FF") + raw
    assert reply_length(noisy) == len(noisy)
    assert decode_frame(noisy) == Frame(address=address, control=control, data=h(data))


def test_echo_of_our_request_is_skipped() -> None:
    """On an RS-485 adapter that echoes, our request precedes the meter's reply in the receive buffer."""
    request = read_request("000000000161", lookup("voltage_a"))
    reply = h("FE FE 68 61 01 00 00 00 00 68 91 06 33 34 34 35 34 43 10 16")
    assert reply_length(request) is None
    assert reply_length(request + reply) == len(request + reply)
    frame, raw = parse_read_reply(request + reply, "000000000161", lookup("voltage_a"))
    assert frame.control == 0x91 and raw == h("01 10")
