"""Shared fixtures. `require_tool` skips when a system tool is missing, but fails under CI=true."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent
SHARED_REFERENCE = REPO.parent / "shared" / "reference"


def _require_tool(name: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    message = f"system tool {name!r} not found on PATH (.ci/run installs it)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def require_tool() -> Callable[[str], str]:
    """Return the path of a system tool, or skip (fail under CI=true) when it is missing."""
    return _require_tool
