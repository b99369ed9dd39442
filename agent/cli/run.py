"""`das run --config FILE`: the agent daemon (agent/daemon); what the systemd unit starts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run_command(
        config: Annotated[Path, typer.Option("--config", "-c", help="站点配置 / site configuration (TOML)")],
        clock_speed: Annotated[
            float, typer.Option("--clock-speed", help="时钟倍速 (测试/演示) / agent clock speed for tests and demos")
        ] = 1.0,
        clock_start: Annotated[
            str | None,
            typer.Option("--clock-start", help="时钟起点 / agent clock start, e.g. 2026-01-05T00:00:00 (site time)"),
        ] = None,
        clock_anchor: Annotated[
            float | None,
            typer.Option(
                "--clock-anchor",
                help="起点对应的 Unix 时间, 重启后沿用同一时间线 / Unix time at which the clock reads --clock-start "
                "(default: now); a restarted agent given the same anchor continues the same simulated timeline",
            ),
        ] = None,
        state_dir: Annotated[
            Path | None,
            typer.Option(
                "--state-dir", help="数据目录 (覆盖配置中的数据库目录) / directory for the store and status.json"
            ),
        ] = None,
        log_level: Annotated[str, typer.Option("--log-level", help="DEBUG | INFO | WARNING | ERROR")] = "INFO",
    ) -> None:
        """运行数采仪 / Run the agent: poll, compute, store and upload until SIGTERM (SIGHUP reloads the config)."""
        from agent.daemon.clock import parse_clock_start
        from agent.daemon.runner import run
        from agent.logs import setup_logging

        if clock_speed <= 0:
            raise typer.BadParameter("必须 > 0 / must be > 0", param_hint="--clock-speed")
        try:
            start = parse_clock_start(clock_start) if clock_start else None
        except ValueError as err:
            raise typer.BadParameter(str(err), param_hint="--clock-start") from err
        setup_logging(log_level.upper())
        code = run(config, clock_speed, start, clock_anchor=clock_anchor, state_dir=state_dir)
        if code == 2:
            typer.echo(f"配置无效 / configuration invalid: {config} (das config check {config})", err=True)
        raise typer.Exit(code)
