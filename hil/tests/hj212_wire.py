"""HJ 212 frames written by hand for the reference-platform tests, checked with a CRC of their own.

The CRC is Appendix A transcribed from the standard's C function, not `uplink.hj212.crc16`, so the codec is
not the only judge of its own output.
"""

from __future__ import annotations

import asyncio


def crc_appendix_a(data: bytes) -> int:
    """HJ 212-2017 Appendix A, written from the standard's C function."""
    reg = 0xFFFF
    for byte in data:
        reg = (reg >> 8) ^ byte
        for _ in range(8):
            lsb = reg & 1
            reg >>= 1
            if lsb:
                reg ^= 0xA001
    return reg


def wire(segment: str, *, crc: int | None = None) -> bytes:
    """`segment` framed as on the wire: `##`, 4-digit length, segment, CRC (Appendix A unless `crc`), CR LF."""
    data = segment.encode()
    return b"##%04d%s%04X\r\n" % (len(data), data, crc_appendix_a(data) if crc is None else crc)


async def read_frame(reader: asyncio.StreamReader, timeout: float = 5.0) -> bytes:
    return await asyncio.wait_for(reader.readuntil(b"\r\n"), timeout)
