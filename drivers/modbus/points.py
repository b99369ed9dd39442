"""Modbus point specs: where a value lives (function, 0-based wire address) and how its registers decode.

Address convention (devices.md §5.3): we store the 0-based wire address plus the function code. Modicon
notation is accepted as input sugar only: `40001` = holding register (fc 3) wire address 0, `30001` = input
register (fc 4) 0, `10001` = discrete input (fc 2) 0, `00001` = coil (fc 1) 0; six-digit `400001` likewise.

Byte/word orders name the bytes of the value, most significant first, as they appear on the wire
(A = most significant byte): ABCD big-endian (high word first), CDAB word-swapped, BADC byte-swapped,
DCBA little-endian. 64-bit types extend the same two swaps to four words. Specs are compiled once at load
(style.md §3.4): bad combinations fail here, not at poll time.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from drivers.errors import DriverError, InvalidValue

__all__ = ["ByteOrder", "DataType", "PointResult", "PointSpec", "Value", "parse_address"]

Value = float | int | str | bool


class DataType(StrEnum):
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    INT64 = "int64"
    UINT64 = "uint64"
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    BCD16 = "bcd16"  # 4 packed BCD digits in one register (e.g. 0x1234 → 1234)
    BCD32 = "bcd32"  # 8 digits in two registers, order as for int32
    STRING = "string"  # ASCII, two characters per register; NULs and trailing spaces stripped
    BITS = "bits"  # a bit field of one register: `bit` (0 = LSB) and `bits` wide, unsigned
    BOOL = "bool"  # a coil or discrete input (fc 1/2)


class ByteOrder(StrEnum):
    ABCD = "ABCD"
    BADC = "BADC"
    CDAB = "CDAB"
    DCBA = "DCBA"

    @property
    def byte_swap(self) -> bool:
        return self in (ByteOrder.BADC, ByteOrder.DCBA)

    @property
    def word_swap(self) -> bool:
        return self in (ByteOrder.CDAB, ByteOrder.DCBA)


_WIDTH = {
    DataType.INT16: 1,
    DataType.UINT16: 1,
    DataType.BCD16: 1,
    DataType.BITS: 1,
    DataType.BOOL: 1,
    DataType.INT32: 2,
    DataType.UINT32: 2,
    DataType.FLOAT32: 2,
    DataType.BCD32: 2,
    DataType.INT64: 4,
    DataType.UINT64: 4,
    DataType.FLOAT64: 4,
}
_STRUCT = {
    DataType.INT16: ">h",
    DataType.UINT16: ">H",
    DataType.INT32: ">i",
    DataType.UINT32: ">I",
    DataType.INT64: ">q",
    DataType.UINT64: ">Q",
    DataType.FLOAT32: ">f",
    DataType.FLOAT64: ">d",
}
_NOTATION = {"0": 1, "1": 2, "3": 4, "4": 3}
_NOTATION_RE = re.compile(r"^([0134])(\d{4,5})$")


def parse_address(text: str | int, function: int | None = None) -> tuple[int, int]:
    """(function, wire address) from Modicon notation ("40001", "400001") or a wire address with `function`.

    Integers and other strings (decimal or 0x hex) are 0-based wire addresses and need `function`.
    """
    if isinstance(text, str):
        s = text.strip()
        m = _NOTATION_RE.match(s)
        if m:
            fc = _NOTATION[m.group(1)]
            number = int(m.group(2))
            if number == 0:
                raise ValueError(f"address {s!r}: Modicon notation is 1-based, {s[0]}0000 does not exist")
            if function is not None and function != fc:
                raise ValueError(f"address {s!r} means function {fc}, but function {function} was given")
            return fc, number - 1
        try:
            wire = int(s, 0)
        except ValueError:
            raise ValueError(f"address {text!r} is neither Modicon notation (40001) nor a number") from None
    else:
        wire = text
    if function is None:
        raise ValueError(f"address {text!r} is a wire address: give the function code (1-4) or use 4xxxx notation")
    if not 0 <= wire <= 0xFFFF:
        raise ValueError(f"wire address {wire} outside 0..65535")
    return function, wire


@dataclass(frozen=True, slots=True)
class PointResult:
    """What one read gave for one point: the value (None when unusable), its raw registers, the error if any."""

    value: Value | None
    raw: tuple[int, ...] = ()
    error: DriverError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.value is not None


@dataclass(frozen=True, kw_only=True, slots=True)
class PointSpec:
    """One value on a Modbus device, validated on construction."""

    name: str
    address: int
    """0-based wire address (use `PointSpec.at("40001", ...)` for Modicon notation)."""
    function: int = 3
    dtype: DataType = DataType.UINT16
    order: ByteOrder = ByteOrder.ABCD
    count: int | None = None
    """Registers; needed only for strings (others derive it from the type)."""
    bit: int = 0
    bits: int = 1
    scale: float = 1.0
    offset: float = 0.0
    sentinels: tuple[float, ...] = ()
    """Raw values (before scale/offset) meaning "no data", e.g. 0xFFFF or -9999; NaN/inf are always rejected."""
    width: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", DataType(self.dtype))
        object.__setattr__(self, "order", ByteOrder(str(self.order).upper()))
        object.__setattr__(self, "sentinels", tuple(self.sentinels))
        where = f"point {self.name!r}"
        if not self.name:
            raise ValueError("point name is empty")
        if self.function not in (1, 2, 3, 4):
            raise ValueError(f"{where}: function {self.function} must be 1, 2, 3 or 4")
        if (self.function in (1, 2)) != (self.dtype is DataType.BOOL):
            raise ValueError(f"{where}: type bool goes with functions 1/2 (coils, discrete inputs) and only there")
        if self.dtype is DataType.STRING:
            if self.count is None or not 1 <= self.count <= 125:
                raise ValueError(f"{where}: a string needs count = number of registers (1..125)")
            width = self.count
        else:
            if self.count is not None and self.count != _WIDTH[self.dtype]:
                raise ValueError(f"{where}: {self.dtype} takes {_WIDTH[self.dtype]} registers, not count={self.count}")
            width = _WIDTH[self.dtype]
        if self.dtype is DataType.BITS and not (0 <= self.bit <= 15 and 1 <= self.bits <= 16 - self.bit):
            raise ValueError(f"{where}: bit field {self.bit}+{self.bits} must fit in 16 bits")
        if not 0 <= self.address <= 0xFFFF or self.address + width > 0x10000:
            raise ValueError(f"{where}: address {self.address}+{width} outside 0..65535")
        if self.scale == 0 or not math.isfinite(self.scale) or not math.isfinite(self.offset):
            raise ValueError(f"{where}: scale must be finite and non-zero, offset finite")
        object.__setattr__(self, "width", width)

    @classmethod
    def at(cls, address: str | int, *, name: str, function: int | None = None, **kwargs: object) -> PointSpec:
        """Build from Modicon notation or a wire address: `PointSpec.at("30001", name="so2", dtype="float32")`."""
        fc, wire = parse_address(address, function)
        return cls(name=name, address=wire, function=fc, **kwargs)  # type: ignore[arg-type]

    @property
    def end(self) -> int:
        return self.address + self.width

    def _bytes(self, registers: Sequence[int]) -> bytes:
        words = list(registers)
        if self.order.word_swap:
            words.reverse()
        order = "little" if self.order.byte_swap else "big"
        return b"".join(int(w).to_bytes(2, order) for w in words)

    def decode(self, registers: Sequence[int]) -> Value:
        """Registers (or 0/1 bits for fc 1/2) of exactly this point → value; InvalidValue when unusable."""
        if len(registers) != self.width:
            raise InvalidValue(f"{self.name}: {len(registers)} registers given, {self.width} needed")
        if any(not 0 <= r <= 0xFFFF for r in registers):
            raise InvalidValue(f"{self.name}: register value outside 0..65535 in {list(registers)}")
        dtype = self.dtype
        if dtype is DataType.BOOL:
            return bool(registers[0])
        if dtype is DataType.STRING:
            data = b"".join(int(w).to_bytes(2, "little" if self.order.byte_swap else "big") for w in registers)
            return data.replace(b"\x00", b"").decode("ascii", errors="replace").strip()
        if dtype is DataType.BITS:
            raw: float = (registers[0] >> self.bit) & ((1 << self.bits) - 1)
        elif dtype in (DataType.BCD16, DataType.BCD32):
            digits = self._bytes(registers).hex()
            if not digits.isdigit():
                raise InvalidValue(f"{self.name}: {digits} is not BCD")
            raw = int(digits)
        else:
            raw = struct.unpack(_STRUCT[dtype], self._bytes(registers))[0]
            if isinstance(raw, float) and not math.isfinite(raw):
                raise InvalidValue(f"{self.name}: device reports {raw} / 设备返回无效值")
        if raw in self.sentinels:
            raise InvalidValue(f"{self.name}: sentinel {raw} means no data / 无数据标记值")
        if self.scale == 1 and self.offset == 0:
            return raw
        return raw * self.scale + self.offset

    def encode(self, value: float) -> list[int]:
        """Registers that make `decode` give `value` (a 3021 parameter write): raw = (value − offset) / scale.

        An integer register takes only a value that lands on a whole raw number (within 1e-6; 16.55 with scale
        0.1 is refused, never rounded to a value the platform did not ask for) inside the type's limits."""
        dtype = self.dtype
        if dtype not in _STRUCT or self.function not in (3, 4):
            raise ValueError(f"{self.name}: {dtype} registers cannot be written as a number")
        if not math.isfinite(value):
            raise ValueError(f"{self.name}: {value} is not a finite number")
        raw: float | int = (value - self.offset) / self.scale
        if dtype not in (DataType.FLOAT32, DataType.FLOAT64):
            whole = round(raw)
            if abs(raw - whole) > 1e-6:
                raise ValueError(f"{self.name}: {value} is not a whole number of steps of {self.scale}")
            bits = 8 * struct.calcsize(_STRUCT[dtype])
            lo, hi = (0, 2**bits - 1) if dtype.value.startswith("u") else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
            if not lo <= whole <= hi:
                raise ValueError(f"{self.name}: {value} does not fit {dtype}")
            raw = whole
        elif dtype is DataType.FLOAT32 and abs(raw) > 3.4028234e38:
            raise ValueError(f"{self.name}: {value} does not fit float32")
        data = struct.pack(_STRUCT[dtype], raw)
        order = "little" if self.order.byte_swap else "big"
        words = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
        if order == "little":
            words = [int.from_bytes(w.to_bytes(2, "big"), "little") for w in words]
        if self.order.word_swap:
            words.reverse()
        return words

    def result(self, registers: Sequence[int]) -> PointResult:
        raw = tuple(registers)
        try:
            return PointResult(self.decode(registers), raw)
        except InvalidValue as err:
            return PointResult(None, raw, err)
