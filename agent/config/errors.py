"""Configuration problems as `FILE:LINE: key.path: what was expected (got …)`, all of them at once.

A technician fixing a site configuration over a slow 4G console needs the line and the key, not a traceback,
and every problem in one go, not one per attempt.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from agent.config.locate import KeyPath, line_of

__all__ = ["ConfigError", "Problem", "format_key", "problems_from_validation"]

_PRIMITIVE_TAGS = {"str", "int", "float", "bool", "none", "list", "dict", "tuple", "literal"}
_SECRET_KEYS = {"pw", "sm4_key", "password"}


@dataclass(frozen=True, slots=True)
class Problem:
    key: KeyPath
    message: str
    line: int | None = None

    def render(self, source: str) -> str:
        where = f"{source}:{self.line}" if self.line is not None else source
        key = format_key(self.key)
        return f"{where}: {key}: {self.message}" if key else f"{where}: {self.message}"


class ConfigError(ValueError):
    """A site configuration that cannot be used; `str()` lists every problem, one per line."""

    def __init__(self, source: str, problems: Iterable[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__("\n".join(p.render(source) for p in self.problems))


def format_key(path: Sequence[str | int]) -> str:
    """`("outlets", "DA001", "factors", 2, "code")` → `outlets.DA001.factors[2].code`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else f'"{part}"'
            out += f".{text}" if out else text
    return out


def _is_tag(part: str, node: Any) -> bool:
    """Pydantic puts union members and discriminator values into `loc`; they are not keys of the file."""
    if isinstance(node, Mapping) and part in node:
        return False
    if isinstance(node, Mapping) and node.get("type") == part:
        return True
    return part.split("[")[0] in _PRIMITIVE_TAGS or "[" in part or "(" in part or part[:1].isupper()


def _clean(loc: Sequence[str | int], data: Any) -> tuple[KeyPath, str | None, Any]:
    """The file's key path of a pydantic `loc`, the union member tag met on the way, and the value there."""
    path: list[str | int] = []
    tag: str | None = None
    node = data
    for part in loc:
        if isinstance(part, str) and _is_tag(part, node):
            tag = part
            continue
        path.append(part)
        if isinstance(node, Mapping):
            node = node.get(part)
        elif isinstance(node, list | tuple) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(path), tag, node


def _got(value: Any, key: KeyPath) -> str:
    if key and key[-1] in _SECRET_KEYS:
        return ""
    if isinstance(value, bool):
        return f" (got {str(value).lower()})"
    if isinstance(value, int | float):
        return f" (got {value})"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "…"
        return f" (got {text!r})"
    if isinstance(value, list):
        return " (got an array)"
    if isinstance(value, Mapping):
        return " (got a table)"
    return ""


def _message(error: Mapping[str, Any], value: Any, key: KeyPath) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key / 未知的键 (see docs/configuration.md for the keys allowed here)"
    if kind == "missing":
        return "required key missing / 缺少必填项"
    msg = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    msg = msg.replace("Input should be", "expected", 1)
    if kind.startswith("value_error") or kind == "assertion_error":
        return msg  # our validators already say what they got
    return msg + _got(value, key)


def problems_from_validation(
    err: ValidationError,
    data: Any,
    lines: Mapping[KeyPath, int],
    prefix: KeyPath = (),
    remap: Mapping[KeyPath, KeyPath] | None = None,
) -> list[Problem]:
    """One problem per key; errors of a union's members at the same key are joined with "or".

    `remap` moves keys that were copied from elsewhere (the `[statistics]` defaults) back to where they were
    written, so the line points at what to edit.
    """
    by_key: dict[KeyPath, list[str]] = {}
    for e in err.errors(include_url=False):
        key, tag, value = _clean(e["loc"], data)
        # The `str` member of `str | Table` complaining about a table (or the reverse) is noise.
        if tag in _PRIMITIVE_TAGS and isinstance(value, Mapping) and e["type"].endswith("_type"):
            continue
        if tag and tag[:1].isupper() and not isinstance(value, Mapping) and e["type"] in ("model_type", "dict_type"):
            continue
        if e["type"] == "value_error" and isinstance(value, Mapping):
            # A model-level rule that names its key first ("min_interval 7 must be …") points at that key.
            first = re.match(r"[a-z][a-z0-9_]*", str(e["msg"]).removeprefix("Value error, "))
            if first and first.group() in value:
                key = (*key, first.group())
        full = (*prefix, *key)
        for origin, target in (remap or {}).items():
            if full[: len(origin)] == origin:
                full = (*target, *full[len(origin) :])
                break
        message = _message(e, value, full)
        messages = by_key.setdefault(full, [])
        if message not in messages:
            messages.append(message)
    return [Problem(key, " or ".join(msgs), line_of(lines, key)) for key, msgs in by_key.items()]
