"""`das init`: a first site configuration from a few answers (or flags), as plain data for the renderer.

The technician names the devices (profile and where it is wired), the platforms and the MNs; the outlets and
their factors follow from the profiles' points (each HJ 212 code once, gas codes to the gas outlet, water codes
to the water outlet). What cannot be guessed (duct area, reference O2, limits) is left for the file's comments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agent.config.factors import FACTORS
from drivers.profiles import ProfileError, builtin_names, load_builtin, resolve_profile
from drivers.profiles.schema import Profile

__all__ = ["InitError", "InitOptions", "build_site", "profile_choices"]

_DEVICE_NAMES = {
    "w01018": "cod",
    "w21003": "nh3n",
    "w21011": "tp",
    "w21001": "tn",
    "w01001": "ph",
    "w00000": "flow",
}
_KIND_NAMES = {
    "cems_gas": "cems",
    "flue_gas": "flue",
    "dust": "dust",
    "flow": "flow",
    "ph": "ph",
    "power": "meter",
    "analog_input": "ai",
    "digital_input": "di",
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class InitError(ValueError):
    """An answer or flag `das init` cannot use; the message says which and what is expected."""


@dataclass
class InitOptions:
    site: str | None = None
    devices: list[str] = field(default_factory=list)  # [name=]profile@link[:unit|address]
    outlets: list[str] = field(default_factory=list)  # ID=gas|water
    mns: list[str] = field(default_factory=list)  # [outlet=]MN
    platforms: list[str] = field(default_factory=list)  # [name=]host:port[@2017|2025]
    reference_o2: float | None = None
    duct_area: float | None = None


def profile_choices() -> list[tuple[str, str]]:
    """(name, title) of each built-in profile, for the prompt."""
    return [(name, load_builtin(name).device.title) for name in builtin_names()]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text).strip("_.-") or "link"


def _link(where: str, profile: Profile, links: dict[str, dict[str, Any]]) -> tuple[str, str | None]:
    """`/dev/ttyS1:3` or `host:port:3` → (link name, the address part); the link is added to `links`."""
    if where.startswith("/"):
        port, _, rest = where.partition(":")
        name = _slug(port.rsplit("/", 1)[-1])
        table: dict[str, Any] = {"type": "serial", "port": port}
    else:
        parts = where.split(":")
        if len(parts) not in (2, 3) or not parts[1].isdigit():
            raise InitError(f"{where!r}: /dev/ttyX[:address] or host:port[:address] expected")
        host, port_text = parts[0], parts[1]
        rest = parts[2] if len(parts) == 3 else ""
        name = _slug(f"{host}_{port_text}")
        framing = "tcp" if profile.device.protocol == "modbus" else "rtu"
        table = {"type": "tcp", "host": host, "port": int(port_text), "framing": framing}
    if name in links and links[name] != table:
        raise InitError(f"{where!r}: link {name} is already defined differently ({links[name]})")
    links[name] = table
    return name, rest or None


def _device_name(profile: Profile, taken: set[str]) -> str:
    codes = [p.factor for p in profile.values() if p.factor]
    base = next((_DEVICE_NAMES[c] for c in codes if c in _DEVICE_NAMES), None)
    base = base or _KIND_NAMES.get(profile.device.kind, "dev")
    name, n = base, 2
    while name in taken:
        name, n = f"{base}{n}", n + 1
    return name


def _devices(specs: list[str]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Profile]]:
    links: dict[str, Any] = {}
    devices: dict[str, Any] = {}
    profiles: dict[str, Profile] = {}
    for spec in specs:
        name, eq, rest = spec.partition("=")
        if not eq:
            name, rest = "", spec
        profile_ref, at, where = rest.partition("@")
        if not at or not profile_ref or not where:
            raise InitError(f"--device {spec!r}: [name=]profile@/dev/ttyS1:unit or [name=]profile@host:port:unit")
        try:
            profile = resolve_profile(profile_ref)
        except ProfileError as err:
            raise InitError(f"--device {spec!r}: {err}") from err
        name = name or _device_name(profile, set(devices))
        if not _NAME.match(name) or name in devices:
            raise InitError(f"--device {spec!r}: device name {name!r} is not usable (letters, digits, _ . -; unique)")
        link, address = _link(where, profile, links)
        table: dict[str, Any] = {"profile": profile_ref, "link": link}
        if profile.device.protocol == "modbus":
            if address is not None:
                if not address.isdigit() or not 1 <= int(address) <= 255:
                    raise InitError(f"--device {spec!r}: Modbus unit id 1-255 expected after the last ':'")
                table["unit"] = int(address)
        elif profile.device.protocol == "dlt645":
            if address is None or not re.fullmatch(r"\d{12}", address):
                raise InitError(f"--device {spec!r}: the meter's 12-digit DL/T 645 address expected after ':'")
            table["address"] = address
        elif address is not None:
            table["address"] = address
        devices[name] = table
        profiles[name] = profile
    return links, devices, profiles


def _duct_area_note(oid: str, seen: set[str]) -> str:
    if "a01011" not in seen:
        why = "没有设备测烟气流速 a01011 / no device measures the flue gas velocity a01011"
    elif "a00000" in seen:
        why = "流量已由设备直接测量 a00000 / the flow a00000 is measured directly"
    else:
        why = "缺少烟气温度 a01012 或湿度 a01014 / flue gas temperature a01012 or humidity a01014 is missing"
    return (
        f"{oid}: 已写入烟道截面积, 但暂不计算标干流量 Qsn: {why} / "
        f"duct_area written, but no Qsn is computed from it yet: {why}"
    )


def _outlets(
    options: InitOptions, profiles: dict[str, Profile], notes: list[str] | None = None
) -> dict[str, dict[str, Any]]:
    notes = notes if notes is not None else []
    kinds: dict[str, str] = {}
    for spec in options.outlets:
        oid, _, kind = spec.partition("=")
        if kind not in ("gas", "water") or not _NAME.match(oid):
            raise InitError(f"--outlet {spec!r}: ID=gas or ID=water expected")
        kinds[oid] = kind
    found = {"gas": False, "water": False}
    for profile in profiles.values():
        for p in profile.values():
            if p.factor in FACTORS:
                found["gas" if FACTORS[p.factor].gas else "water"] = True
    for kind, oid in (("gas", "DA001"), ("water", "DW001")):
        if found[kind] and kind not in kinds.values():
            kinds[oid] = kind
    outlets: dict[str, dict[str, Any]] = {}
    for oid, kind in kinds.items():
        factors: list[dict[str, Any]] = []
        seen: set[str] = set()
        for device, profile in profiles.items():
            for p in profile.values():
                info = FACTORS.get(p.factor or "")
                if info is None or info.gas != (kind == "gas") or info.code in seen:
                    continue
                seen.add(info.code)
                factors.append({"code": info.code, "point": f"{device}.{p.name}"})
        outlet: dict[str, Any] = {"kind": kind}
        if kind == "gas":
            velocity_ok = options.duct_area is not None and {"a01012", "a01014"} <= seen and "a00000" not in seen
            if "a01011" in seen and not velocity_ok:
                factors = [f for f in factors if f["code"] != "a01011"]  # Qsn needs duct_area, temperature, humidity
            elif "a01011" in seen:
                outlet["flow_code"] = "a00000"
            if options.duct_area is not None:
                # The duct is the outlet's, whatever measures it today: the value the installer gave is kept for
                # the velocity probe added later, and said why it does nothing yet.
                outlet["duct_area"] = options.duct_area
                if not velocity_ok or "a01011" not in seen:
                    notes.append(_duct_area_note(oid, seen))
            if {"a21003", "a21004"} <= seen and "a21002" not in seen:
                outlet["nox"] = {"no": "a21003", "no2": "a21004"}  # NOx as NO2 from its parts (regs.md §2.2)
            if options.reference_o2 is not None and "a19001" in seen:
                outlet["reference_o2"] = options.reference_o2
        outlet["factors"] = factors
        outlets[oid] = outlet
    return outlets


def _mns(options: InitOptions, outlets: dict[str, Any], draft: bool) -> dict[str, str]:
    mns: dict[str, str] = {}
    bare: list[str] = []
    for spec in options.mns:
        oid, eq, mn = spec.partition("=")
        if eq:
            if oid not in outlets:
                raise InitError(f"--mn {spec!r}: no outlet {oid!r} (outlets: {', '.join(outlets) or 'none'})")
            mns[oid] = mn
        else:
            bare.append(spec)
    for oid in outlets:
        if oid not in mns and bare:
            mns[oid] = bare.pop(0)
    if bare:
        raise InitError(f"--mn: more MNs than outlets ({', '.join(outlets)})")
    missing = [o for o in outlets if o not in mns]
    if missing and options.platforms and not draft:
        raise InitError(f"--mn needed for outlet(s) {', '.join(missing)} (each outlet has its own MN)")
    return mns


def _platforms(options: InitOptions, mns: dict[str, str]) -> dict[str, Any]:
    platforms: dict[str, Any] = {}
    for n, spec in enumerate(options.platforms, 1):
        name, eq, rest = spec.partition("=")
        if not eq:
            name, rest = f"platform{n}", spec
        address, _, version = rest.partition("@")
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit() or version not in ("", "2017", "2025") or not _NAME.match(name):
            raise InitError(f"--platform {spec!r}: [name=]host:port[@2017|2025] expected")
        platforms[name] = {"host": host, "port": int(port), "version": int(version or 2017), "mns": dict(mns)}
    return platforms


def build_site(options: InitOptions, draft: bool = False, notes: list[str] | None = None) -> dict[str, Any]:
    """The configuration as plain data; `draft`: skip the checks that need answers still to come. `notes` gets
    what the installer should know about an answer that was kept but does nothing yet (bilingual lines)."""
    if not options.site and not draft:
        raise InitError("--site: the site name is needed")
    if not options.devices and not draft:
        raise InitError("--device: at least one device is needed (das profiles lists the profiles)")
    links, devices, profiles = _devices(options.devices)
    outlets = _outlets(options, profiles, notes)
    mns = _mns(options, outlets, draft)
    data: dict[str, Any] = {"version": 1, "site": {"name": options.site or ""}}
    data["links"] = links
    data["devices"] = devices
    data["outlets"] = outlets
    data["platforms"] = _platforms(options, mns)
    return data
