"""`das demo` (what `make demo` runs): the demo site's simulated devices, the reference platforms and `das run`.

`--scripted` keeps the short scripted DAS ↔ platform exchange (hil/platform/demo.py) that shows HJ 212 frames
both ways without the agent.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        workdir: Annotated[
            Path | None, typer.Option(help="工作目录, 缺省为临时目录 / where to keep config, store and recordings")
        ] = None,
        speed: Annotated[
            float, typer.Option(help="时钟倍速 / agent clock speed (120: a simulated hour in 30 real seconds)")
        ] = 120.0,
        duration: Annotated[
            float | None, typer.Option(help="运行秒数后停止 (缺省直到 Ctrl-C) / stop after this many real seconds")
        ] = None,
        sample_period: Annotated[
            float, typer.Option(help="采样周期 s (模拟时间) / poll interval in simulated seconds")
        ] = 30.0,
        scripted: Annotated[
            bool, typer.Option("--scripted", help="仅演示 HJ 212 报文交互 / only the scripted HJ 212 exchange")
        ] = False,
    ) -> None:
        """演示: 模拟设备 + 参考平台 + 数采仪 / Demo: simulated devices, reference platforms and the agent."""
        if workdir is not None:
            workdir.mkdir(parents=True, exist_ok=True)
        if scripted:
            from hil.platform.demo import run_demo as run_scripted

            raise typer.Exit(asyncio.run(run_scripted(typer.echo, workdir)))
        if speed <= 0:
            raise typer.BadParameter("必须 > 0 / must be > 0", param_hint="--speed")
        from hil.demo import run_demo

        raise typer.Exit(
            asyncio.run(run_demo(typer.echo, workdir, speed=speed, duration=duration, sample_period_s=sample_period))
        )
