"""Every log line of the uplink, the MQTT publisher and the watchdog is bilingual (DEVELOPERS.md, Habits):
an operator reading the journal on site reads Chinese, a developer reads English."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = [
    "agent/watchdog.py",
    "uplink/session.py",
    "uplink/mqtt/publisher.py",
    *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "uplink/commands").glob("*.py")),
]
_LEVELS = {"debug", "info", "warning", "error", "exception", "critical"}
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _log_formats(path: Path) -> list[tuple[int, str]]:
    """(line, format string) of each `log.<level>("…", …)` call whose format is a literal."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in _LEVELS or not isinstance(node.func.value, ast.Name) or node.func.value.id != "log":
            continue
        if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            found.append((node.lineno, node.args[0].value))
    return found


@pytest.mark.parametrize("module", MODULES)
def test_log_lines_are_chinese_and_english(module: str) -> None:
    formats = _log_formats(ROOT / module)
    english_only = [(line, text) for line, text in formats if not _CJK.search(text) or " / " not in text]
    assert english_only == []


def test_the_scan_finds_the_log_calls() -> None:
    assert len(_log_formats(ROOT / "uplink/session.py")) >= 10
