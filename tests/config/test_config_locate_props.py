"""Property: for any TOML a site file could be (tables, arrays of tables, dotted keys, inline tables, arrays,
strings with TOML punctuation), the line found for each key is the line that defines it."""

from __future__ import annotations

import tomllib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.config.locate import KeyPath, key_lines
from agent.config.render import key_text, toml_value

KEYS = st.text("abcxyz_0123-", min_size=1, max_size=6) | st.sampled_from(["a.b", "名称", "x y", 'q"'])
SCALARS = (
    st.integers(-1000, 1000)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.booleans()
    | st.text(st.sampled_from("ab=#[]{}\",'\\ \n\t.名"), max_size=8)
)
LEAVES = SCALARS | st.lists(SCALARS, max_size=3) | st.dictionaries(KEYS, SCALARS, max_size=3)


def _table_body(data: dict[str, Any], path: tuple[str, ...], out: list[tuple[str, KeyPath]]) -> None:
    for key, value in data.items():
        if not isinstance(value, dict | list) or not value or not all(isinstance(v, dict) for v in value):
            if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
                continue
            out.append((f"{key_text(key)} = {toml_value(value)}", (*path, key)))


def _write(data: dict[str, Any], path: tuple[str | int, ...], out: list[tuple[str, KeyPath]]) -> None:
    _table_body(data, path, out)  # type: ignore[arg-type]
    for key, value in data.items():
        header = ".".join(key_text(str(p)) for p in (*path, key) if not isinstance(p, int))
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            out.append((f"[{header}]", (*path, key)))
            _write(value, (*path, key), out)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for n, item in enumerate(value):
                out.append((f"[[{header}]]", (*path, key, n)))
                _table_body(item, (*path, key, n), out)  # type: ignore[arg-type]


TABLES = st.dictionaries(KEYS, LEAVES, max_size=4)
DOCS = st.dictionaries(
    KEYS,
    LEAVES
    | st.dictionaries(KEYS, TABLES.filter(bool), min_size=1, max_size=2)
    | st.lists(TABLES, min_size=1, max_size=3),
    max_size=5,
)


@settings(max_examples=150, deadline=None)
@given(DOCS)
def test_each_key_is_found_on_its_own_line(data: dict[str, Any]) -> None:
    entries: list[tuple[str, KeyPath]] = []
    _write(data, (), entries)
    # TOML wants the top-level keys before any table header.
    top = [e for e in entries if len(e[1]) == 1 and not e[0].startswith("[")]
    ordered = top + [e for e in entries if e not in top]
    text = "\n".join(source for source, _ in ordered) + "\n"
    assert tomllib.loads(text) is not None  # the writer only writes valid TOML
    found = key_lines(text)
    for line, (source, path) in enumerate(ordered, 1):
        assert found.get(path) == line, (path, source, text)
