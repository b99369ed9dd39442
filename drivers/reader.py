"""Read a device through its profile: values with unit, HJ 212 flag, device time, raw registers, 3020 codes.

`ProfiledDevice.read()` never raises for device trouble: a failed read is flag B with no value, a sentinel or
broken 4–20 mA loop is flag D with no value, and the analyzer's state registers flag everything they govern
(drivers.profiles.state). Nothing here invents a value: `value` is None whenever the device did not give one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from agent.model import Reading
from drivers.errors import DriverError, InvalidValue
from drivers.flags import CurrentLoop, range_flag, worst
from drivers.link import LinkRegistry
from drivers.profiles.config import DeviceConfig, DevicesConfig, PointOverride, SerialLinkConfig, TcpLinkConfig
from drivers.profiles.schema import Command, InfoItem, Point, Profile
from drivers.profiles.state import evaluate_states

__all__ = [
    "Dlt645Source",
    "ModbusSource",
    "PointReading",
    "ProfiledDevice",
    "RawResult",
    "SerialTextSource",
    "Source",
    "build_devices",
    "decode_bcd_datetime",
]

InfoValue = int | float | str


@dataclass(frozen=True, slots=True)
class RawResult:
    """What the protocol layer gave for one register item: a decoded value, the raw words/bytes, or an error."""

    value: float | int | str | bool | datetime | None
    raw: tuple[int, ...] = ()
    error: DriverError | None = None


class Source(Protocol):
    """Reads every register item of a profile in as few requests as the protocol allows."""

    async def read_items(self, items: Sequence[Point | InfoItem]) -> dict[str, RawResult]: ...


@dataclass(frozen=True, slots=True)
class PointReading:
    """One reported point of one read. `info` (i12xxx/i13xxx → value) is the device's, shared by its points."""

    device: str
    point: str
    title: str
    factor: str | None
    value: float | None
    unit: str
    flag: str
    device_time: datetime | None = None
    raw: tuple[int, ...] = ()
    info: Mapping[str, InfoValue] = field(default_factory=dict)
    note: str = ""
    """Why the flag is not N, in words (state text, error), for `das read` and logs."""

    def to_reading(self, time: datetime) -> Reading | None:
        """The shared `agent.model.Reading`; None when the point has no factor code to report under."""
        if self.factor is None:
            return None
        return Reading(
            device=self.device,
            factor=self.factor,
            time=time,
            value=self.value,
            unit=self.unit,
            flag=self.flag,
            device_time=self.device_time,
            raw=self.raw,
        )


def decode_bcd_datetime(words: Sequence[int]) -> datetime:
    """3 registers of packed BCD YYMMDDhhmmss (devices.md §2.3, Focused Photonics COD calibration times)."""
    digits = "".join(f"{w:04X}" for w in words)
    if len(digits) != 12 or not digits.isdigit():
        raise InvalidValue(f"{digits} is not a BCD date-time YYMMDDhhmmss / 非BCD时间")
    try:
        return datetime(
            2000 + int(digits[0:2]),
            int(digits[2:4]),
            int(digits[4:6]),
            int(digits[6:8]),
            int(digits[8:10]),
            int(digits[10:12]),
        )
    except ValueError as err:
        raise InvalidValue(f"{digits} is not a valid date-time / 时间无效") from err


class ModbusSource:
    """Profile register items → `drivers.modbus.PointSpec`s, read in planned blocks by a `ModbusDevice`."""

    def __init__(self, device: object, profile: Profile) -> None:
        from drivers.modbus import PointSpec

        self.device = device
        self._specs: dict[str, PointSpec] = {}
        self._bcd_time: set[str] = set()
        for item in (*profile.points, *profile.info):
            dtype = item.type
            count = None
            if dtype == "bcd_datetime":
                dtype, count = "string", 3  # raw words wanted; decoded here
                self._bcd_time.add(item.name)
            elif dtype == "string":
                count = item.count or 1
            sentinels = item.sentinel if isinstance(item, Point) else ()
            self._specs[item.name] = PointSpec(
                name=item.name,
                address=item.address or 0,
                function=item.fc or 3,
                dtype=dtype,
                order=item.order or profile.device.order,
                count=count,
                scale=item.scale,
                offset=item.offset,
                sentinels=sentinels,
            )

    async def read_items(self, items: Sequence[Point | InfoItem]) -> dict[str, RawResult]:
        specs = [self._specs[i.name] for i in items]
        results = await self.device.read_points(specs)  # type: ignore[attr-defined]
        out: dict[str, RawResult] = {}
        for name, r in results.items():
            if r.error is not None:
                out[name] = RawResult(None, r.raw, r.error)
            elif name in self._bcd_time:
                try:
                    out[name] = RawResult(decode_bcd_datetime(r.raw), r.raw)
                except InvalidValue as err:
                    out[name] = RawResult(None, r.raw, err)
            elif isinstance(r.value, float) and self._specs[name].dtype == "float32":
                out[name] = RawResult(float(f"{r.value:.7g}"), r.raw)  # float32 carries ~7 digits, not 17
            else:
                out[name] = RawResult(r.value, r.raw)
        return out

    async def write_item(self, item: InfoItem, value: float) -> None:
        """3021: the parameter's engineering value through its scale/offset/type/order into its registers."""
        spec = self._specs[item.name]
        words = spec.encode(value)  # ValueError: the value does not fit the register
        fc = item.write_function
        await self.device.write(fc, spec.address, words[0] if fc == 6 else words)  # type: ignore[attr-defined]

    async def write_command(self, command: Command) -> None:
        """The register/coil write that starts an analyzer operation ([[commands]])."""
        value: bool | int | tuple[int, ...]
        value = bool(command.value) if command.fc == 5 else command.words[0] if command.fc == 6 else command.words
        await self.device.write(command.fc, command.address, value)  # type: ignore[attr-defined]


class Dlt645Source:
    """Profile items (by DI) read one by one from a `drivers.dlt645.Dlt645Meter`; raw is the reply's bytes."""

    def __init__(self, meter: object) -> None:
        self.meter = meter

    async def read_items(self, items: Sequence[Point | InfoItem]) -> dict[str, RawResult]:
        out: dict[str, RawResult] = {}
        for item in items:
            result = await self.meter.read(item.di)  # type: ignore[attr-defined]
            if result.error is not None:
                out[item.name] = RawResult(None, tuple(result.raw), result.error)
            else:
                value = result.value * item.scale + item.offset
                out[item.name] = RawResult(value, tuple(result.raw))
        return out


class SerialTextSource:
    """Profile fields read with one request from a `drivers.serialtext.SerialTextDevice` (scale applied there)."""

    def __init__(self, device: object) -> None:
        self.device = device

    async def read_items(self, items: Sequence[Point | InfoItem]) -> dict[str, RawResult]:
        results = await self.device.read()  # type: ignore[attr-defined]
        return {r.name: RawResult(r.value, tuple(r.raw), r.error) for r in results}


def _is_comm(error: DriverError | None) -> bool:
    """Errors of the link or the conversation (flag B), as opposed to a value the device marked unusable (D)."""
    return error is not None and not isinstance(error, InvalidValue)


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


class ProfiledDevice:
    """A device as the agent sees it: a profile, a source on a link, and the site's point settings."""

    def __init__(self, name: str, profile: Profile, source: Source, config: DeviceConfig | None = None) -> None:
        self.name = name
        self.profile = profile
        self.source = source
        self.config = config
        self._items: tuple[Point | InfoItem, ...] = (*profile.points, *profile.info)
        self.last_error: DriverError | None = None

    @property
    def writable(self) -> bool:
        """Whether this device's source can write registers (Modbus); others answer 3021/3011 … with None."""
        return hasattr(self.source, "write_command")

    async def write_info(self, item: InfoItem, value: float) -> None:
        """Write one `writable` parameter; DriverError from the link, ValueError when the value cannot be encoded."""
        await self.source.write_item(item, value)  # type: ignore[attr-defined]

    async def send_command(self, command: Command) -> None:
        """Start an operation of the profile's `[[commands]]`; DriverError when the device did not take it."""
        await self.source.write_command(command)  # type: ignore[attr-defined]

    def override(self, point: str) -> PointOverride:
        return self.config.override(point) if self.config is not None else PointOverride()

    async def read(self) -> list[PointReading]:
        """One poll: every reported point, in profile order, flagged."""
        raw = await self.source.read_items(self._items)
        return self.evaluate(raw)

    def evaluate(self, raw: Mapping[str, RawResult]) -> list[PointReading]:
        """Turn one poll's raw results into flagged readings (pure: tested without a bus)."""
        profile = self.profile
        errors = [r.error for r in raw.values() if _is_comm(r.error)]
        self.last_error = errors[0] if errors else None
        all_failed = bool(raw) and all(_is_comm(r.error) for r in raw.values())

        state_values = {key: raw[key].value if key in raw and raw[key].error is None else None for key in profile.state}
        outcome = evaluate_states(profile, state_values)  # type: ignore[arg-type]
        # A state register that could not be read leaves the values it governs unjudged: flag them B.
        state_lost: dict[str, str] = {}
        for key, table in profile.state.items():
            r = raw.get(key)
            if r is not None and r.error is not None:
                for target in table.applies_to or [p.name for p in profile.values()]:
                    state_lost[target] = f"{key}: {r.error}"

        info: dict[str, InfoValue] = dict(outcome.info)
        for item in profile.info:
            r = raw.get(item.name)
            if r is None or r.error is not None or r.value is None:
                continue
            if isinstance(r.value, datetime):
                info[item.code] = r.value.strftime("%Y%m%d%H%M%S")  # HJ 212 B.10 time format
            elif isinstance(r.value, bool):
                info[item.code] = int(r.value)
            else:
                info[item.code] = r.value  # type: ignore[assignment]
        info["i12002"] = 1 if errors else 0  # 分析仪与数采仪通讯状态 (regs.md §4.2)

        clock = next((p for p in profile.points if p.role == "clock"), None)
        device_time = None
        if clock is not None and isinstance(raw.get(clock.name, RawResult(None)).value, datetime):
            device_time = raw[clock.name].value  # type: ignore[assignment]

        state_note = "; ".join(outcome.texts)
        out: list[PointReading] = []
        for point in profile.values():
            override = self.override(point.name)
            if not override.report:
                continue
            reading = self._point(point, override, raw, outcome.flags[point.name], all_failed)
            if point.name in state_lost and reading.flag != "B":
                reading = _replace(reading, flag="B", note=f"状态读取失败 / state not read: {state_lost[point.name]}")
            elif reading.flag == outcome.flags[point.name] != "N" and not reading.note:
                reading = _replace(reading, note=state_note)
            out.append(_replace(reading, device_time=device_time, info=info))
        return out

    def _point(
        self, point: Point, override: PointOverride, raw: Mapping[str, RawResult], state_flag: str, all_failed: bool
    ) -> PointReading:
        unit = override.unit if override.unit is not None else point.unit
        base = PointReading(
            device=self.name,
            point=point.name,
            title=override.title or point.title or point.name,
            factor=override.factor if override.factor is not None else point.factor,
            value=None,
            unit=unit,
            flag="B",
        )
        r = raw.get(point.name, RawResult(None, (), None))
        words = tuple(r.raw)
        parts = [raw.get(name, RawResult(None)) for name in point.plus]
        for part in parts:
            words += tuple(part.raw)
        failed = [x.error for x in (r, *parts) if _is_comm(x.error)]
        if all_failed or failed:
            why = failed[0] if failed else self.last_error
            return _replace(base, raw=words, note=f"通讯失败 / communication failed: {why}")
        invalid = [x.error for x in (r, *parts) if x.error is not None]
        if invalid:
            return _replace(base, flag="D", raw=words, note=f"无效值 / invalid value: {invalid[0]}")

        value = _number(r.value)
        if value is None:
            return _replace(base, flag="D", raw=words, note=f"无效值 / not a number: {r.value!r}")
        for part in parts:
            extra = _number(part.value)
            if extra is None:
                return _replace(base, flag="D", raw=words, note="无效值 / invalid fraction register")
            value += extra

        flags = [state_flag]
        note = ""
        if point.unit_from is not None:
            code = raw.get(point.unit_from, RawResult(None))
            code_number = _number(code.value)
            key = str(int(code_number)) if code_number is not None else None
            if _is_comm(code.error):
                return _replace(base, raw=words, note=f"单位读取失败 / unit code not read: {code.error}")
            if key is None or key not in point.unit_codes:
                return _replace(base, flag="D", raw=words, note=f"未知单位代码 / unknown unit code {code.value!r}")
            unit = override.unit if override.unit is not None else point.unit_codes[key]

        rng = override.range or point.range
        if point.signal == "4-20mA":
            assert rng is not None  # the schema requires a range for 4-20mA points
            loop = CurrentLoop(*rng).convert(value)
            if loop.value is None:
                return _replace(
                    base,
                    flag="D",
                    unit=unit,
                    raw=words,
                    note=f"回路故障 / loop fault: {loop.milliamps:.2f} mA (NAMUR NE 43: ≤3.6 or ≥21 mA)",
                )
            value = loop.value
            flags.append(loop.flag)
            if loop.flag == "T":
                note = f"超量程 / above range: {loop.milliamps:.2f} mA"
        else:
            upper = rng[1] if rng is not None else None
            if point.range_from is not None:
                dynamic = _number(raw.get(point.range_from, RawResult(None)).value)
                if dynamic is not None and dynamic > 0:
                    upper = dynamic
            flags.append(range_flag(value, upper))
            if flags[-1] == "T":
                note = f"超量程 / above range {upper:g}"
        return _replace(base, value=value, unit=unit, flag=worst(flags), raw=words, note=note)


def _replace(reading: PointReading, **changes: object) -> PointReading:
    from dataclasses import replace

    return replace(reading, **changes)  # type: ignore[arg-type]


def build_devices(
    config: DevicesConfig, profiles: Mapping[str, Profile], registry: LinkRegistry
) -> dict[str, ProfiledDevice]:
    """Devices of a loaded config on the registry's link owners (one owner per port or host:port).

    A serial link's unset line settings come from the profile of the first device on it (e.g. 2400 8E1 for a
    DL/T 645 meter); devices sharing the link must agree, which the registry checks.
    """
    from drivers.dlt645 import Dlt645Meter, MeterParams
    from drivers.link import DeviceTiming, SerialParams, TcpParams
    from drivers.modbus import ModbusDevice

    params: dict[str, SerialParams | TcpParams] = {}
    for name, device in config.devices.items():
        if device.link in params:
            continue
        link = config.links[device.link]
        defaults = profiles[name].device.link
        if isinstance(link, SerialLinkConfig):
            params[device.link] = SerialParams(
                port=link.port,
                baudrate=link.baud or defaults.baud,
                parity=link.parity or defaults.parity,
                stopbits=link.stopbits or defaults.stopbits,
                bytesize=link.bytesize or defaults.bytesize,
                gap=link.gap,
            )
        else:
            params[device.link] = TcpParams(host=link.host, port=link.port, gap=link.gap)

    out: dict[str, ProfiledDevice] = {}
    for name, device in config.devices.items():
        profile = profiles[name]
        link = config.links[device.link]
        owner = registry.get(params[device.link])
        owner.set_device(name, DeviceTiming(timeout=device.timeout, retries=device.retries))
        source: Source
        if profile.device.protocol == "modbus":
            framing = link.framing if isinstance(link, TcpLinkConfig) else "rtu"
            unit = device.unit if device.unit is not None else profile.device.unit_id
            source = ModbusSource(ModbusDevice(owner, unit, framing=framing, key=name), profile)
        elif profile.device.protocol == "dlt645":
            meter = Dlt645Meter(
                owner, MeterParams(address=device.address or "", version=profile.device.edition, device=name)
            )
            source = Dlt645Source(meter)
        else:
            from drivers.serialtext.device import SerialTextDevice

            spec = profile.text_spec(device.address or "01")
            source = SerialTextSource(SerialTextDevice(owner, spec, device=name))
        out[name] = ProfiledDevice(name, profile, source, device)
    return out
