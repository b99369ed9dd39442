"""`das demo`: what `make demo` runs. For now a scripted DAS ↔ reference platform exchange (hil/platform/demo.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        workdir: Annotated[
            Path | None, typer.Option(help="记录文件目录, 缺省为临时目录 / where to keep the SQLite file")
        ] = None,
    ) -> None:
        """演示: 数采仪与参考平台的一次交互 / Demo: a DAS talking HJ 212 to the reference platform."""
        from hil.platform.demo import run_demo

        if workdir is not None:
            workdir.mkdir(parents=True, exist_ok=True)
        raise typer.Exit(asyncio.run(run_demo(typer.echo, workdir)))
