"""Write a site configuration as commented TOML, the comments taken from the models' field descriptions.

One renderer serves `das config sample` (every key, defaults as commented lines), `das init` (the keys it
was given) and docs/configuration.md (the reference tables), so the text a technician reads next to a key
is the text the model carries.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import Enum
from pathlib import PurePath
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from agent.config.glossary import LABELS
from agent.config.model import (
    MqttConfig,
    OutletConfig,
    OutletFactor,
    PlatformConfig,
    RetentionConfig,
    SiteConfig,
    SiteInfo,
    StatisticsConfig,
    StoreConfig,
)
from drivers.profiles.config import DeviceConfig, SerialLinkConfig, TcpLinkConfig

__all__ = ["SECTIONS", "describe", "render_config", "toml_value"]

_CJK = re.compile(r"[\u2e80-\u9fff]")
_BARE = re.compile(r"^[A-Za-z0-9_-]+$")
_WIDTH = 120

# Top-level tables in file order: key → model of one table (None: a table of named tables, model per entry).
SECTIONS: dict[str, type[BaseModel]] = {
    "site": SiteInfo,
    "store": StoreConfig,
    "retention": RetentionConfig,
    "statistics": StatisticsConfig,  # type: ignore[dict-item]
}
NAMED: dict[str, Any] = {
    "links": {"serial": SerialLinkConfig, "tcp": TcpLinkConfig},
    "devices": DeviceConfig,
    "outlets": OutletConfig,
    "platforms": PlatformConfig,
    "mqtt": MqttConfig,
}
_HIDDEN = {"outlet"}  # set from the table name


def describe(model: type[BaseModel], key: str) -> str:
    """The bilingual comment of `model.key`: the model's description, with a Chinese label when it has none."""
    field = model.model_fields[key]
    text = field.description or ""
    zh, en = LABELS.get(f"{model.__name__}.{key}") or LABELS.get(key, ("", ""))
    if field.title and _CJK.search(field.title) and field.title not in text:
        text = f"{field.title}: {text}" if text else field.title
    if not text:
        return f"{zh} / {en}" if zh else key
    if not _CJK.search(text) and zh:
        return f"{zh} / {text}"
    return text


def _quote(text: str) -> str:
    """A TOML basic string: backslash, quote and control characters escaped (a name may hold a newline)."""
    out = []
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def key_text(key: str) -> str:
    return key if _BARE.match(key) else _quote(key)


def toml_value(value: Any) -> str:
    if isinstance(value, SecretStr):
        return toml_value(value.get_secret_value())
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return toml_value(value.value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, PurePath):
        return _quote(str(value))
    if isinstance(value, set | frozenset):  # e.g. MQTT `kinds`: sorted, so the text does not vary per run
        return toml_value(sorted(value, key=str))
    if isinstance(value, BaseModel):
        return toml_value(value.model_dump(exclude_defaults=True))
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{key_text(str(k))} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, Sequence):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """`Validity`, `NoxParams | None` → the model; anything else → None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        models = [a for a in typing.get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
        others = [a for a in typing.get_args(annotation) if a is not type(None) and a not in models]
        if len(models) == 1 and not others:
            return models[0]
    return None


def _items_model(annotation: Any) -> type[BaseModel] | None:
    """`tuple[OutletFactor, ...]` → OutletFactor."""
    if typing.get_origin(annotation) is tuple:
        args = typing.get_args(annotation)
        if args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
            return args[0]
    return None


def default_of(field: FieldInfo) -> Any:
    if field.default is not PydanticUndefined:
        return field.default
    if field.default_factory is not None:
        return field.default_factory()  # type: ignore[call-arg]
    return PydanticUndefined


def _assign(key: str, value: str, comment: str, commented: bool) -> list[str]:
    line = f"{'# ' if commented else ''}{key} = {value}"
    if len(line) + 3 + len(comment) <= _WIDTH:
        return [f"{line}  # {comment}"] if comment else [line]
    return [f"# {comment}", line]


_FROM_TABLE = " (默认按 HJ 212 附录 B 因子表 / default: the HJ 212 Appendix B table, agent.config.factors)"


def _table(
    header: str, model: type[BaseModel], data: Mapping[str, Any], shown: set[type] | None, array: bool = False
) -> list[str]:
    """One table; `shown`: models whose defaults were already listed (None: list no defaults at all)."""
    lines = [f"[[{header}]]" if array else f"[{header}]"]
    defaults = shown is not None and model not in shown
    if shown is not None:
        shown.add(model)
    later: list[str] = []
    for key, field in model.model_fields.items():
        if key in _HIDDEN:
            continue
        sub = _model_of(field.annotation)
        items = _items_model(field.annotation)
        comment = describe(model, key)
        if key in data and data[key] is not None:
            value = data[key]
            if sub is not None and isinstance(value, Mapping):
                later += ["", f"# {comment}", *_table(f"{header}.{key}", sub, value, shown)]
            elif items is not None:
                for item in value:
                    later += ["", *_table(f"{header}.{key}", items, item, shown, array=True)]
            elif key == "points" and isinstance(value, Mapping):
                for point, setting in value.items():
                    lines += _assign(f"points.{key_text(point)}", toml_value(setting), comment, False)
            else:
                lines += _assign(key, toml_value(value), comment, False)
        elif defaults:
            default = default_of(field)
            if model is OutletFactor and key in ("unit", "decimals", "role"):
                lines += _assign(key, "…", comment + _FROM_TABLE, True)
            elif sub is not None and isinstance(default, BaseModel):
                if sub in (shown or set()):
                    continue
                sub_lines = _table(f"{header}.{key}", sub, {}, shown)
                later += ["", f"# {comment}", *(f"# {x}" if not x.startswith("#") else x for x in sub_lines)]
            elif items is not None or default is PydanticUndefined:
                continue
            elif default is None:
                lines += _assign(key, "…", f"{comment} (默认不设 / unset by default)", True)
            else:
                lines += _assign(key, toml_value(default), comment, True)
    return lines + later


def render_config(data: Mapping[str, Any], *, defaults: bool = False, header: str = "") -> str:
    """TOML text of a site configuration given as plain data (what the file would parse to), commented.

    `defaults`: also list each key that is not set, commented out with its default.
    """
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    if lines:
        lines.append("")
    lines += _assign("version", toml_value(data.get("version", 1)), describe(SiteConfig, "version"), False)
    shown: set[type] | None = set() if defaults else None
    for section, model in SECTIONS.items():
        if section in data or defaults:
            lines += ["", f"# --- {describe(SiteConfig, section)} " + "-" * 20]
            lines += _table(section, model, data.get(section, {}), shown)
    for section, model in NAMED.items():
        tables = data.get(section) or {}
        if not tables:
            continue
        lines += ["", f"# --- {describe(SiteConfig, section)} " + "-" * 20]
        for name, table in tables.items():
            # Defaults are listed once per kind of table: the first one shows them all.
            table_model = model[table["type"]] if isinstance(model, dict) else model
            lines += ["", *_table(f"{section}.{key_text(name)}", table_model, table, shown)]
    return "\n".join(lines) + "\n"
