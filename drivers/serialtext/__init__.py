"""Serial text protocols (ASCII analyzers without Modbus): a data-driven spec, pure line parser, device driver.

Other packages import only from here.
"""

from drivers.result import ReadResult
from drivers.serialtext.checksum import KINDS, crc16_hj212, crc16_modbus, sum8, xor8
from drivers.serialtext.device import SerialTextDevice
from drivers.serialtext.parser import (
    DeviceRefused,
    FieldValue,
    build_request,
    extract_line,
    parse_line,
    parse_reply,
    reply_length,
    verify_checksum,
)
from drivers.serialtext.spec import ChecksumSpec, FieldSpec, TextSpec, unescape

__all__ = [
    "KINDS",
    "ChecksumSpec",
    "DeviceRefused",
    "FieldSpec",
    "FieldValue",
    "ReadResult",
    "SerialTextDevice",
    "TextSpec",
    "build_request",
    "crc16_hj212",
    "crc16_modbus",
    "extract_line",
    "parse_line",
    "parse_reply",
    "reply_length",
    "sum8",
    "unescape",
    "verify_checksum",
    "xor8",
]
