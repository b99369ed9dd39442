"""Checksums ASCII analyzers put at the end of a line (devices.md §4).

- `sum8`: sum of the chars mod 256, as DCON modules do when their checksum is enabled.
- `xor8`: XOR of the chars, the MEWTOCOL-COM BCC (and NMEA-style `*hh` lines).
- `crc16`: CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF, `reg ^= byte`): the Modbus driver's own
  (`drivers.modbus.frames.crc16`).
- `crc16_hj212`: HJ 212 Appendix A, which shifts the register before the XOR (`reg = (reg >> 8) ^ byte`);
  not the Modbus CRC (hj212.md §2; check value of `123456789` is 2F80, Modbus gives 4B37).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from drivers.modbus.frames import crc16 as crc16_modbus

ChecksumKind = Literal["none", "sum8", "xor8", "crc16", "crc16_hj212"]
KINDS: tuple[str, ...] = ("none", "sum8", "xor8", "crc16", "crc16_hj212")


def sum8(data: bytes) -> int:
    return sum(data) & 0xFF


def xor8(data: bytes) -> int:
    out = 0
    for b in data:
        out ^= b
    return out


def crc16_hj212(data: bytes) -> int:
    reg = 0xFFFF
    for b in data:
        reg = (reg >> 8) ^ b
        for _ in range(8):
            reg = (reg >> 1) ^ 0xA001 if reg & 1 else reg >> 1
    return reg


FUNCTIONS: dict[str, Callable[[bytes], int]] = {
    "sum8": sum8,
    "xor8": xor8,
    "crc16": crc16_modbus,
    "crc16_hj212": crc16_hj212,
}

# Characters the value takes in the line: hex digits, or zero-padded decimal digits.
WIDTH: dict[tuple[str, str], int] = {
    ("sum8", "hex"): 2,
    ("xor8", "hex"): 2,
    ("crc16", "hex"): 4,
    ("crc16_hj212", "hex"): 4,
    ("sum8", "decimal"): 3,
    ("xor8", "decimal"): 3,
    ("crc16", "decimal"): 5,
    ("crc16_hj212", "decimal"): 5,
}


def render(value: int, kind: str, encoding: str) -> str:
    """The checksum as it is written in the line: upper-case hex or zero-padded decimal."""
    width = WIDTH[(kind, encoding)]
    return f"{value:0{width}X}" if encoding == "hex" else f"{value:0{width}d}"
