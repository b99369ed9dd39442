"""DL/T 645 link frames: `[FE×n] 68 A0..A5 68 C L DATA CS 16`, shared by the 2007 and 1997 editions.

Pure bytes in, bytes out: no port, no clock (style.md §1.1). The link owner calls `reply_length` on the bytes
received so far; the meter driver calls `decode_frame` on what the link returned and `encode_frame` to ask.

Rules (devices.md §1.1-1.2, DL/T 645-2007 §4): the address is 12 BCD digits sent low byte first; every DATA
byte is sent +0x33 (mod 256) and has 0x33 taken off on receipt; CS is the sum mod 256 of the bytes from the first
0x68 through the last DATA byte, wake-up FE bytes excluded (a public implementation that sums the FE is wrong).
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.errors import ProtocolError

START = 0x68
END = 0x16
WAKE = 0xFE
HEADER_LEN = 10  # 68 A0..A5 68 C L
OVERHEAD = 12  # header + CS + 16
MAX_DATA = 255  # L is one byte; the standard caps reads at 200, but a frame is still parseable up to 255
WILDCARD = "AAAAAAAAAAAA"  # "any meter": use only with one meter on the bus (§1.2 address rules)
BROADCAST = "999999999999"  # broadcast (time sync / freeze): meters never answer it
MAX_GARBAGE = 96  # bytes holding no possible frame start before the input is declared garbage
DIRECTION_BIT = 0x80  # D7: 0 master → slave, 1 slave → master
ABNORMAL_BIT = 0x40  # D6: slave answers abnormally (error reply)
FOLLOW_UP_BIT = 0x20  # D5: more frames follow


def mask(data: bytes) -> bytes:
    """Add 0x33 to every byte, as every DATA field is sent (§1.2)."""
    return bytes((b + 0x33) & 0xFF for b in data)


def unmask(data: bytes) -> bytes:
    """Take 0x33 off every byte, as every received DATA field needs (§1.2)."""
    return bytes((b - 0x33) & 0xFF for b in data)


def checksum(span: bytes) -> int:
    """Sum mod 256 of the span from the first 0x68 through the last DATA byte."""
    return sum(span) & 0xFF


def check_address(address: str) -> str:
    """Normalise a meter address to 12 upper-case characters (digits, or `A` for the wildcard digits).

    Short addresses are padded with 0 in the high digits, as the standard's address rule says.
    """
    text = address.strip().upper()
    if not text or len(text) > 12 or any(ch not in "0123456789A" for ch in text):
        raise ValueError(f"DL/T 645 address {address!r}: expected up to 12 BCD digits (A allowed as wildcard)")
    return text.rjust(12, "0")


def address_to_wire(address: str) -> bytes:
    """`123456789012` → `12 90 78 56 34 12` (low byte first)."""
    text = check_address(address)
    return bytes(int(text[i : i + 2], 16) for i in range(10, -1, -2))


def address_from_wire(raw: bytes) -> str:
    """The inverse of `address_to_wire`; rejects nibbles that are neither BCD digits nor the wildcard A."""
    text = raw[::-1].hex().upper()
    if any(ch not in "0123456789A" for ch in text):
        raise ProtocolError(f"DL/T 645 address bytes {raw.hex(' ')} are not BCD")
    return text


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame with its DATA already unmasked (−0x33). `control` is the whole C byte."""

    address: str
    control: int
    data: bytes = b""

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", check_address(self.address))
        if not 0 <= self.control <= 0xFF:
            raise ValueError(f"DL/T 645 control byte {self.control!r} out of range 0..255")
        if len(self.data) > MAX_DATA:
            raise ValueError(f"DL/T 645 data field of {len(self.data)} bytes exceeds {MAX_DATA}")

    @property
    def function(self) -> int:
        """D4..D0 of C: 0x11 read (2007), 0x01 read (1997), 0x13 read address …"""
        return self.control & 0x1F

    @property
    def from_slave(self) -> bool:
        return bool(self.control & DIRECTION_BIT)

    @property
    def abnormal(self) -> bool:
        return bool(self.control & ABNORMAL_BIT)

    @property
    def follow_up(self) -> bool:
        return bool(self.control & FOLLOW_UP_BIT)


def encode_frame(frame: Frame, *, preamble: int = 4) -> bytes:
    """Bytes on the wire; `preamble` FE bytes wake the meter's receiver and stay out of CS (§1.1)."""
    if not 0 <= preamble <= 16:
        raise ValueError(f"DL/T 645 preamble of {preamble} FE bytes: expected 0..16")
    body = bytes([START, *address_to_wire(frame.address), START, frame.control, len(frame.data), *mask(frame.data)])
    return bytes([WAKE] * preamble) + body + bytes([checksum(body), END])


def _frame_at(buf: bytes, i: int) -> int | bool | None:
    """Examine a candidate frame starting at `buf[i] == 0x68`.

    Returns the frame end index when the structure is complete (CS not yet checked), None when more bytes
    are needed, False when this 0x68 cannot start a frame.
    """
    if len(buf) < i + HEADER_LEN:
        if len(buf) > i + 7 and buf[i + 7] != START:
            return False
        return None
    if buf[i + 7] != START:
        return False
    end = i + OVERHEAD + buf[i + 9]
    if len(buf) < end:
        return None
    if buf[end - 1] != END:
        return False
    return end


def find_frame(buf: bytes, *, from_slave: bool | None = None) -> tuple[int, int] | None:
    """Locate the first complete frame: `(start, end)` with `buf[start] == 0x68`, or None while incomplete.

    Leading FE and any garbage are skipped (meters send 0-4 FE; a bus may carry noise). With `from_slave`
    set, frames whose direction bit differs are skipped too, so the local echo of our own request on an
    RS-485 adapter is not taken for the reply. A structurally complete frame with a wrong checksum is
    returned (`decode_frame` checks CS), so a corrupt reply is a protocol error rather than a timeout; but
    behind a stray 0x68 that still waits for bytes, only a frame whose checksum holds is taken.
    Raises `ProtocolError` when the input can no longer hold a frame within sane bounds.
    """
    i = 0
    waiting = False
    while (i := buf.find(START, i)) >= 0:
        found = _frame_at(buf, i)
        if found is None:
            waiting = True
        elif found is not False:
            end = int(found)
            direction_ok = from_slave is None or bool(buf[i + 8] & DIRECTION_BIT) == from_slave
            if direction_ok and (not waiting or buf[end - 2] == checksum(buf[i : end - 2])):
                return i, end
            if not direction_ok and not waiting:
                i = end  # our own echo: skip the whole frame, not just its first byte
                continue
        i += 1
    if not waiting and len(buf) > MAX_GARBAGE:
        raise ProtocolError(f"DL/T 645: no frame in {len(buf)} bytes received ({buf[:16].hex(' ')} …)")
    if len(buf) > MAX_GARBAGE + OVERHEAD + MAX_DATA:
        raise ProtocolError(f"DL/T 645: {len(buf)} bytes received without a complete frame")
    return None


def reply_length(buf: bytes) -> int | None:
    """For `ByteLink.exchange`: bytes up to the end of the first complete slave frame, or None while incomplete."""
    found = find_frame(buf, from_slave=True)
    return None if found is None else found[1]


def decode_frame(buf: bytes, *, from_slave: bool | None = None) -> Frame:
    """Decode the first frame in `buf` (preamble and garbage before it are skipped; bytes after it ignored).

    Raises `ProtocolError` for incomplete input, a wrong checksum or a non-BCD address: the only error garbage
    can produce (fuzzed in tests).
    """
    found = find_frame(buf, from_slave=from_slave)
    if found is None:
        raise ProtocolError(f"DL/T 645: incomplete frame ({len(buf)} bytes: {buf[:24].hex(' ')})")
    start, end = found
    body = buf[start : end - 2]
    expected = checksum(body)
    if buf[end - 2] != expected:
        raise ProtocolError(f"DL/T 645: checksum {buf[end - 2]:02X} wrong, frame sums to {expected:02X}")
    address = address_from_wire(buf[start + 1 : start + 7])
    return Frame(address=address, control=buf[start + 8], data=unmask(buf[start + HEADER_LEN : end - 2]))
