"""`das platform ...`: the reference platform (code under hil/)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    platform = typer.Typer(help="参考平台 / reference HJ 212 platform for tests and demos.", no_args_is_help=True)
    app.add_typer(platform, name="platform")
