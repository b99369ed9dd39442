"""docs/configuration.md and the models agree: the generated parts are current and every key is documented."""

from __future__ import annotations

import re

from pydantic import BaseModel

from agent.config.docs import DOC, update_doc
from agent.config.factors import FACTORS
from agent.config.model import SiteConfig
from agent.config.render import NAMED, SECTIONS, _items_model, _model_of, describe

_CJK = re.compile(r"[\u2e80-\u9fff]")


def _models() -> list[type[BaseModel]]:
    todo: list[type[BaseModel]] = [*SECTIONS.values()]
    for model in NAMED.values():
        todo += list(model.values()) if isinstance(model, dict) else [model]
    seen: list[type[BaseModel]] = []
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.append(model)
        for field in model.model_fields.values():
            for sub in (_model_of(field.annotation), _items_model(field.annotation)):
                if sub is not None:
                    todo.append(sub)
    return seen


def test_generated_parts_are_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert update_doc(text) == text, "docs/configuration.md is stale: run .venv/bin/python -m agent.config.docs"


def test_every_key_is_documented_in_both_languages() -> None:
    text = DOC.read_text(encoding="utf-8")
    for model in _models():
        for key in model.model_fields:
            if key == "outlet":
                continue
            assert f"| `{key}` |" in text, f"{model.__name__}.{key} missing from docs/configuration.md"
            comment = describe(model, key)
            assert _CJK.search(comment) and re.search(r"[A-Za-z]{3}", comment), f"{model.__name__}.{key}: {comment}"
    for key in SiteConfig.model_fields:
        assert key in text


def test_factor_table_is_in_the_docs() -> None:
    text = DOC.read_text(encoding="utf-8")
    for code, info in FACTORS.items():
        assert f"| {code} | {info.zh} |" in text
