"""The minimal devices config: physical links and the devices on them, each naming a profile.

The agent's full configuration (a later issue) embeds `DevicesConfig` as its `[links]`/`[devices]` part, so
this model stays free of anything agent-specific. `docs/profiles.md` documents every key; example:

    [links.rs485_1]
    type = "serial"
    port = "/dev/ttyS1"

    [devices.cems]
    profile = "cems_sick_mcs100ft"        # built-in name, or a path to your own .toml
    link = "rs485_1"
    unit = 1
    points.so2 = { range = [0, 300] }     # site range for flag T
    points.nh3 = "a21001"                 # report this point as factor a21001
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from drivers.profiles.loader import DEVICES_KEYS, ProfileError, parse_model, resolve_profile
from drivers.profiles.schema import Profile, check_factor_code, check_range

__all__ = ["DeviceConfig", "DevicesConfig", "PointOverride", "SerialLinkConfig", "TcpLinkConfig", "load_devices_config"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SerialLinkConfig(_Model):
    """An RS-485/RS-232 port; unset line settings come from the profile of the first device on it."""

    type: Literal["serial"]
    port: str = Field(description="串口 / device path, e.g. /dev/ttyS1 or /dev/serial/by-id/…")
    baud: int | None = Field(None, gt=0)
    parity: Literal["N", "E", "O"] | None = None
    stopbits: Literal[1, 2] | None = None
    bytesize: Literal[7, 8] | None = None
    gap: float | None = Field(None, ge=0, le=2, description="silence between frames, s (default Modbus t3.5)")


class TcpLinkConfig(_Model):
    """A Modbus TCP device/gateway (framing tcp) or a serial server / 4G DTU passing RTU frames (framing rtu)."""

    type: Literal["tcp"]
    host: str
    port: int = Field(502, gt=0, lt=65536)
    framing: Literal["tcp", "rtu"] = Field("tcp", description="tcp: MBAP; rtu: RTU frames over TCP (DTU)")
    gap: float = Field(0.0, ge=0, le=2)


LinkConfig = Annotated[SerialLinkConfig | TcpLinkConfig, Field(discriminator="type")]


class PointOverride(_Model):
    """Site settings of one profile point: which factor it is, its real range and unit."""

    factor: str | None = Field(None, description="HJ 212 factor code reported for this point")
    unit: str | None = None
    range: tuple[float, float] | None = Field(None, description="[low, high]: T above high; 4-20 mA scaling")
    title: str | None = None
    report: bool = Field(True, description="false: read but do not report (e.g. an unused AI channel)")

    @field_validator("factor")
    @classmethod
    def _factor(cls, v: str | None) -> str | None:
        return check_factor_code(v)

    @model_validator(mode="after")
    def _range(self) -> Self:
        check_range(self.range)
        return self


class DeviceConfig(_Model):
    """One device: its profile, the link it is on and its address there."""

    profile: str = Field(description="built-in profile name, or a path to a .toml file (relative to this file)")
    link: str
    unit: int | None = Field(None, ge=1, le=255, description="Modbus unit id (default: the profile's unit_id)")
    address: str | None = Field(
        None, description="DL/T 645 meter address (12 digits), or a serial text device's address (DCON: 01)"
    )
    timeout: float = Field(1.0, gt=0, le=60, description="reply timeout, s")
    retries: int = Field(1, ge=0, le=5)
    points: dict[str, str | PointOverride] = Field({}, description="point → factor code, or a table of settings")

    def override(self, point: str) -> PointOverride:
        value = self.points.get(point)
        if value is None:
            return PointOverride()
        if isinstance(value, str):
            return PointOverride(factor=value)
        return value


class DevicesConfig(_Model):
    """`[links.<name>]` and `[devices.<name>]`; names are what `das read NAME` takes."""

    links: dict[str, LinkConfig]
    devices: dict[str, DeviceConfig]

    @model_validator(mode="after")
    def _refs(self) -> Self:
        for name in [*self.links, *self.devices]:
            if not _NAME.match(name):
                raise ValueError(f"{name!r}: names use letters, digits, _ . - (no spaces)")
        for name, device in self.devices.items():
            if device.link not in self.links:
                known = ", ".join(self.links) or "none"
                raise ValueError(f"devices.{name}.link: no link named {device.link!r} (links: {known})")
        return self


def load_devices_config(path: str | Path) -> tuple[DevicesConfig, dict[str, Profile]]:
    """Load and check a devices config and every profile it names; errors name the file and the key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ProfileError(str(path), [f"cannot read file: {err}"]) from err
    config = parse_model(DevicesConfig, text, str(path), keys=DEVICES_KEYS)
    profiles: dict[str, Profile] = {}
    problems: list[str] = []
    for name, device in config.devices.items():
        try:
            profile = resolve_profile(device.profile, base=path.parent)
        except ProfileError as err:
            problems.append(f"devices.{name}.profile: {err}")
            continue
        profiles[name] = profile
        known = {p.name for p in profile.points}
        for point in device.points:
            if point not in known:
                problems.append(f"devices.{name}.points.{point}: profile {profile.device.name} has no such point")
        if profile.device.protocol == "dlt645" and device.address is None:
            problems.append(f"devices.{name}.address: a DL/T 645 meter address (12 digits) expected")
        if profile.device.protocol == "modbus" and device.address is not None:
            problems.append(f"devices.{name}.address: only for DL/T 645 meters; Modbus devices use `unit`")
        link = config.links[device.link]
        if profile.device.protocol != "modbus" and isinstance(link, TcpLinkConfig) and link.framing == "tcp":
            problems.append(f"devices.{name}.link: {profile.device.protocol} needs a serial link or framing = 'rtu'")
    if problems:
        raise ProfileError(str(path), problems)
    return config, profiles
