"""The `das` command. Each area registers its own sub-commands in a module of this package."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="das",
    help="数采仪 DAS agent — 采集、统计、HJ 212 上传 / acquisition, statistics and HJ 212 uplink.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Modules that add commands to `app`; each one owns its own sub-commands.
_COMMAND_MODULES = (
    "packet",
    "platform",
    "demo",
    "drivers",
    "recompute",
    "scan",
    "devices",
    "uplink",
    "run",
    "service",
    "config",
)


def _load_commands() -> None:
    for name in _COMMAND_MODULES:
        importlib.import_module(f"agent.cli.{name}").register(app)


def main() -> None:
    """Console entry point (`das`)."""
    _load_commands()
    app()
