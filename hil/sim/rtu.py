"""RTU request framing on the slave side, shared by the pty server and the RTU-over-TCP server.

A real slave ends a frame on 3.5 characters of silence; over a pty or TCP there is no silence to see, so requests
are cut by their known length (function 1-6: 8 bytes; 15/16: 9 + byte count) and CRC, and bytes that never make
a valid frame are dropped after a short silence, which is what a slave's t3.5 timer does with noise.
"""

from __future__ import annotations

__all__ = ["RtuRequestParser", "crc16"]


def crc16(data: bytes) -> int:
    """Modbus CRC-16, bitwise (the driver uses a table: two implementations keep each other honest)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def rtu_frame(unit: int, pdu: bytes) -> bytes:
    body = bytes((unit,)) + pdu
    return body + crc16(body).to_bytes(2, "little")


class RtuRequestParser:
    def __init__(self) -> None:
        self.buf = bytearray()
        self.dropped = 0

    def feed(self, data: bytes) -> list[tuple[int, bytes, int]]:
        """Complete requests as (unit, pdu, frame length); resyncs byte by byte past bad CRCs."""
        self.buf += data
        out: list[tuple[int, bytes, int]] = []
        while len(self.buf) >= 2:
            fc = self.buf[1]
            if 1 <= fc <= 6:
                size = 8
            elif fc in (15, 16):
                if len(self.buf) < 7:
                    break
                size = 9 + self.buf[6]
            else:
                del self.buf[0]
                self.dropped += 1
                continue
            if len(self.buf) < size:
                break
            frame = bytes(self.buf[:size])
            if crc16(frame[:-2]) == int.from_bytes(frame[-2:], "little"):
                del self.buf[:size]
                out.append((frame[0], frame[1:-2], size))
            else:
                del self.buf[0]
                self.dropped += 1
        return out

    def silence(self) -> None:
        """A t3.5 silence: whatever is buffered can no longer be a frame."""
        self.dropped += len(self.buf)
        self.buf.clear()
