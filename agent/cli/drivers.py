"""Sub-commands registered by the drivers work (stub until it lands)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to `das`."""
    del app
