"""The generated parts of docs/configuration.md: one table per section from the models, and the sample.

`python -m agent.config.docs` rewrites the parts between the markers; a test fails when they are stale, so the
page and the models cannot disagree.
"""

from __future__ import annotations

import re
import sys
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from agent.config.factors import FACTORS
from agent.config.model import OutletFactor, SiteConfig
from agent.config.render import NAMED, SECTIONS, _items_model, _model_of, default_of, describe, toml_value
from agent.config.sample import sample_text

__all__ = ["DOC", "render_reference", "update_doc"]

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
BEGIN_REF, END_REF = "<!-- BEGIN reference (python -m agent.config.docs) -->", "<!-- END reference -->"
BEGIN_FACTORS, END_FACTORS = "<!-- BEGIN factors (python -m agent.config.docs) -->", "<!-- END factors -->"
BEGIN_SAMPLE, END_SAMPLE = "<!-- BEGIN sample (python -m agent.config.docs) -->", "<!-- END sample -->"


def _type(annotation: Any) -> str:
    text = str(annotation) if not isinstance(annotation, type) else annotation.__name__
    if "SecretStr" in text:
        return "secret: text or { secret = NAME }"
    text = text.replace("typing.", "").replace("NoneType", "None")
    text = re.sub(r"Optional\[(.*)\]$", r"\1 | None", text)
    text = re.sub(r"Literal\[([^\]]*)\]", lambda m: m.group(1).replace(", ", " / ").replace("'", '"'), text)
    prefixes = (
        "agent.stats.params.",
        "agent.config.model.",
        "uplink.settings.",
        "uplink.mqtt.settings.",
        "pydantic.types.",
    )
    for prefix in (*prefixes, "pathlib."):
        text = text.replace(prefix, "")
    return text


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


Section = tuple[str, type[BaseModel], bool, str]  # path, model, array of tables, note after the header


def _header(path: str, array: bool, note: str = "") -> str:
    return (f"[[{path}]]" if array else f"[{path}]") + note


def _rows(path: str, model: type[BaseModel], array: bool, note: str, nested: list[Section]) -> list[str]:
    lines = [f"### `{_header(path, array, note)}`", ""]
    if model.__doc__:
        lines += [" ".join(model.__doc__.split()), ""]
    lines += ["| key | type | default | meaning |", "|---|---|---|---|"]
    for key, field in model.model_fields.items():
        if key == "outlet":
            continue
        sub = _model_of(field.annotation)
        items = _items_model(field.annotation)
        default = default_of(field)
        if default is PydanticUndefined:
            shown = "**required**"
        elif model is OutletFactor and key in ("unit", "decimals", "role"):
            shown = "Appendix B table"
        elif default is None:
            shown = "unset"
        elif isinstance(default, BaseModel) or items is not None:
            shown = "(table)" if sub is not None else "(none)"
        else:
            try:
                shown = f"`{toml_value(default)}`"
            except TypeError:
                shown = str(default)
        kind = "table" if sub is not None else ("array of tables" if items is not None else _type(field.annotation))
        lines.append(f"| `{key}` | {_cell(kind)} | {_cell(shown)} | {_cell(describe(model, key))} |")
        entry = _dict_value_model(field.annotation)
        if entry is not None:
            nested.append((f"{path}.{key}.<{key.rstrip('s')}>", entry, False, " (or a factor code)"))
        if sub is not None:
            nested.append((f"{path}.{key}", sub, False, ""))
        if items is not None:
            nested.append((f"{path}.{key}", items, True, ""))
    return [*lines, ""]


def _dict_value_model(annotation: Any) -> type[BaseModel] | None:
    """`dict[str, str | PointOverride]` → PointOverride (a table of named entries that may be short-hand)."""
    if typing.get_origin(annotation) is not dict:
        return None
    value = typing.get_args(annotation)[1]
    models = [a for a in typing.get_args(value) if isinstance(a, type) and issubclass(a, BaseModel)]
    return models[0] if len(models) == 1 else None


def render_reference() -> str:
    out = ["### top level", "", "| key | type | default | meaning |", "|---|---|---|---|"]
    field = SiteConfig.model_fields["version"]
    out += [f"| `version` | int | `{field.default}` | {describe(SiteConfig, 'version')} |", ""]
    sections: list[Section] = [(k, m, False, "") for k, m in SECTIONS.items()]
    for key, model in NAMED.items():
        if isinstance(model, dict):
            sections += [(f"{key}.<name>", m, False, f' type = "{kind}"') for kind, m in model.items()]
        else:
            sections.append((f"{key}.<name>", model, False, ""))
    first: dict[type[BaseModel], str] = {}
    while sections:
        path, model, array, note = sections.pop(0)
        if model in first:
            out += [f"### `{_header(path, array, note)}`", "", f"Same keys as `{first[model]}`.", ""]
            continue
        first[model] = _header(path, array, note)
        nested: list[Section] = []
        out += _rows(path, model, array, note, nested)
        sections = nested + sections
    return "\n".join(out).rstrip() + "\n"


def _replace(text: str, begin: str, end: str, body: str) -> str:
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    return f"{head}{begin}\n{body}{end}{tail}"


def render_factors() -> str:
    lines = ["| code | 名称 | name | unit | decimals | role |", "|---|---|---|---|---|---|"]
    for f in FACTORS.values():
        decimals = "(2)" if f.decimals is None else str(f.decimals)
        lines.append(f"| {f.code} | {f.zh} | {f.en} | {f.unit or '-'} | {decimals} | {f.role.value} |")
    return "\n".join(lines) + "\n"


def update_doc(text: str) -> str:
    """`text` with the generated parts rewritten."""
    text = _replace(text, BEGIN_FACTORS, END_FACTORS, render_factors())
    text = _replace(text, BEGIN_REF, END_REF, render_reference())
    return _replace(text, BEGIN_SAMPLE, END_SAMPLE, "```toml\n" + sample_text() + "```\n")


def main() -> None:
    DOC.write_text(update_doc(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    sys.stdout.write(f"updated {DOC}\n")


if __name__ == "__main__":
    main()
