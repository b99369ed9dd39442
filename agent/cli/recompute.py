"""`das recompute`: recompute minute/hour/day records from readings with a given parameter file and print them.

So an auditor or installer can check how any value was made (docs/statistics.md).
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class Output(StrEnum):
    json = "json"
    cp = "cp"


KINDS = ("rtd", "minute", "hour", "day", "runtime_day", "state")


def _time(text: str | None, name: str) -> datetime | None:
    from agent.stats.recompute import parse_time

    if text is None:
        return None
    try:
        return parse_time(text)
    except ValueError as err:
        raise typer.BadParameter(f"时间格式错误 / bad time {text!r} (YYYYMMDDhhmmss or ISO)", param_hint=name) from err


def recompute_command(
    config: Annotated[Path, typer.Option("--config", "-c", help="统计参数文件 / statistics parameters (TOML)")],
    readings: Annotated[Path, typer.Option("--readings", "-r", help="读数 CSV / readings CSV (arrival order)")],
    begin: Annotated[
        str | None, typer.Option("--from", help="起始时间 / start (default: first reading's hour)")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="结束时间 / end (default: end of last reading's hour)")
    ] = None,
    kind: Annotated[
        list[str] | None, typer.Option("--kind", "-k", help="记录类型 / record kinds: " + ", ".join(KINDS))
    ] = None,
    fmt: Annotated[
        Output, typer.Option("--format", "-f", help="输出格式 / output: json lines or HJ 212 CP")
    ] = Output.json,
    alarms: Annotated[bool, typer.Option("--alarms", help="同时输出报警 / also print alarms (json)")] = False,
) -> None:
    """重新计算统计记录 / recompute minute, hour and day records from readings."""
    from agent.stats import (
        ParamsFileError,
        ReadingsFileError,
        alarm_json,
        cp_text,
        decimals,
        load_params,
        read_readings_csv,
        recompute,
        record_json,
    )
    from agent.stats.alarms import final

    kinds = set(kind or ("minute", "hour", "day", "runtime_day"))
    unknown = kinds - set(KINDS)
    if unknown:
        raise typer.BadParameter(
            f"未知记录类型 / unknown kinds {sorted(unknown)}; choose from {KINDS}", param_hint="--kind"
        )
    try:
        params = load_params(config)
        rows = list(read_readings_csv(readings))
    except (ParamsFileError, ReadingsFileError, OSError) as err:
        typer.echo(f"错误 / error: {err}", err=True)
        raise typer.Exit(2) from err
    out = recompute(rows, params, start=_time(begin, "--from"), end=_time(end, "--to"))
    table = decimals(params)
    for record in out.records:
        if str(record.kind) not in kinds:
            continue
        if fmt is Output.cp:
            typer.echo(f"{record.kind}\t{cp_text(record, table)}")
        else:
            typer.echo(json.dumps(record_json(record), ensure_ascii=False))
    if alarms:
        for alarm in final(out.alarms):
            typer.echo(json.dumps({"alarm": alarm_json(alarm)}, ensure_ascii=False))


def register(app: typer.Typer) -> None:
    """Add `das recompute`."""
    app.command("recompute")(recompute_command)
