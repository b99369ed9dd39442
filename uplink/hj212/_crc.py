"""CRC of the data segment, HJ 212-2017 Appendix A (unchanged in 2025, "ANSI CRC16").

The register keeps only its high byte between input bytes (`reg = (reg >> 8) ^ byte`), which makes it *not*
CRC-16/MODBUS (`reg ^= byte`). Check value of ASCII "123456789": 2F80 (Modbus: 4B37). CRC-16/MODBUS is kept only
to tell a peer that it used the wrong algorithm.
"""

from __future__ import annotations


def _table(poly: int) -> tuple[int, ...]:
    table = []
    for i in range(256):
        reg = i
        for _ in range(8):
            reg = (reg >> 1) ^ poly if reg & 1 else reg >> 1
        table.append(reg)
    return tuple(table)


_TABLE = _table(0xA001)


def crc16(data: bytes) -> int:
    """HJ 212 Appendix A CRC, table-driven: after `reg = (reg >> 8) ^ b` the 8 shift/xor steps are `T[reg & 0xFF]`
    (the high byte of `reg >> 8` is zero, so the 8 steps act on the low byte only)."""
    reg = 0xFFFF
    table = _TABLE
    for b in data:
        reg = table[(reg >> 8) ^ b]
    return reg


def crc16_modbus(data: bytes) -> int:
    """CRC-16/MODBUS, only to diagnose a peer that sent it instead of the Appendix A CRC."""
    reg = 0xFFFF
    table = _TABLE
    for b in data:
        reg = (reg >> 8) ^ table[(reg ^ b) & 0xFF]
    return reg
