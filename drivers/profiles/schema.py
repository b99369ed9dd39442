"""The shape of a device profile: one TOML file per device model, validated before anything touches a bus.

A profile says where a device keeps its values (`[[points]]`), how its state registers turn into HJ 212 flags
and 3020 state codes (`[state.<point>]`), which registers hold its i13xxx parameters (`[[info]]`, `writable`
when a platform may set them with 3021), and which register writes start its operations (`[[commands]]`: the
calibration, measurement and standard check a platform asks for with 3011/3012/3022/3024).
Unknown keys are rejected (a misspelt `scael` must not silently mean scale 1), and cross-references are
checked here so a profile that loads is one the reader can run. `docs/profiles.md` documents every key.
"""

from __future__ import annotations

import re
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agent.model import FLAGS

__all__ = [
    "COMMAND_KINDS",
    "Command",
    "DataType",
    "DeviceSection",
    "InfoItem",
    "LinkDefaults",
    "Point",
    "Profile",
    "ProfileModel",
    "StandardCheck",
    "StateRow",
    "StateTable",
    "WordOrder",
]

Protocol = Literal["modbus", "dlt645", "serialtext"]
Kind = Literal[
    "cems_gas",
    "dust",
    "flue_gas",
    "water_analyzer",
    "ph",
    "flow",
    "power",
    "analog_input",
    "digital_input",
    "other",
]
# Register encodings (names as drivers.modbus.DataType) plus `bcd_datetime`: a time as packed BCD
# YYMMDDhhmmss in 3 registers (devices.md §5.2). A status held as an ASCII flag letter is a 1-register `string`.
DataType = Literal[
    "bool",
    "int16",
    "uint16",
    "int32",
    "uint32",
    "int64",
    "uint64",
    "float32",
    "float64",
    "bcd16",
    "bcd32",
    "string",
    "bcd_datetime",
]
# Byte order of multi-register values, named by where bytes A (most significant) … D land on the wire
# (devices.md §5.1: per device, not per vendor; TUF-2000's "BADC" is our CDAB).
WordOrder = Literal["ABCD", "CDAB", "BADC", "DCBA"]
Flag = Literal["N", "F", "M", "S", "D", "C", "T", "B"]
assert set(Flag.__args__) == set(FLAGS)  # type: ignore[attr-defined]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
FACTOR_CODE = re.compile(r"^[a-z][a-z0-9]{5}$|^[A-Z][A-Za-z0-9]{1,5}$")  # HJ 212 codes: a21026, w01018, e20101, LA
_INFO_CODE = re.compile(r"^i\d{5}$")
_DI = re.compile(r"^[0-9A-Fa-f]{4}$|^[0-9A-Fa-f]{8}$")

# Registers each type occupies when no `count` is given.
WORDS: dict[str, int] = {
    "bool": 1,
    "int16": 1,
    "uint16": 1,
    "bcd16": 1,
    "string": 1,
    "int32": 2,
    "uint32": 2,
    "float32": 2,
    "bcd32": 2,
    "int64": 4,
    "uint64": 4,
    "float64": 4,
    "bcd_datetime": 3,
}


class ProfileModel(BaseModel):
    """Base: unknown keys are an error, values are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class LinkDefaults(ProfileModel):
    """Factory line settings of the device; a site config may override them per link."""

    baud: int = Field(9600, description="波特率 / baud rate", gt=0)
    parity: Literal["N", "E", "O"] = Field("N", description="校验 / parity: N none, E even, O odd")
    stopbits: Literal[1, 2] = 1
    bytesize: Literal[7, 8] = 8
    timeout: float = Field(1.0, gt=0, le=30, description="应答超时 s / reply timeout in seconds")


class DeviceSection(ProfileModel):
    """`[device]`: what the device is and how it talks."""

    name: str = Field(description="profile id, lower_snake_case; equals the file name without .toml")
    title: str = Field(description="中文 English display name")
    vendor: str
    model: str
    kind: Kind
    protocol: Protocol
    source: str = Field(description="where the register map comes from (devices.md section, manual)")
    order: WordOrder = Field("ABCD", description="default byte order of multi-register values")
    unit_id: int = Field(1, ge=0, le=255, description="factory Modbus unit id")
    edition: Literal[1997, 2007] = Field(2007, description="DL/T 645 edition the meter speaks (devices.md §1.5)")
    link: LinkDefaults = LinkDefaults()
    notes: str = ""
    extends: str | None = Field(None, description="built-in profile name or path this one is based on")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("lower_snake_case id expected, e.g. cems_sick_mcs100ft")
        return v


class _Register(ProfileModel):
    """Where one value lives and how its raw registers become a number."""

    name: str
    title: str = ""
    unit: str = ""
    # Modbus: function code and wire (0-based) address, devices.md §5.3 — 40001 is address 0 with fc 3.
    fc: Literal[1, 2, 3, 4] | None = None
    address: int | None = Field(None, ge=0, le=0xFFFF)
    type: DataType = "uint16"
    order: WordOrder | None = Field(None, description="byte order; the device's `order` when unset")
    count: int | None = Field(None, ge=1, le=125, description="registers occupied; from `type` when unset")
    scale: float = 1.0
    offset: float = 0.0
    # DL/T 645: data identifier (4 hex bytes for 2007, 2 for 1997) or item name from drivers.dlt645's table,
    # which knows each item's length, decimals and sign.
    di: str | None = None
    # Serial text protocols: the field's index in a separated reply (0-based), or its regex group name.
    field: int | str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("lower_snake_case name expected, e.g. so2 or ai1")
        return v

    @field_validator("di")
    @classmethod
    def _di(cls, v: str | None) -> str | None:
        if v is not None and not (_DI.match(v) or _NAME.match(v)):
            raise ValueError("DI as 8 (2007) or 4 (1997) hex digits, or an item name like voltage_a, expected")
        return v

    @model_validator(mode="after")
    def _count(self) -> Self:
        if self.count is not None and self.type != "string" and self.count != WORDS[self.type]:
            raise ValueError(f"count: {self.type} takes {WORDS[self.type]} registers; count is only for strings")
        return self

    @property
    def words(self) -> int:
        return self.count if self.count is not None else WORDS[self.type]


def check_factor_code(code: str | None) -> str | None:
    """A point's factor code, when it has one, is shaped like an HJ 212 code (the profile's and the site's)."""
    if code is not None and not FACTOR_CODE.match(code):
        raise ValueError("HJ 212 factor code expected, e.g. a21026 or w01018")
    return code


def check_range(value: tuple[float, float] | None) -> None:
    """A measuring range, the profile's or the site's, is [low, high] with low < high (above high: flag T)."""
    if value is not None and not value[0] < value[1]:
        raise ValueError("range must be [low, high] with low < high")


class Point(_Register):
    """`[[points]]`: a measurement (`role = "value"`), a state register or the device clock."""

    role: Literal["value", "state", "clock", "part"] = Field(
        "value", description="value: reported; state: feeds a [state] table; clock: device time; part: used by others"
    )
    factor: str | None = Field(None, description="suggested HJ 212 factor code; the site config may remap it")
    range: tuple[float, float] | None = Field(None, description="[low, high] measuring range; above high → T")
    range_from: str | None = Field(None, description="point holding the analyzer's current upper range")
    sentinel: tuple[float, ...] = Field((), description="raw values (before scale) meaning 'no value' → flag D")
    signal: Literal["4-20mA"] | None = Field(None, description="value is a loop current, scaled over `range`")
    plus: tuple[str, ...] = Field((), description="points added to this one (integer total + fraction register)")
    unit_from: str | None = Field(None, description="point holding a unit code, looked up in `unit_codes`")
    unit_codes: dict[str, str] = Field({}, description="unit code (as text) → unit; unknown code → flag D")

    @field_validator("factor")
    @classmethod
    def _factor(cls, v: str | None) -> str | None:
        return check_factor_code(v)

    @model_validator(mode="after")
    def _range(self) -> Self:
        check_range(self.range)
        if self.signal == "4-20mA" and self.range is None:
            raise ValueError("a 4-20mA point needs `range` (the engineering value at 4 mA and at 20 mA)")
        return self


class StateRow(ProfileModel):
    """One line of a state table: a register value (or bit mask) → flag, 3020 state codes, text.

    `flag` may be left out for rows that only report (an alarm detail that does not invalidate data).
    """

    value: int | float | str | None = Field(None, description="enum value, float code or flag letter(s)")
    mask: int | None = Field(None, ge=1, description="row matches when any of these bits is set")
    flag: Flag | None = None
    info: dict[str, int] = Field({}, description="3020 state codes in this state, e.g. {i12001 = 7}")
    zh: str = ""
    en: str = ""

    @field_validator("info")
    @classmethod
    def _info(cls, v: dict[str, int]) -> dict[str, int]:
        for code in v:
            if not _INFO_CODE.match(code):
                raise ValueError(f"{code!r}: 3020 info code expected, e.g. i12001")
        return v

    @property
    def text(self) -> str:
        return " / ".join(t for t in (self.zh, self.en) if t)


class StateTable(ProfileModel):
    """`[state.<point>]`: how one state register maps to flags and state codes (devices.md §3)."""

    match: Literal["value", "mask"] = Field("value", description="value: equality; mask: any bit set")
    applies_to: tuple[str, ...] | None = Field(None, description="points this state flags; all values if unset")
    tolerance: float = Field(1e-4, ge=0, description="float state codes compare within this (devices.md §2.2)")
    rows: tuple[StateRow, ...]
    otherwise: StateRow | None = Field(None, description="used when no row matches; none → no effect")

    @model_validator(mode="after")
    def _rows(self) -> Self:
        for n, row in enumerate(self.rows):
            if self.match == "mask" and row.mask is None:
                raise ValueError(f"rows[{n}]: `mask` expected when match = 'mask'")
            if self.match == "value" and row.value is None:
                raise ValueError(f"rows[{n}]: `value` expected when match = 'value'")
        return self


SERIAL_NUMBER = "SN"
"""`[[info]]` code of the instrument's serial number: read like a parameter, uploaded with CN=3019 `<PolId>-SN`
(HJ 212-2017 C.39, on replacement) instead of 3020."""
_SN_TYPES = frozenset({"string", "uint16", "uint32", "uint64", "bcd16", "bcd32"})


# Types a 3021 value may be written as: numbers only (a text or a BCD time is not a parameter a platform sets).
WRITABLE_TYPES = frozenset({"int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"})


class InfoItem(_Register):
    """`[[info]]`: an analyzer parameter uploaded with CN=3020 (i13xxx: range, slope, digestion time …), or with
    `code = "SN"` the instrument's serial number (3019)."""

    code: str = Field(description='3020 info code, e.g. i13004 消解温度; or "SN", the serial number (3019)')
    writable: bool = Field(False, description="a platform may set it with 3021 (the register is written)")
    range: tuple[float, float] | None = Field(None, description="[low, high] a 3021 value must lie in (writable)")
    write_fc: Literal[6, 16] | None = Field(None, description="write function; 6 for one register, else 16")

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not (_INFO_CODE.match(v) or v == SERIAL_NUMBER):
            raise ValueError('3020 info code expected, e.g. i13004, or "SN" for the serial number')
        return v

    @model_validator(mode="after")
    def _serial_type(self) -> Self:
        if self.code == SERIAL_NUMBER and (self.type not in _SN_TYPES or self.scale != 1 or self.offset != 0):
            raise ValueError("SN: a string or unsigned integer register without scale/offset expected")
        return self

    @model_validator(mode="after")
    def _writable(self) -> Self:
        """A platform's 3021 reaches the analyzer only through an explicit, bounded entry: HJ 212 gives no limits
        for i13xxx values, so the profile must say which values the analyzer accepts."""
        check_range(self.range)
        if not self.writable:
            if self.range is not None or self.write_fc is not None:
                raise ValueError("range/write_fc: only for a writable item (writable = true)")
            return self
        if self.code == SERIAL_NUMBER or not self.code.startswith("i13"):
            raise ValueError("writable: only i13xxx parameters can be set by a platform (3021)")
        if self.type not in WRITABLE_TYPES:
            raise ValueError(f"writable: a numeric register type expected, not {self.type!r}")
        if self.range is None:
            raise ValueError("range: a writable item needs [low, high], the values the analyzer accepts")
        if self.fc not in (None, 3):
            raise ValueError("writable: only a holding register (fc = 3) can be written")
        if self.write_fc == 6 and self.words != 1:
            raise ValueError(f"write_fc: 6 writes one register; {self.type} takes {self.words}")
        return self

    @property
    def write_function(self) -> int:
        """Function code of a 3021 write: the profile's, else 6 (one register) or 16 (several)."""
        return self.write_fc or (6 if self.words == 1 else 16)


# Operations a platform starts (HJ 212-2017 C.29/C.30 3011/3012; 2025 3011 CalibrationType 0 zero / 1 span,
# 3022 sample retention, 3024 standard check). `calibration` is the analyzer's own full calibration, used for a
# 2017 3011 that names no type.
CommandKind = Literal[
    "zero_calibration", "span_calibration", "calibration", "measure_now", "standard_check", "sample_retain"
]
COMMAND_KINDS: tuple[str, ...] = CommandKind.__args__  # type: ignore[attr-defined]


class Command(ProfileModel):
    """`[[commands]]`: one register (fc 6/16) or coil (fc 5) write that starts an analyzer operation."""

    kind: CommandKind
    title: str = ""
    fc: Literal[5, 6, 16] = Field(description="5 write coil, 6 write register, 16 write registers")
    address: int = Field(ge=0, le=0xFFFF, description="wire (0-based) address")
    value: int | bool | tuple[int, ...] = Field(description="fc 6: 0..65535; fc 16: a list of them; fc 5: true/false")

    @model_validator(mode="after")
    def _value(self) -> Self:
        v = self.value
        if self.fc == 5:
            if not isinstance(v, bool):
                raise ValueError("value: true or false expected for a coil (fc 5)")
        elif self.fc == 6:
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 0xFFFF:
                raise ValueError("value: one register value 0..65535 expected for fc 6")
        else:
            words = (v,) if isinstance(v, int) and not isinstance(v, bool) else v
            if not isinstance(words, tuple) or not 1 <= len(words) <= 123:
                raise ValueError("value: 1..123 register values expected for fc 16")
            if any(isinstance(w, bool) or not 0 <= w <= 0xFFFF for w in words):
                raise ValueError("value: register values 0..65535 expected for fc 16")
            if self.address + len(words) > 0x10000:
                raise ValueError("address: the registers written run past 65535")
        return self

    @property
    def words(self) -> tuple[int, ...]:
        """The register values written (fc 6/16)."""
        v = self.value
        return v if isinstance(v, tuple) else (int(v),)


class StandardCheck(ProfileModel):
    """`[standard_check]`: which `[[info]]` codes hold the analyzer's automatic standard-check result, for the 2062
    upload (HJ 212-2025 C59: DataTime = check start, SampleRd measured, StandardValue nominal, ResultType 1/0).

    The verdict comes from a result register, or from the deviation against the profile's `limit` (%); the
    standard value from its register or from measured and deviation. Without enough of them no 2062 is sent:
    nothing is made up."""

    time: str = Field(description="info code of the check time; a new time is a new result")
    measured: str = Field(description="info code of the value measured on the standard")
    standard: str | None = Field(None, description="info code of the standard's nominal value")
    deviation: str | None = Field(None, description="info code of the relative deviation, %")
    result: str | None = Field(None, description="info code of the verdict: 1 pass, 0 fail")
    limit: float | None = Field(None, gt=0, description="pass when |deviation| ≤ limit % (no result register)")

    @model_validator(mode="after")
    def _enough(self) -> Self:
        if self.standard is None and self.deviation is None:
            raise ValueError("standard or deviation expected (the 2062 StandardValue)")
        if self.result is None and self.limit is None:
            raise ValueError("result or limit expected (the 2062 ResultType)")
        return self

    def codes(self) -> tuple[str, ...]:
        return tuple(c for c in (self.time, self.measured, self.standard, self.deviation, self.result) if c)


class Profile(ProfileModel):
    """A whole profile file; cross-references between sections are checked once, at load."""

    device: DeviceSection
    points: tuple[Point, ...]
    state: dict[str, StateTable] = {}
    info: tuple[InfoItem, ...] = ()
    commands: tuple[Command, ...] = ()
    standard_check: StandardCheck | None = None
    serialtext: dict[str, Any] | None = Field(
        None, description="serial text protocol (drivers.serialtext.TextSpec keys except fields); fields = points"
    )

    @model_validator(mode="after")
    def _links(self) -> Self:
        if not any(p.role == "value" for p in self.points):
            raise ValueError("points: at least one point with role = 'value' expected")
        names: dict[str, str] = {}
        for where, items in (("points", self.points), ("info", self.info)):
            for n, item in enumerate(items):
                if item.name in names:
                    raise ValueError(f"{where}[{n}].name: {item.name!r} already used in {names[item.name]}")
                names[item.name] = f"{where}[{n}]"
                _check_protocol(self.device.protocol, item, f"{where}[{n}]")
        by_name = {p.name: p for p in self.points}
        values = {p.name for p in self.points if p.role == "value"}
        for p in self.points:
            if p.range_from is not None and p.range_from not in names:
                raise ValueError(f"{names[p.name]}.range_from: no point or info named {p.range_from!r}")
            for other in p.plus:
                if other not in by_name or other == p.name:
                    raise ValueError(f"{names[p.name]}.plus: no other point named {other!r}")
            if p.unit_from is not None:
                if p.unit_from not in by_name:
                    raise ValueError(f"{names[p.name]}.unit_from: no point named {p.unit_from!r}")
                if not p.unit_codes:
                    raise ValueError(f"{names[p.name]}.unit_codes: a table of unit codes expected with unit_from")
        for key, table in self.state.items():
            if key not in by_name or by_name[key].role != "state":
                raise ValueError(f"state.{key}: a point named {key!r} with role = 'state' expected")
            for target in table.applies_to or ():
                if target not in values:
                    raise ValueError(f"state.{key}.applies_to: {target!r} is not a value point")
        for p in self.points:
            if p.role == "state" and p.name not in self.state:
                raise ValueError(f"{names[p.name]}: state point {p.name!r} has no [state.{p.name}] table")
        kinds = [c.kind for c in self.commands]
        for kind in set(kinds):
            if kinds.count(kind) > 1:
                raise ValueError(f"commands: {kind!r} given {kinds.count(kind)} times (one write per operation)")
        if self.standard_check is not None:
            codes = {i.code for i in self.info}
            for code in self.standard_check.codes():
                if code not in codes:
                    raise ValueError(f"standard_check: no [[info]] with code {code!r}")
        if self.device.protocol != "modbus" and (self.commands or any(i.writable for i in self.info)):
            raise ValueError("commands/writable: register writes need protocol = 'modbus'")
        if sum(p.role == "clock" for p in self.points) > 1:
            raise ValueError("points: at most one point with role = 'clock'")
        if (self.device.protocol == "serialtext") != (self.serialtext is not None):
            raise ValueError("serialtext: a [serialtext] table goes with protocol = 'serialtext', and only there")
        if self.serialtext is not None:
            try:
                self.text_spec()
            except ValueError as err:
                raise ValueError(f"serialtext: {err}") from err
        return self

    def text_spec(self, address: str = "01") -> Any:
        """The `drivers.serialtext.TextSpec` of a serialtext profile; `{address}` in the request is substituted."""
        from drivers.serialtext.spec import TextSpec

        data = dict(self.serialtext or {})
        if "fields" in data:
            raise ValueError("fields: give the values as [[points]] with `field`, not inside [serialtext]")
        data["request"] = str(data.get("request", "")).replace("{address}", address)
        data["fields"] = [
            {
                "name": p.name,
                "unit": p.unit,
                "scale": p.scale,
                "offset": p.offset,
                **({"index": p.field} if isinstance(p.field, int) else {"group": p.field}),
            }
            for p in (*self.points, *self.info)
            if p.field is not None
        ]
        return TextSpec.from_mapping(data)

    def values(self) -> tuple[Point, ...]:
        """The measurement points, in file order."""
        return tuple(p for p in self.points if p.role == "value")

    def command(self, kind: str) -> Command | None:
        """The write that starts `kind`, or None when this analyzer cannot be asked for it."""
        return next((c for c in self.commands if c.kind == kind), None)

    def info_item(self, code: str) -> InfoItem | None:
        return next((i for i in self.info if i.code == code), None)

    def point(self, name: str) -> Point:
        for p in self.points:
            if p.name == name:
                return p
        raise KeyError(name)


def _check_protocol(protocol: str, item: _Register, where: str) -> None:
    """Each protocol needs its own address keys; a key of another protocol is a mistake, not a no-op."""
    if protocol == "modbus":
        if item.fc is None or item.address is None:
            raise ValueError(f"{where}: `fc` and `address` expected for a modbus device")
        if item.di is not None or item.field is not None:
            raise ValueError(f"{where}: `di`/`field` belong to dlt645/serialtext devices, not modbus")
        if item.fc in (1, 2) and item.type != "bool":
            raise ValueError(f"{where}.type: 'bool' expected for fc {item.fc} (coils / discrete inputs)")
    elif protocol == "dlt645":
        if item.di is None:
            raise ValueError(f"{where}: `di` expected for a dlt645 device")
        if item.fc is not None or item.address is not None or item.field is not None:
            raise ValueError(f"{where}: `fc`/`address`/`field` do not apply to a dlt645 device")
    elif protocol == "serialtext":
        if item.field is None:
            raise ValueError(f"{where}: `field` expected for a serialtext device")
        if item.fc is not None or item.address is not None or item.di is not None:
            raise ValueError(f"{where}: `fc`/`address`/`di` do not apply to a serialtext device")
