"""Cross-references checked when a site configuration loads, so nothing is found wrong on the bus or the uplink.

device → link; device → profile (and its points, address kind, link framing); line settings consistent per
physical endpoint (style.md §2.1: two analyzers on /dev/ttyS1 share one owner); outlet factor → a reported
device point whose factor code and unit agree; equipment → device point; platform and MQTT MNs → outlets,
one MN per outlet; a platform's intervals equal its outlets' statistics intervals; ST=44 power points → meter
points that are no outlet factor, sent only to HJ 212-2025 platforms of the outlet.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from agent.config.errors import Problem
from agent.config.factors import FACTORS, factor_label
from agent.config.locate import KeyPath
from agent.config.model import SiteConfig
from agent.stats.params import OutletKind
from drivers.link import SerialParams, TcpParams
from drivers.profiles import ProfileError, resolve_profile
from drivers.profiles.config import TcpLinkConfig
from drivers.profiles.schema import Point, Profile

__all__ = ["check_site", "link_params", "normalise_unit", "point_of"]

_UNIT_ALIASES = {"m³": "m3", "mg/m³": "mg/m3", "°c": "℃", "degc": "℃", "ph": "", "m³/h": "m3/h", "m³/s": "m3/s"}


def normalise_unit(unit: str) -> str:
    """Spellings of one unit compare equal (`mg/m³` = `mg/m3`, `°C` = `℃`, pH is dimensionless)."""
    text = unit.strip().lower()
    return _UNIT_ALIASES.get(text, text)


def load_profiles(config: SiteConfig, base: Path | None) -> tuple[dict[str, Profile], list[Problem]]:
    profiles: dict[str, Profile] = {}
    problems: list[Problem] = []
    for name, device in config.devices.items():
        try:
            profiles[name] = resolve_profile(device.profile, base=base)
        except ProfileError as err:
            detail = (
                "; ".join(err.problems) if len(err.problems) < 4 else f"{err.problems[0]} (+{len(err.problems) - 1})"
            )
            problems.append(Problem(("devices", name, "profile"), f"{err.source}: {detail}"))
    return profiles, problems


def link_params(
    config: SiteConfig, profiles: dict[str, Profile]
) -> tuple[dict[str, SerialParams | TcpParams], list[Problem]]:
    """Each link's driver parameters; unset serial line settings from its devices' profiles, which must agree."""
    out: dict[str, SerialParams | TcpParams] = {}
    problems: list[Problem] = []
    users: dict[str, list[str]] = defaultdict(list)
    for name, device in config.devices.items():
        users[device.link].append(name)
    for name, link in config.links.items():
        try:
            if isinstance(link, TcpLinkConfig):
                out[name] = TcpParams(host=link.host, port=link.port, gap=link.gap)
                continue
            settings: dict[str, Any] = {}
            for key, attr in (
                ("baud", "baud"),
                ("parity", "parity"),
                ("stopbits", "stopbits"),
                ("bytesize", "bytesize"),
            ):
                given = getattr(link, key)
                if given is not None:
                    settings[key] = given
                    continue
                wanted = {dev: getattr(profiles[dev].device.link, attr) for dev in users[name] if dev in profiles}
                if len(set(wanted.values())) > 1:
                    detail = ", ".join(f"{dev} {value}" for dev, value in wanted.items())
                    problems.append(
                        Problem(
                            ("links", name),
                            f"devices on this port want different {key} ({detail}); set {key} on the link "
                            f"and configure the devices to it / 同一串口设备的{key}不一致",
                        )
                    )
                settings[key] = next(iter(wanted.values()), None)
            out[name] = SerialParams(
                port=link.port,
                baudrate=settings["baud"] or 9600,
                parity=settings["parity"] or "N",
                stopbits=settings["stopbits"] or 1,
                bytesize=settings["bytesize"] or 8,
                gap=link.gap,
            )
        except ValueError as err:
            problems.append(Problem(("links", name), str(err)))
    # One physical endpoint, one set of line settings (drivers.link.LinkRegistry would refuse it at run time).
    seen: dict[str, tuple[str, SerialParams | TcpParams, str]] = {}
    for name, params in out.items():
        link = config.links[name]
        framing = link.framing if isinstance(link, TcpLinkConfig) else "rtu"
        first = seen.setdefault(params.endpoint, (name, params, framing))
        if first[0] == name:
            continue
        if first[1] != params or first[2] != framing:
            problems.append(
                Problem(
                    ("links", name, "port"),
                    f"{params.endpoint} is also link {first[0]!r} with other settings "
                    f"({_describe(first[1], first[2])} vs {_describe(params, framing)}); "
                    "one port has one set of line settings / 同一端口参数冲突",
                )
            )
    return out, problems


def _describe(params: SerialParams | TcpParams, framing: str) -> str:
    if isinstance(params, SerialParams):
        return f"{params.line}, gap {params.frame_gap * 1000:g} ms"
    return f"framing {framing}, gap {params.gap * 1000:g} ms"


def _device_problems(config: SiteConfig, profiles: dict[str, Profile]) -> list[Problem]:
    """The checks `drivers.profiles.config.load_devices_config` makes, with keys the line finder can place."""
    problems: list[Problem] = []
    for name, device in config.devices.items():
        if device.link not in config.links:
            known = ", ".join(config.links) or "none"
            problems.append(Problem(("devices", name, "link"), f"no link named {device.link!r} (links: {known})"))
            continue
        profile = profiles.get(name)
        if profile is None:
            continue
        known_points = {p.name for p in profile.points}
        for point in device.points:
            if point not in known_points:
                problems.append(
                    Problem(
                        ("devices", name, "points", point),
                        f"profile {profile.device.name} has no such point (points: {', '.join(sorted(known_points))})",
                    )
                )
        protocol = profile.device.protocol
        if protocol == "dlt645" and device.address is None:
            problems.append(Problem(("devices", name), "address: a DL/T 645 meter address (12 digits) expected"))
        if protocol == "modbus" and device.address is not None:
            problems.append(
                Problem(("devices", name, "address"), "only for DL/T 645 meters; Modbus devices use `unit`")
            )
        link = config.links[device.link]
        if protocol != "modbus" and isinstance(link, TcpLinkConfig) and link.framing == "tcp":
            problems.append(
                Problem(("devices", name, "link"), f"{protocol} needs a serial link or a TCP link with framing = 'rtu'")
            )
    return problems


def point_of(config: SiteConfig, profiles: dict[str, Profile], ref: str) -> tuple[str, Point] | str:
    """`device.point` → (device, profile point), or what is wrong with the reference."""
    device, _, point = ref.rpartition(".")
    if device not in config.devices:
        return f"no device named {device!r} (devices: {', '.join(config.devices) or 'none'})"
    profile = profiles.get(device)
    if profile is None:
        return f"device {device!r} has no usable profile"
    values = {p.name: p for p in profile.values()}
    if point not in values:
        return f"device {device} ({profile.device.name}) has no value point {point!r} (points: {', '.join(values)})"
    if not config.devices[device].override(point).report:
        return f"devices.{device}.points.{point} has report = false"
    return device, values[point]


def _outlet_problems(config: SiteConfig, profiles: dict[str, Profile]) -> list[Problem]:
    problems: list[Problem] = []
    codes_of_point: dict[str, tuple[str, KeyPath]] = {}
    for oid, outlet in config.outlets.items():
        for i, factor in enumerate(outlet.factors):
            key: KeyPath = ("outlets", oid, "factors", i)
            info = FACTORS.get(factor.code)
            if info is not None and info.gas != (outlet.kind is OutletKind.GAS):
                problems.append(
                    Problem(
                        (*key, "code"),
                        f"{factor.code} {info.label} is a {'gas' if info.gas else 'water'} factor; "
                        f"this outlet is {outlet.kind.value}",
                    )
                )
            found = point_of(config, profiles, factor.point)
            if isinstance(found, str):
                problems.append(Problem((*key, "point"), found))
                continue
            device, point = found
            problems += _factor_point(config, key, factor.code, factor.unit, device, point)
            first = codes_of_point.setdefault(factor.point, (factor.code, key))
            if first[0] != factor.code:
                problems.append(
                    Problem(
                        (*key, "point"), f"{factor.point} is already factor {first[0]} elsewhere; a point is one factor"
                    )
                )
        for i, eq in enumerate(outlet.equipment):
            found = point_of(config, profiles, eq.point)
            if isinstance(found, str):
                problems.append(Problem(("outlets", oid, "equipment", i, "point"), found))
    return problems


def _factor_point(config: SiteConfig, key: KeyPath, code: str, unit: str, device: str, point: Point) -> list[Problem]:
    problems: list[Problem] = []
    override = config.devices[device].override(point.name)
    mapped = override.factor if override.factor is not None else point.factor
    if mapped is not None and mapped != code:
        where = (
            "the site's point setting" if override.factor is not None else f"profile {config.devices[device].profile}"
        )
        problems.append(
            Problem(
                (*key, "code"),
                f"{device}.{point.name} is {mapped} ({factor_label(mapped)}) in {where}, not {code}; "
                f'to remap it write devices.{device}.points.{point.name} = "{code}"',
            )
        )
    point_unit = override.unit if override.unit is not None else point.unit
    if point.unit_from is None and point_unit and unit and normalise_unit(point_unit) != normalise_unit(unit):
        problems.append(
            Problem(
                (*key, "unit"),
                f"{device}.{point.name} reads in {point_unit}, the factor says {unit}; give the unit the device "
                "reports (ppm needs molar_mass) / 单位不一致",
            )
        )
    return problems


def _uplink_problems(config: SiteConfig) -> list[Problem]:
    problems: list[Problem] = []
    section = "platforms"  # MQTT targets carry every outlet (topic per outlet): no MN, nothing to cross-check
    for name, target in config.platforms.items():
        seen: dict[str, str] = {}
        for outlet, mn in target.mns.items():
            key: KeyPath = (section, name, "mns", outlet)
            if outlet not in config.outlets:
                problems.append(Problem(key, f"no outlet named {outlet!r} (outlets: {', '.join(config.outlets)})"))
            if mn and mn in seen:  # "" = not assigned yet (2025: the platform's 1002 gives each its own)
                problems.append(Problem(key, f"MN {mn} is also outlet {seen[mn]}'s; each outlet needs its own MN"))
            seen.setdefault(mn, outlet)
        for field in ("min_interval", "rtd_interval"):
            values = {o: getattr(config.outlets[o], field) for o in target.mns if o in config.outlets}
            given = field in target.model_fields_set
            if given and any(v != getattr(target, field) for v in values.values()):
                detail = ", ".join(f"{o} {v}" for o, v in values.items())
                problems.append(
                    Problem(
                        (section, name, field),
                        f"{getattr(target, field)} differs from the outlets' statistics ({detail}): records are "
                        f"made at the outlet's interval; set it on the outlets (or [statistics]) instead",
                    )
                )
            elif not given and len(set(values.values())) > 1:
                detail = ", ".join(f"{o} {v}" for o, v in values.items())
                problems.append(Problem((section, name, "mns"), f"outlets on one platform need one {field} ({detail})"))
    return problems


def _power_problems(config: SiteConfig, profiles: dict[str, Profile]) -> list[Problem]:
    """`[outlets.<id>.power]`: ST=44 exists only in HJ 212-2025 (hj212-2025.md §6); a point is one code."""
    problems: list[Problem] = []
    factor_points = {f.point: oid for oid, o in config.outlets.items() for f in o.factors}
    codes: dict[str, tuple[str, str]] = {}  # device.point → (code, outlet)
    for oid, outlet in config.outlets.items():
        power = outlet.power
        if power is None:
            continue
        base: KeyPath = ("outlets", oid, "power")
        for i, name in enumerate(power.platforms):
            key: KeyPath = (*base, "platforms", i)
            platform = config.platforms.get(name)
            if platform is None:
                problems.append(Problem(key, f"no platform named {name!r} (platforms: {', '.join(config.platforms)})"))
            elif platform.version != 2025:
                problems.append(
                    Problem(
                        key,
                        f"platform {name} speaks HJ 212-{platform.version}: ST=44 用电监控 exists only in "
                        "HJ 212-2025 (version = 2025) / 用电数据仅用于 2025 版平台",
                    )
                )
            elif oid not in platform.mns:
                problems.append(Problem(key, f"platform {name} has no MN for outlet {oid} (platforms.{name}.mns)"))
            elif not platform.upload.power:
                problems.append(Problem(key, f"platforms.{name}.upload.power = false: remove it or the platform here"))
        for i, point in enumerate(power.points):
            key = (*base, "points", i, "point")
            found = point_of(config, profiles, point.point)
            if isinstance(found, str):
                problems.append(Problem(key, found))
                continue
            device, profile_point = found
            override = config.devices[device].override(profile_point.name)
            mapped = override.factor if override.factor is not None else profile_point.factor
            if point.point in factor_points:
                problems.append(
                    Problem(
                        key, f"{point.point} is a factor of outlet {factor_points[point.point]}; a point is one code"
                    )
                )
            elif mapped is not None and mapped != point.code:
                problems.append(
                    Problem(key, f"{point.point} is {mapped} in its profile or point settings, not {point.code}")
                )
            first = codes.setdefault(point.point, (point.code, oid))
            if first[0] != point.code:
                problems.append(
                    Problem(key, f"{point.point} is already {first[0]} in outlet {first[1]}'s power points")
                )
    return problems


def check_site(config: SiteConfig, base: Path | None) -> tuple[dict[str, Profile], list[Problem]]:
    """Load the devices' profiles and check every cross-reference; returns the profiles and the problems."""
    profiles, problems = load_profiles(config, base)
    problems += _device_problems(config, profiles)
    _, link_problems = link_params(config, profiles)
    problems += link_problems
    problems += _outlet_problems(config, profiles)
    problems += _uplink_problems(config)
    problems += _power_problems(config, profiles)
    return profiles, problems
