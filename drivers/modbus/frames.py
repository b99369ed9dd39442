"""Modbus RTU and MBAP (Modbus TCP) framing for read and write requests, written from the spec, no I/O.

Hand-written rather than pymodbus framers because the link owner holds the bytes: the same owner carries
Modbus RTU, DL/T 645 and serial-text frames on one RS-485 bus, and needs a `reply_length` that skips leading
garbage, local echo and stale replies (Modbus over serial line V1.02 §2.5.1; Modbus Messaging on TCP/IP V1.0b
§3.1.3). Checked against pymodbus servers in `hil/tests`.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Sequence

from drivers.errors import DeviceException, ProtocolError
from drivers.link.protocol import ReplyLength

__all__ = [
    "READ_FUNCTIONS",
    "WRITE_FUNCTIONS",
    "crc16",
    "mbap_frame",
    "mbap_reply_length",
    "next_transaction_id",
    "parse_read_pdu",
    "parse_write_pdu",
    "read_pdu",
    "rtu_frame",
    "rtu_reply_length",
    "rtu_reply_pdu",
    "rtu_write_reply_length",
    "rtu_write_reply_pdu",
    "write_pdu",
]

READ_FUNCTIONS = (1, 2, 3, 4)
"""Read coils, read discrete inputs, read holding registers, read input registers."""

WRITE_FUNCTIONS = (5, 6, 16)
"""Write single coil, write single register, write multiple registers (analyzer commands and 3021 parameters)."""

MAX_REGISTERS = 125  # Modbus application protocol §6.3/6.4: 1..125 (0x7D) registers per read
MAX_BITS = 2000  # §6.1/6.2: 1..2000 (0x7D0) coils or inputs per read


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16(data: bytes) -> int:
    """Modbus CRC-16 (poly 0xA001 reflected, init 0xFFFF); sent low byte first (serial line guide §6.2.2)."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]
    return crc


def read_pdu(function: int, address: int, count: int) -> bytes:
    """PDU of a read request: function, start address (0-based wire address), quantity."""
    if function not in READ_FUNCTIONS:
        raise ValueError(f"function {function} is not a read function (1-4)")
    limit = MAX_BITS if function in (1, 2) else MAX_REGISTERS
    if not 1 <= count <= limit:
        raise ValueError(f"count {count} out of 1..{limit} for function {function}")
    if not 0 <= address <= 0xFFFF or address + count > 0x10000:
        raise ValueError(f"address {address}+{count} outside 0..65535")
    return struct.pack(">BHH", function, address, count)


MAX_WRITE_REGISTERS = 123  # §6.12: 1..123 (0x7B) registers per write multiple registers


def write_pdu(function: int, address: int, values: bool | int | Sequence[int]) -> bytes:
    """PDU of a write request (spec §6.5, §6.6, §6.12): fc 5 a coil (True → FF00, False → 0000), fc 6 one
    register, fc 16 `values` registers (byte count = 2 × quantity)."""
    if not 0 <= address <= 0xFFFF:
        raise ValueError(f"address {address} outside 0..65535")
    if function == 5:
        if not isinstance(values, bool):
            raise ValueError("fc 5 writes a coil: True or False")
        return struct.pack(">BHH", 5, address, 0xFF00 if values else 0x0000)
    if function == 6:
        if isinstance(values, bool) or not isinstance(values, int) or not 0 <= values <= 0xFFFF:
            raise ValueError(f"fc 6 writes one register 0..65535, not {values!r}")
        return struct.pack(">BHH", 6, address, values)
    if function == 16:
        words = [values] if isinstance(values, int) else list(values)
        if not 1 <= len(words) <= MAX_WRITE_REGISTERS or address + len(words) > 0x10000:
            raise ValueError(f"fc 16 writes 1..{MAX_WRITE_REGISTERS} registers within 0..65535, not {len(words)}")
        if any(isinstance(w, bool) or not 0 <= w <= 0xFFFF for w in words):
            raise ValueError(f"register values 0..65535 expected, not {words}")
        return struct.pack(f">BHHB{len(words)}H", 16, address, len(words), 2 * len(words), *words)
    raise ValueError(f"function {function} is not a write function (5, 6, 16)")


def _find_rtu_write(buf: bytes, unit: int, function: int) -> tuple[int, int] | None:
    """(start, end) of the first CRC-valid write reply (8 bytes; an exception 5) from `unit` in buf."""
    start = buf.find(unit)
    while start != -1 and start + 1 < len(buf):
        code = buf[start + 1]
        size = 5 if code == function | 0x80 else 8 if code == function else 0
        if size and start + size <= len(buf):
            frame = buf[start : start + size]
            if crc16(frame[:-2]) == int.from_bytes(frame[-2:], "little"):
                return start, start + size
        start = buf.find(unit, start + 1)
    return None


def rtu_write_reply_length(unit: int, function: int) -> ReplyLength:
    """`reply_length` for an RTU write reply: the echo of address and value/quantity (8 bytes), or 5 for an
    exception; leading garbage and a local echo of the request (also 8 bytes, valid CRC, same start) are skipped
    only when they are not a well-formed reply, so a bus with echo needs the owner's echo handling."""

    def reply_length(buf: bytes) -> int | None:
        found = _find_rtu_write(buf, unit, function)
        return None if found is None else found[1]

    return reply_length


def rtu_write_reply_pdu(reply: bytes, unit: int, function: int) -> bytes:
    found = _find_rtu_write(reply, unit, function)
    if found is None:
        raise ProtocolError(f"no valid RTU write reply from unit {unit} in {reply.hex(' ')}")
    start, end = found
    return reply[start + 1 : end - 2]


def parse_write_pdu(pdu: bytes, request: bytes) -> None:
    """Check a write reply against its request: fc 5/6 echo the request (§6.5/§6.6), fc 16 echoes address and
    quantity (§6.12). A reply that differs means the device did not take the value: ProtocolError."""
    if not pdu:
        raise ProtocolError("empty reply PDU")
    function = request[0]
    if pdu[0] == function | 0x80:
        if len(pdu) != 2:
            raise ProtocolError(f"malformed exception reply {pdu.hex(' ')}")
        raise DeviceException.from_code(pdu[1])
    if pdu != request[:5]:
        raise ProtocolError(f"write reply {pdu.hex(' ')} does not echo the request {request[:5].hex(' ')}")


def rtu_frame(unit: int, pdu: bytes) -> bytes:
    body = bytes((unit,)) + pdu
    return body + crc16(body).to_bytes(2, "little")


_tids = itertools.count(1)


def next_transaction_id() -> int:
    return next(_tids) & 0xFFFF


def mbap_frame(transaction_id: int, unit: int, pdu: bytes) -> bytes:
    return struct.pack(">HHHB", transaction_id, 0, len(pdu) + 1, unit) + pdu


def _expected_byte_count(function: int, count: int) -> int:
    return (count + 7) // 8 if function in (1, 2) else 2 * count


def _find_rtu(buf: bytes, unit: int, function: int, byte_count: int) -> tuple[int, int] | None:
    """(start, end) of the first CRC-valid reply from `unit` to `function` in buf, skipping anything else."""
    start = buf.find(unit)
    while start != -1 and start + 1 < len(buf):
        code = buf[start + 1]
        size = 0
        if code == function | 0x80:
            size = 5
        elif code == function and start + 2 < len(buf) and buf[start + 2] == byte_count:
            size = 5 + byte_count
        if size and start + size <= len(buf):
            frame = buf[start : start + size]
            if crc16(frame[:-2]) == int.from_bytes(frame[-2:], "little"):
                return start, start + size
        start = buf.find(unit, start + 1)
    return None


def rtu_reply_length(unit: int, function: int, count: int) -> ReplyLength:
    """`reply_length` for an RTU read reply: skips leading garbage/echo, needs a valid CRC.

    Garbage alone is reported by the owner as a ProtocolError when the timeout ends; a partial valid frame may
    always still complete, so nothing here gives up early except an overlong buffer (owner's MAX_RX).
    """
    byte_count = _expected_byte_count(function, count)

    def reply_length(buf: bytes) -> int | None:
        found = _find_rtu(buf, unit, function, byte_count)
        return None if found is None else found[1]

    return reply_length


def rtu_reply_pdu(reply: bytes, unit: int, function: int, count: int) -> bytes:
    """The PDU of the valid frame at the end of `reply` (as returned by the owner)."""
    found = _find_rtu(reply, unit, function, _expected_byte_count(function, count))
    if found is None:
        raise ProtocolError(f"no valid RTU reply from unit {unit} in {reply.hex(' ')}")
    start, end = found
    return reply[start + 1 : end - 2]


def mbap_reply_length(transaction_id: int, unit: int) -> ReplyLength:
    """`reply_length` for a Modbus TCP reply: skips whole stale frames (a reply that arrived after its
    timeout), raises ProtocolError on a header that cannot be MBAP (protocol id ≠ 0, length out of range)."""

    def reply_length(buf: bytes) -> int | None:
        offset = 0
        while len(buf) - offset >= 7:
            tid, pid, length = struct.unpack_from(">HHH", buf, offset)
            if pid != 0 or not 2 <= length <= 254:
                raise ProtocolError(f"not a Modbus TCP header: {buf[offset : offset + 7].hex(' ')}")
            end = offset + 6 + length
            if end > len(buf):
                return None
            if tid == transaction_id and buf[offset + 6] == unit:
                return end
            offset = end
        return None

    return reply_length


def mbap_reply_pdu(reply: bytes) -> bytes:
    """The PDU of the last frame in `reply` (stale frames before it were skipped by `mbap_reply_length`)."""
    offset = 0
    while True:
        (length,) = struct.unpack_from(">H", reply, offset + 4)
        end = offset + 6 + length
        if end >= len(reply):
            return reply[offset + 7 : end]
        offset = end


def parse_read_pdu(pdu: bytes, function: int, count: int) -> list[int]:
    """Registers (fc 3/4) or bits as 0/1 (fc 1/2, LSB of the first byte = first coil, spec §6.1).

    Raises the DeviceException subclass for an exception response and ProtocolError for a malformed reply.
    """
    if not pdu:
        raise ProtocolError("empty reply PDU")
    if pdu[0] == function | 0x80:
        if len(pdu) != 2:
            raise ProtocolError(f"malformed exception reply {pdu.hex(' ')}")
        raise DeviceException.from_code(pdu[1])
    if pdu[0] != function:
        raise ProtocolError(f"reply function {pdu[0]} does not match request {function}")
    expected = _expected_byte_count(function, count)
    if len(pdu) != 2 + expected or pdu[1] != expected:
        raise ProtocolError(f"reply byte count {pdu[1] if len(pdu) > 1 else '?'} ≠ expected {expected}")
    data = pdu[2:]
    if function in (1, 2):
        return [(data[i // 8] >> (i % 8)) & 1 for i in range(count)]
    return list(struct.unpack(f">{count}H", data))
