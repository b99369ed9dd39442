"""DL/T 645 read requests and replies (2007 and 1997): bytes to ask with, replies to values or typed errors.

Still pure: the meter driver (`drivers.dlt645.meter`) does the I/O through the link owner.
"""

from __future__ import annotations

from drivers.dlt645.frame import WILDCARD, Frame, address_from_wire, decode_frame, encode_frame
from drivers.dlt645.identifiers import DataItem, Version
from drivers.errors import DeviceException, ProtocolError

# Function codes (devices.md §1.2 / §1.5, [WK] *_private.h).
READ_2007 = 0x11
READ_ADDRESS_2007 = 0x13
READ_1997 = 0x01

# ERR byte of an abnormal reply, one meaning per bit ([WK]: the same bits in both editions).
ERROR_BITS: tuple[tuple[int, str], ...] = (
    (0x01, "其他错误 / other error"),
    (0x02, "无请求数据 / no requested data (item not supported)"),
    (0x04, "密码错误或未授权 / wrong password or unauthorised"),
    (0x08, "通信速率不能更改 / baud rate cannot be changed"),
    (0x10, "年时区数超 / too many year zones"),
    (0x20, "日时段数超 / too many day periods"),
    (0x40, "费率数超 / too many tariffs"),
)


def describe_error(code: int) -> str:
    """Every bit set in an ERR byte, spelled out; unknown bits are named, never dropped."""
    parts = [text for bit, text in ERROR_BITS if code & bit]
    if code & 0x80:
        parts.append("保留位 bit7 / reserved bit 7")
    return "; ".join(parts) or "错误字为 0 / error byte 0 (no reason given)"


class MeterErrorReply(DeviceException):
    """The meter answered with an abnormal reply (C = function | 0xC0) carrying an ERR byte."""

    def __init__(self, code: int, *, address: str = "", di: str = "") -> None:
        where = " ".join(part for part in (address and f"meter {address}", di and f"DI {di}") if part)
        message = f"DL/T 645 error reply {code:#04x}: {describe_error(code)}" + (f" ({where})" if where else "")
        super().__init__(message, code=code)
        self.address = address
        self.di = di


def read_function(version: Version) -> int:
    return READ_2007 if version is Version.V2007 else READ_1997


def read_request(address: str, item: DataItem, *, preamble: int = 4) -> bytes:
    """Read one item: C = 0x11 with a 4-byte DI (2007) or 0x01 with a 2-byte DI (1997), DI0 first."""
    frame = Frame(address=address, control=read_function(item.version), data=item.di_wire)
    return encode_frame(frame, preamble=preamble)


def read_address_request(*, preamble: int = 4) -> bytes:
    """2007 "read address" (C = 0x13) to AAAAAAAAAAAA: a lone meter answers with its own address."""
    return encode_frame(Frame(address=WILDCARD, control=READ_ADDRESS_2007), preamble=preamble)


def _check_reply(frame: Frame, function: int, address: str, di: str) -> None:
    if not frame.from_slave:
        raise ProtocolError(f"DL/T 645: frame C={frame.control:02X} is a master request, not a reply")
    if frame.function != function:
        raise ProtocolError(f"DL/T 645: reply to function {frame.function:02X}, expected {function:02X}")
    if not _address_matches(address, frame.address):
        raise ProtocolError(f"DL/T 645: reply from meter {frame.address}, asked {address}")
    if frame.abnormal:
        if len(frame.data) != 1:
            raise ProtocolError(f"DL/T 645: error reply with {len(frame.data)} data bytes, expected 1 ERR byte")
        raise MeterErrorReply(frame.data[0], address=frame.address, di=di)


def _address_matches(asked: str, answered: str) -> bool:
    """A wildcard digit (A) in the request matches any digit of the answering meter's real address."""
    return all(a in ("A", b) for a, b in zip(asked, answered, strict=True))


def parse_read_reply(reply: bytes | Frame, address: str, item: DataItem) -> tuple[Frame, bytes]:
    """Check a read reply against the request and return the frame and its value bytes (DI stripped).

    Raises `MeterErrorReply` for an abnormal reply and `ProtocolError` for anything that does not answer
    this request (other meter, other DI, wrong length, bad checksum).
    """
    frame = reply if isinstance(reply, Frame) else decode_frame(reply, from_slave=True)
    _check_reply(frame, read_function(item.version), Frame(address=address, control=0).address, item.di_hex)
    n = item.version.di_length
    if len(frame.data) < n or frame.data[:n] != item.di_wire:
        echoed = frame.data[:n][::-1].hex().upper() or "nothing"
        raise ProtocolError(f"DL/T 645: reply carries DI {echoed}, asked {item.di_hex}")
    return frame, frame.data[n:]


def parse_address_reply(reply: bytes | Frame) -> str:
    """The meter address from a 2007 read-address reply (C = 0x93, data = the address, low byte first)."""
    frame = reply if isinstance(reply, Frame) else decode_frame(reply, from_slave=True)
    _check_reply(frame, READ_ADDRESS_2007, frame.address, "")
    if len(frame.data) != 6:
        raise ProtocolError(f"DL/T 645: read-address reply with {len(frame.data)} data bytes, expected 6")
    data_address = address_from_wire(frame.data)
    if data_address != frame.address:
        raise ProtocolError(f"DL/T 645: read-address reply names {data_address} in a frame from {frame.address}")
    return data_address
