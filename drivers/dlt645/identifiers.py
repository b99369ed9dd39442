"""DL/T 645 data identifiers (DI): what each item is called, its unit and how its BCD bytes decode.

The table is data, so a TOML device profile can name an item (`voltage_a`) or give its DI in hex
(`"02010100"`, 1997: `"B611"`), and can add an item the table lacks by giving the same fields.

Values are packed BCD, least-significant byte first, with an implied decimal point (devices.md §1.3).
Signed items (current, power, power factor, combined energy) carry the sign in the top bit of the most
significant byte, with a BCD magnitude: sign-magnitude, not two's complement (DL/T 645-2007 appendix A notes).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from drivers.errors import ProtocolError


class Version(IntEnum):
    """Edition of the standard a meter speaks; a meter understands only its own (devices.md §1.5)."""

    V2007 = 2007
    V1997 = 1997

    @property
    def di_length(self) -> int:
        """DI bytes on the wire: 4 in 2007, 2 in 1997 ("数据标识由原来的2字节改为4字节")."""
        return 4 if self is Version.V2007 else 2

    @classmethod
    def parse(cls, value: int | str | Version) -> Version:
        try:
            return cls(int(value))
        except (TypeError, ValueError):
            raise ValueError(f"DL/T 645 version {value!r}: expected 2007 or 1997") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class DataItem:
    """One data identifier.

    `length` is bytes per value; `count` > 1 marks a block read (e.g. total + 4 tariffs), whose reply holds
    `count` values of `length` bytes one after another.
    """

    di: int
    name: str
    title: str = ""
    unit: str = ""
    length: int
    decimals: int
    signed: bool = False
    count: int = 1
    version: Version = Version.V2007

    def __post_init__(self) -> None:
        version = Version.parse(self.version)
        object.__setattr__(self, "version", version)
        limit = 1 << (8 * version.di_length)
        if not 0 <= self.di < limit:
            raise ValueError(f"DL/T 645 item {self.name!r}: DI {self.di:#x} does not fit {version.di_length} bytes")
        if not self.name or not self.name.replace("_", "").isalnum():
            raise ValueError(f"DL/T 645 item name {self.name!r}: expected letters, digits and _")
        if not 1 <= self.length <= 8:
            raise ValueError(f"DL/T 645 item {self.name!r}: length {self.length} not in 1..8 bytes")
        if not 0 <= self.decimals <= 2 * self.length:
            raise ValueError(f"DL/T 645 item {self.name!r}: {self.decimals} decimals for {2 * self.length} digits")
        if not 1 <= self.count <= 16:
            raise ValueError(f"DL/T 645 item {self.name!r}: count {self.count} not in 1..16")

    @property
    def di_hex(self) -> str:
        """DI as written in the standard's tables, most significant byte first: `02010100`, `B611`."""
        return f"{self.di:0{2 * self.version.di_length}X}"

    @property
    def di_wire(self) -> bytes:
        """DI bytes in wire order (DI0 first), before the +0x33 mask."""
        return self.di.to_bytes(self.version.di_length, "little")

    @property
    def format(self) -> str:
        """The standard's format string, e.g. `XXX.XXX`."""
        digits = 2 * self.length
        return "X" * (digits - self.decimals) + ("." + "X" * self.decimals if self.decimals else "")

    def decode(self, raw: bytes) -> tuple[float, ...]:
        """Value bytes (unmasked, after the DI) → `count` numbers."""
        if len(raw) != self.length * self.count:
            raise ProtocolError(
                f"DL/T 645 {self.di_hex} {self.name}: {len(raw)} value bytes, expected {self.length * self.count}"
            )
        return tuple(
            decode_bcd(raw[k : k + self.length], self.decimals, signed=self.signed, what=f"{self.di_hex} {self.name}")
            for k in range(0, len(raw), self.length)
        )

    def encode(self, values: tuple[float, ...] | float) -> bytes:
        """Numbers → value bytes (unmasked); used by the meter simulator."""
        if isinstance(values, int | float):
            values = (values,)
        if len(values) != self.count:
            raise ValueError(f"DL/T 645 {self.di_hex} {self.name}: {len(values)} values, expected {self.count}")
        return b"".join(encode_bcd(v, self.length, self.decimals, signed=self.signed) for v in values)


def decode_bcd(raw: bytes, decimals: int, *, signed: bool = False, what: str = "value") -> float:
    """Little-endian packed BCD with an implied decimal point; sign in bit 7 of the last byte when `signed`."""
    if not raw:
        raise ProtocolError(f"DL/T 645 {what}: no value bytes")
    data = bytearray(raw)
    negative = False
    if signed:
        negative = bool(data[-1] & 0x80)
        data[-1] &= 0x7F
    text = bytes(reversed(data)).hex()
    if not text.isdigit():
        raise ProtocolError(f"DL/T 645 {what}: bytes {raw.hex(' ')} are not BCD")
    value = int(text) / 10**decimals
    return -value if negative and value else value


def encode_bcd(value: float, length: int, decimals: int, *, signed: bool = False) -> bytes:
    """The inverse of `decode_bcd`; rounds to the item's decimals and refuses values that do not fit."""
    scaled = round(abs(value) * 10**decimals)
    digits = 2 * length
    if (value < 0 and not signed) or scaled >= 10**digits or (signed and scaled >= 8 * 10 ** (digits - 1)):
        raise ValueError(f"{value} does not fit {length} BCD bytes with {decimals} decimals (signed={signed})")
    data = bytearray(bytes.fromhex(f"{scaled:0{digits}d}")[::-1])
    if signed and value < 0 and scaled:
        data[-1] |= 0x80
    return bytes(data)


def _phases(di: int, step: int, stem: str, title: str, **fmt: object) -> list[DataItem]:
    """Items for A/B/C phases at `di + step`, `di + 2·step`, `di + 3·step`."""
    return [
        DataItem(di=di + k * step, name=f"{stem}_{p}", title=f"{p.upper()}相{title}", **fmt)  # type: ignore[arg-type]
        for k, p in ((1, "a"), (2, "b"), (3, "c"))
    ]


_KWH = {"unit": "kWh", "length": 4, "decimals": 2}
_V = {"unit": "V", "length": 2, "decimals": 1}
_A = {"unit": "A", "length": 3, "decimals": 3, "signed": True}
_KW = {"unit": "kW", "length": 3, "decimals": 4, "signed": True}
_KVAR = {"unit": "kvar", "length": 3, "decimals": 4, "signed": True}
_KVA = {"unit": "kVA", "length": 3, "decimals": 4}
_PF = {"unit": "", "length": 2, "decimals": 3, "signed": True}

# DL/T 645-2007 appendix A, as listed in devices.md §1.3 ([WK], [600], [ESP]).
ITEMS_2007: tuple[DataItem, ...] = (
    DataItem(di=0x00000000, name="energy_active_combined", title="组合有功总电能", signed=True, **_KWH),
    DataItem(di=0x00010000, name="energy_active_import", title="正向有功总电能", **_KWH),
    *(
        DataItem(di=0x00010000 + (t << 8), name=f"energy_active_import_t{t}", title=f"正向有功费率{t}电能", **_KWH)
        for t in range(1, 5)
    ),
    DataItem(di=0x0001FF00, name="energy_active_import_block", title="正向有功电能数据块(总,费率1-4)", count=5, **_KWH),
    DataItem(di=0x00020000, name="energy_active_export", title="反向有功总电能", **_KWH),
    *_phases(0x02010000, 0x100, "voltage", "电压", **_V),
    DataItem(di=0x0201FF00, name="voltage_block", title="电压数据块(A,B,C)", count=3, **_V),
    *_phases(0x02020000, 0x100, "current", "电流", **_A),
    DataItem(di=0x0202FF00, name="current_block", title="电流数据块(A,B,C)", count=3, **_A),
    DataItem(di=0x02030000, name="power_active_total", title="瞬时总有功功率", **_KW),
    *_phases(0x02030000, 0x100, "power_active", "有功功率", **_KW),
    DataItem(di=0x02040000, name="power_reactive_total", title="瞬时总无功功率", **_KVAR),
    *_phases(0x02040000, 0x100, "power_reactive", "无功功率", **_KVAR),
    DataItem(di=0x02050000, name="power_apparent_total", title="瞬时总视在功率", **_KVA),
    *_phases(0x02050000, 0x100, "power_apparent", "视在功率", **_KVA),
    DataItem(di=0x02060000, name="power_factor_total", title="总功率因数", **_PF),
    *_phases(0x02060000, 0x100, "power_factor", "功率因数", **_PF),
    DataItem(di=0x02800001, name="current_neutral", title="零线电流", unit="A", length=3, decimals=3),
    DataItem(di=0x02800002, name="frequency", title="电网频率", unit="Hz", length=2, decimals=2),
)

_V97 = {"unit": "V", "length": 2, "decimals": 0, "version": Version.V1997}

# DL/T 645-1997 items whose formats are confirmed (devices.md §1.5, [WK] 1997 parser). B640/B660 are left out
# until a source gives their formats: a guessed format would invent values.
ITEMS_1997: tuple[DataItem, ...] = (
    DataItem(
        di=0x9010,
        name="energy_active_import",
        title="正向有功总电能",
        unit="kWh",
        length=4,
        decimals=2,
        version=Version.V1997,
    ),
    *_phases(0xB610, 1, "voltage", "电压", **_V97),
    *(
        DataItem(di=0xB690 + k, name=f"voltage_{ph}", title=f"{ph.upper()}线电压", **_V97)
        for k, ph in ((1, "ab"), (2, "bc"), (3, "ca"))
    ),
    *_phases(0xB620, 1, "current", "电流", unit="A", length=2, decimals=2, version=Version.V1997),
    DataItem(
        di=0xB630,
        name="power_active_total",
        title="瞬时总有功功率",
        unit="kW",
        length=3,
        decimals=4,
        version=Version.V1997,
    ),
    *_phases(0xB630, 1, "power_active", "有功功率", unit="kW", length=3, decimals=4, version=Version.V1997),
)

ITEMS: dict[Version, tuple[DataItem, ...]] = {Version.V2007: ITEMS_2007, Version.V1997: ITEMS_1997}


def lookup(key: str | int, version: Version | int = Version.V2007) -> DataItem:
    """Find an item by name (`voltage_a`) or DI (`"02010100"`, `"0x02010100"`, `0x02010100`, 1997 `"B611"`)."""
    version = Version.parse(version)
    table = ITEMS[version]
    if isinstance(key, str):
        text = key.strip()
        for item in table:
            if item.name == text.lower():
                return item
        digits = text[2:] if text.lower().startswith("0x") else text
        if len(digits) != 2 * version.di_length or any(c not in "0123456789abcdefABCDEF" for c in digits):
            names = ", ".join(item.name for item in table)
            raise KeyError(f"DL/T 645-{version.value}: no item {key!r}; names: {names}")
        di = int(digits, 16)
    else:
        di = key
    for item in table:
        if item.di == di:
            return item
    raise KeyError(f"DL/T 645-{version.value}: DI {di:0{2 * version.di_length}X} is not in the table")
