"""Pure builders from a loaded `SiteConfig` to the parameters each package runs on (what `das run` calls).

- `link_params`: driver parameters per link; `devices_config` + `device_readers`: the profiled devices;
- `reading_routes`: which outlet factor each device point feeds (device, point) → (outlet, code);
- `outlet_params`: `OutletParams` per outlet for the statistics engine;
- `power_points`: per outlet, the meter points sent as HJ 212-2025 ST=44 electricity data, and how often;
- `platform_settings` / `session_settings` / `mqtt_settings`: the uplink's models, secrets in clear text;
- `das_identity`: the DAS's HJ 212-2025 identity (i23005-i23008) for 1001/1002, when `[site]` gives one;
- `retention_policy`, `store_path`.

Nothing here does I/O except `device_readers`, which only creates link owners (no port is opened).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError

from agent.config.checks import link_params as _link_params
from agent.config.errors import Problem, problems_from_validation
from agent.config.locate import KeyPath
from agent.config.model import SiteConfig
from agent.stats.params import OutletKind, OutletParams
from buffer.retention import RetentionPolicy
from drivers.link import LinkRegistry, SerialParams, TcpParams
from drivers.profiles.config import DeviceConfig, DevicesConfig, PointOverride
from drivers.reader import ProfiledDevice, build_devices
from uplink.commands import DasIdentity
from uplink.mqtt.settings import MqttSettings
from uplink.settings import PlatformSettings, target_name

__all__ = [
    "PowerPlan",
    "Route",
    "das_identity",
    "device_readers",
    "devices_config",
    "link_params",
    "mqtt_settings",
    "outlet_params",
    "platform_settings",
    "power_points",
    "reading_routes",
    "retention_policy",
    "session_settings",
    "store_path",
    "uplink_problems",
]

# HJ 212-2017 Table 5 system codes: 31 废气 (gas sources), 32 废水 (water sources).
_ST = {OutletKind.GAS: "31", OutletKind.WATER: "32"}


@dataclass(frozen=True, slots=True)
class Route:
    """A device point's reading goes to `outlet` as factor (or equipment source) `code`."""

    outlet: str
    code: str
    equipment: bool = False


@dataclass(frozen=True, slots=True)
class PowerPlan:
    """ST=44 data of one outlet: (device, d-code its readings are stored under, decimals) per point, every
    `interval_s` seconds, to the sessions of `platforms` (HJ 212-2025 only, checked at load)."""

    interval_s: int
    points: tuple[tuple[str, str, int], ...]
    platforms: tuple[str, ...]

    @property
    def devices(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(device for device, _, _ in self.points))


def _power_code(config: SiteConfig, device: str, point: str) -> str | None:
    ref = f"{device}.{point}"
    return next((p.code for o in config.outlets.values() if o.power for p in o.power.points if p.point == ref), None)


def power_points(config: SiteConfig) -> dict[str, PowerPlan]:
    """Outlet → its `[outlets.<id>.power]` as a plan; the interval defaults to the shortest RtdInterval of the
    platforms it goes to (what each of them gets as real-time data)."""
    out: dict[str, PowerPlan] = {}
    for oid, outlet in config.outlets.items():
        power = outlet.power
        if power is None:
            continue
        interval = power.interval_s
        if interval is None:
            known = [_platform_data(config, n)["rtd_interval"] for n in power.platforms if n in config.platforms]
            interval = int(min(known)) if known else int(outlet.rtd_interval)
        points = tuple((p.point.rpartition(".")[0], p.code, p.decimals) for p in power.points)
        out[oid] = PowerPlan(interval, points, tuple(power.platforms))
    return out


def link_params(config: SiteConfig) -> dict[str, SerialParams | TcpParams]:
    """Driver parameters of each link (unset serial line settings from its devices' profiles)."""
    params, problems = _link_params(config, config.profiles)
    if problems:  # load_config refuses such a file; a hand-built SiteConfig may still get here
        raise ValueError("; ".join(p.render(config.source or "config") for p in problems))
    return params


def _point_code(config: SiteConfig, device: str, point: str) -> str | None:
    override = config.devices[device].override(point)
    if override.factor is not None:
        return override.factor
    power = _power_code(config, device, point)
    if power is not None:  # a meter point sent as ST=44 data is stored under its d-code (equipment reads it too)
        return power
    profile = config.profiles.get(device)
    return next((p.factor for p in profile.values() if p.name == point), None) if profile else None


def reading_routes(config: SiteConfig) -> dict[tuple[str, str], tuple[Route, ...]]:
    """(device, point) → where its readings go. A point may feed several outlets (e.g. an ambient pressure)."""
    routes: dict[tuple[str, str], list[Route]] = {}
    for oid, outlet in config.outlets.items():
        for factor in outlet.factors:
            device, _, point = factor.point.rpartition(".")
            routes.setdefault((device, point), []).append(Route(oid, factor.code))
        for eq in outlet.equipment:
            device, _, point = eq.point.rpartition(".")
            routes.setdefault((device, point), []).append(Route(oid, _equipment_source(config, eq), equipment=True))
    return {k: tuple(v) for k, v in routes.items()}


def _equipment_source(config: SiteConfig, eq: Any) -> str:
    if eq.source:
        return str(eq.source)
    device, _, point = eq.point.rpartition(".")
    return _point_code(config, device, point) or str(eq.code)


def devices_config(config: SiteConfig) -> DevicesConfig:
    """The profiles package's devices config; points an outlet maps get that factor code (a power point its
    ST=44 d-code), so `das read` and the readings agree with the outlets."""
    devices: dict[str, DeviceConfig] = {}
    codes: dict[tuple[str, str], str] = {}
    for oid_power in config.outlets.values():
        for p in oid_power.power.points if oid_power.power else ():
            device, _, point = p.point.rpartition(".")
            codes[(device, point)] = p.code
    for key, routes in reading_routes(config).items():
        first = next((r for r in routes if not r.equipment), None)
        if first is not None:
            codes[key] = first.code
    for name, device in config.devices.items():
        points: dict[str, str | PointOverride] = dict(device.points)
        for (dev, point), code in codes.items():
            if dev != name:
                continue
            override = device.override(point)
            if override.factor is None:
                points[point] = override.model_copy(update={"factor": code})
        devices[name] = device.model_copy(update={"points": points})
    return DevicesConfig(links=dict(config.links), devices=devices)


def device_readers(config: SiteConfig, registry: LinkRegistry) -> dict[str, ProfiledDevice]:
    """Every device as a `ProfiledDevice` on the registry's link owners (ports open on first use)."""
    return build_devices(devices_config(config), config.profiles, registry)


def outlet_params(config: SiteConfig) -> dict[str, OutletParams]:
    """Statistics parameters per outlet; a factor without its own `range` takes its device point's range."""
    out: dict[str, OutletParams] = {}
    for oid, outlet in config.outlets.items():
        factors = []
        for factor in outlet.factors:
            if factor.range is None:
                device, _, point = factor.point.rpartition(".")
                rng = config.devices[device].override(point).range
                profile = config.profiles.get(device)
                if rng is None and profile is not None:
                    rng = next((p.range for p in profile.values() if p.name == point), None)
                if rng is not None:
                    factor = factor.model_copy(update={"range": rng})
            factors.append(factor)
        sources = {eq.code: _equipment_source(config, eq) for eq in outlet.equipment}
        out[oid] = outlet.model_copy(update={"factors": tuple(factors)}).params(sources)
    return out


def _plain(model: BaseModel) -> dict[str, Any]:
    data = model.model_dump()
    for key, value in data.items():
        if isinstance(value, SecretStr):
            data[key] = value.get_secret_value()
    return data


def _platform_data(config: SiteConfig, name: str) -> dict[str, Any]:
    table = config.platforms[name]
    data = _plain(table)
    outlets = [config.outlets[o] for o in table.mns if o in config.outlets]
    for key in ("min_interval", "rtd_interval"):
        values = {getattr(o, key) for o in outlets}
        if key not in table.model_fields_set and len(values) == 1:
            data[key] = values.pop()
    kinds = {o.kind for o in outlets}
    if "st" not in table.model_fields_set and len(kinds) == 1:
        data["st"] = _ST[kinds.pop()]
    return {"name": name, **data}


def platform_settings(config: SiteConfig) -> dict[str, PlatformSettings]:
    """One `PlatformSettings` per platform. Intervals default to its outlets' statistics intervals and ST to
    31/32 when all its outlets are gas/water."""
    return {name: PlatformSettings.model_validate(_platform_data(config, name)) for name in config.platforms}


def session_settings(config: SiteConfig) -> dict[str, PlatformSettings]:
    """One `PlatformSettings` per (platform, outlet) session, target `"<platform>/<outlet>"`, with only that
    outlet's MN; without an explicit `st` the outlet's kind decides it (31 gas, 32 water: HJ 212 Table 5)."""
    out: dict[str, PlatformSettings] = {}
    for name, table in config.platforms.items():
        base = _platform_data(config, name)
        for outlet, mn in table.mns.items():
            data = {**base, "mns": {outlet: mn}}
            if "st" not in table.model_fields_set and outlet in config.outlets:
                data["st"] = _ST[config.outlets[outlet].kind]
            power = config.outlets[outlet].power if outlet in config.outlets else None
            if power is not None:
                data.update(_power_session(config, name, power, data))
            out[target_name(name, outlet)] = PlatformSettings.model_validate(data)
    return out


def _power_session(config: SiteConfig, name: str, power: Any, data: dict[str, Any]) -> dict[str, Any]:
    """A session of an outlet with ST=44 data: only the listed platforms take it (`upload.power`), with the
    points' decimals (the platform's own `decimals` win)."""
    listed = name in power.platforms
    update: dict[str, Any] = {"upload": {**data.get("upload", {}), "power": listed and data["upload"]["power"]}}
    if listed:
        update["decimals"] = {**{p.code: p.decimals for p in power.points}, **(data.get("decimals") or {})}
    return update


def mqtt_settings(config: SiteConfig) -> dict[str, MqttSettings]:
    """One `MqttSettings` per target; relative TLS file paths are the configuration file's (as `store_path`)."""
    base = Path(config.source).parent if config.source else None
    out = {}
    for name, table in config.mqtt.items():
        settings = MqttSettings.model_validate({"name": name, **_plain(table)})
        out[name] = settings.relative_to(base) if base is not None else settings
    return out


def das_identity(config: SiteConfig) -> DasIdentity | None:
    """`[site]` das_id/cpu_id/macs as the command handler's identity; None without `das_id` (a 2025 1002, which
    assigns an MN to a DAS id, is then refused)."""
    site = config.site
    if site.das_id is None:
        return None
    return DasIdentity(das_id=site.das_id, cpu_id=site.cpu_id, macs=tuple(site.macs))


def retention_policy(config: SiteConfig) -> RetentionPolicy:
    return config.retention.policy()


def store_path(config: SiteConfig) -> Path:
    """The SQLite file; a relative path is relative to the configuration file."""
    path = Path(config.store.path)
    if not path.is_absolute() and config.source:
        path = Path(config.source).parent / path
    return path


def uplink_problems(config: SiteConfig, data: Mapping[str, Any], lines: Mapping[KeyPath, int]) -> list[Problem]:
    """Build the uplink models once at load so their own rules (PW shape, SM4 key, encrypt needs 2025 …) are
    reported against the file's keys."""
    problems: list[Problem] = []
    for section, build in (("platforms", _platform_data), ("mqtt", None)):
        tables = config.platforms if section == "platforms" else config.mqtt
        for name, table in tables.items():
            raw = (data.get(section) or {}).get(name, {})
            try:
                if build is not None:
                    PlatformSettings.model_validate(build(config, name))
                else:
                    MqttSettings.model_validate({"name": name, **_plain(table)})
            except ValidationError as err:
                problems += problems_from_validation(err, raw, lines, prefix=(section, name))
    return problems
