"""The `das` entry point starts and lists its command groups."""

from __future__ import annotations

import subprocess
import sys


def test_das_help_lists_command_groups() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import sys; sys.argv=['das','--help']; from agent.cli import main; main()"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for group in ("packet", "platform", "demo"):
        assert group in out
