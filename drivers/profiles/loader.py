"""Read profile TOML files (shipped ones by name, a user's by path) into validated `Profile` objects.

Every problem becomes one `ProfileError` whose lines read `file: key: what was expected`, so a technician
editing a profile on site sees which line to fix without reading a traceback.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from drivers.profiles.schema import Profile

M = TypeVar("M", bound=BaseModel)

__all__ = [
    "ProfileError",
    "builtin_names",
    "format_errors",
    "load_builtin",
    "load_profile",
    "parse_profile",
    "resolve_profile",
]


class ProfileError(ValueError):
    """A profile (or devices config) that cannot be used; `str()` lists every problem as `file: key: what`."""

    def __init__(self, source: str, problems: Iterable[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__("\n".join(f"{source}: {p}" for p in self.problems))


def format_loc(loc: Iterable[int | str], data: Any = None) -> str:
    """`("points", 3, "address")` → `points[3](so2).address`: the point's name helps find it in the file.

    A union's tag that pydantic puts into `loc` (`links.a.tcp.port`: `tcp` is the `type` member chosen) is not
    a key of the file and is left out, so the key printed is the one to look for.
    """
    out = ""
    node = data
    parts = list(loc)
    for n, part in enumerate(parts):
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, Mapping) and isinstance(node.get("name"), str):
                out += f"({node['name']})"
        else:
            if isinstance(node, Mapping) and part not in node and n + 1 < len(parts) and node.get("type") == part:
                continue
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, Mapping) else None
    return out


PROFILE_KEYS = "see docs/profiles.md for the keys a profile may use"
DEVICES_KEYS = "see docs/profiles.md, 'Devices config', for the keys of [links] and [devices]"


def format_errors(err: ValidationError, data: Any = None, *, keys: str = PROFILE_KEYS) -> list[str]:
    """One `key: message` line per pydantic error, with pydantic's wording made plain; `keys` says where the
    allowed keys of this kind of file are documented (a profile, a devices config, a simulators config)."""
    lines = []
    for e in err.errors(include_url=False):
        msg = e["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        msg = msg.replace("Input should be", "expected", 1)
        if e["type"] == "extra_forbidden":
            msg = f"unknown key ({keys})"
        elif e["type"] == "missing":
            msg = "required key missing"
        key = format_loc(e["loc"], data)
        lines.append(f"{key}: {msg}" if key else msg)
    return lines


def parse_model(model: type[M], text: str, source: str, *, keys: str = PROFILE_KEYS) -> M:
    """Parse TOML `text` into `model`, raising `ProfileError` naming `source` for syntax or schema problems;
    `keys` is the hint an unknown key gets (where this kind of file's keys are documented)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ProfileError(source, [f"TOML syntax: {err}"]) from err
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ProfileError(source, format_errors(err, data, keys=keys)) from err


def _toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ProfileError(source, [f"TOML syntax: {err}"]) from err


def _merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """`extends`: the child's `[device]` keys, points and info items (matched by name) and state tables
    (by key) override or add to the base's; a point given in the child only needs the keys that change."""
    out = dict(base)
    for key, value in child.items():
        if key == "device" and isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = {**base[key], **value}
        elif key in ("points", "info") and isinstance(value, list) and isinstance(base.get(key), list):
            items = [dict(item) if isinstance(item, dict) else item for item in base[key]]
            index = {item.get("name"): n for n, item in enumerate(items) if isinstance(item, dict)}
            for item in value:
                name = item.get("name") if isinstance(item, dict) else None
                if name in index:
                    items[index[name]] = {**items[index[name]], **item}
                else:
                    items.append(item)
            out[key] = items
        elif key == "state" and isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = {**base[key], **value}
        else:
            out[key] = value
    return out


def _resolve_extends(data: dict[str, Any], source: str, base_dir: Path | None, depth: int = 0) -> dict[str, Any]:
    device = data.get("device")
    ref = device.get("extends") if isinstance(device, dict) else None
    if ref is None:
        return data
    if not isinstance(ref, str) or depth > 4:
        raise ProfileError(source, ["device.extends: a profile name or path expected (at most 4 levels deep)"])
    if ref.endswith(".toml") or "/" in ref:
        path = Path(ref) if base_dir is None or Path(ref).is_absolute() else base_dir / ref
        base_source, base_dir_next = str(path), path.parent
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise ProfileError(source, [f"device.extends: cannot read {ref!r}: {err}"]) from err
    else:
        entry = _builtin_dir() / f"{ref}.toml"
        if not entry.is_file():
            raise ProfileError(source, [f"device.extends: no built-in profile named {ref!r}"])
        base_source, base_dir_next, text = f"drivers/profiles/{ref}.toml", None, entry.read_text(encoding="utf-8")
    base = _resolve_extends(_toml(text, base_source), base_source, base_dir_next, depth + 1)
    return _merge(base, data)


def parse_profile(text: str, source: str, expect_name: str | None = None, base_dir: Path | None = None) -> Profile:
    """Parse one profile; `expect_name` (the file stem) must equal `[device].name` so names stay findable."""
    data = _resolve_extends(_toml(text, source), source, base_dir)
    try:
        profile = Profile.model_validate(data)
    except ValidationError as err:
        raise ProfileError(source, format_errors(err, data)) from err
    if expect_name is not None and profile.device.name != expect_name:
        raise ProfileError(source, [f"device.name: {expect_name!r} expected (the file name without .toml)"])
    return profile


def load_profile(path: str | Path) -> Profile:
    """Load a profile file from disk (a user's own device)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ProfileError(str(path), [f"cannot read file: {err}"]) from err
    return parse_profile(text, str(path), expect_name=path.stem, base_dir=path.parent)


def _builtin_dir() -> Traversable:
    return resources.files("drivers.profiles")


def builtin_names() -> list[str]:
    """Names of the profiles shipped with the package."""
    return sorted(f.name.removesuffix(".toml") for f in _builtin_dir().iterdir() if f.name.endswith(".toml"))


@cache
def load_builtin(name: str) -> Profile:
    """A profile shipped with the package, by name (e.g. "cems_sick_mcs100ft")."""
    entry = _builtin_dir() / f"{name}.toml"
    if not entry.is_file():
        raise ProfileError(name, [f"no built-in profile of that name; known: {', '.join(builtin_names())}"])
    return parse_profile(entry.read_text(encoding="utf-8"), f"drivers/profiles/{name}.toml", expect_name=name)


def resolve_profile(ref: str, base: Path | None = None) -> Profile:
    """A config's `profile = ...`: a built-in name, or a path to a .toml file (relative to `base`)."""
    if ref.endswith(".toml") or "/" in ref:
        path = Path(ref)
        if base is not None and not path.is_absolute():
            path = base / path
        return load_profile(path)
    return load_builtin(ref)
