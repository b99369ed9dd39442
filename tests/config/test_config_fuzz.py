"""Whatever a technician does to a working file, loading it gives a configuration or a ConfigError, never a crash."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from agent.config import ConfigError, SiteConfig, parse_config

DEMO = (Path(__file__).resolve().parents[2] / "agent" / "config" / "demo_site.toml").read_text(encoding="utf-8")
LINES = DEMO.splitlines()
VALUES = st.sampled_from(
    ['"x"', "0", "-1", "7", "1e400", "true", "[]", "{}", '{ secret = "nope" }', "[1, 2]", '"a21026"', '""', "99999"]
)


@st.composite
def edits(draw: st.DrawFn) -> str:
    lines = list(LINES)
    for _ in range(draw(st.integers(1, 4))):
        n = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "value", "duplicate", "garbage"]))
        if action == "delete":
            del lines[n]
        elif action == "value" and " = " in lines[n] and not lines[n].startswith("#"):
            key = lines[n].split(" = ", 1)[0]
            lines[n] = f"{key} = {draw(VALUES)}"
        elif action == "duplicate":
            lines.insert(n, lines[n])
        elif action == "garbage":
            lines.insert(n, draw(st.text('ab=[]{}".# \\', max_size=12)))
    return "\n".join(lines) + "\n"


@settings(max_examples=200, deadline=None)
@given(edits())
def test_edited_files_load_or_fail_cleanly(text: str) -> None:
    try:
        config = parse_config(text, "site.toml", environ={})
    except ConfigError as err:
        assert err.problems
        for line in str(err).splitlines():
            assert line.startswith("site.toml"), line
        return
    assert isinstance(config, SiteConfig)
