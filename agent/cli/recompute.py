"""`das recompute`: recompute minute/hour/day records from readings with a given parameter file and print them.

So an auditor or installer can check how any value was made (docs/statistics.md). The parameters come from a
statistics parameter file (`--config`) or from the site configuration `das run` uses (`--site-config` with
`--outlet`), built by the same builders, so what is recomputed is what the agent computed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from agent.model import Reading
    from agent.stats import OutletParams


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


def _site_outlet(site_config: Path, outlet: str) -> tuple[OutletParams, dict[tuple[str, str], str]]:
    """The outlet's parameters and feeds ((device, stored code) → outlet code) as `das run` builds them."""
    from agent.config import ConfigError, load_config
    from agent.daemon.plan import plan_from_config

    try:
        plan = plan_from_config(load_config(site_config))
    except (ConfigError, OSError) as err:
        typer.echo(f"错误 / error: {err}", err=True)
        raise typer.Exit(2) from err
    for candidate in plan.outlets:
        if candidate.name == outlet:
            return candidate.params, dict(candidate.feeds)
    names = ", ".join(o.name for o in plan.outlets) or "(none)"
    raise typer.BadParameter(f"站点配置中没有排放口 / no outlet {outlet!r} in {site_config}; outlets: {names}")


def recompute_command(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="统计参数文件 / statistics parameters (TOML)")
    ] = None,
    readings: Annotated[
        Path | None, typer.Option("--readings", "-r", help="读数 CSV / readings CSV (arrival order)")
    ] = None,
    store: Annotated[
        Path | None, typer.Option("--store", help="数据库 / SQLite store (with --device, --from, --to)")
    ] = None,
    device: Annotated[
        list[str] | None, typer.Option("--device", "-d", help="设备 / device whose readings to take from the store")
    ] = None,
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
    site_config: Annotated[
        Path | None,
        typer.Option(
            "--site-config",
            help="站点配置 (代替 --config, 配合 --outlet) / site configuration instead of --config (with --outlet)",
        ),
    ] = None,
    outlet: Annotated[
        str | None, typer.Option("--outlet", help="站点配置中的排放口 / outlet of the site configuration, e.g. DA001")
    ] = None,
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
    if (readings is None) == (store is None):
        raise typer.BadParameter(
            "给出 --readings 或 --store 之一 / give either --readings or --store", param_hint="--readings"
        )
    if (config is None) == (site_config is None):
        raise typer.BadParameter(
            "给出 --config 或 --site-config 之一 / give either --config or --site-config", param_hint="--config"
        )
    if (site_config is None) != (outlet is None):
        raise typer.BadParameter("--site-config 与 --outlet 一起使用 / use --site-config with --outlet")
    start, stop = _time(begin, "--from"), _time(end, "--to")
    feeds: dict[tuple[str, str], str] | None = None
    try:
        if site_config is not None and outlet is not None:
            params, feeds = _site_outlet(site_config, outlet)
        else:
            params = load_params(config)  # type: ignore[arg-type]  # config is set here
        if readings is not None:
            rows = list(read_readings_csv(readings))
        else:
            rows = _from_store(store, device or [], params, start, stop, feeds)  # type: ignore[arg-type]
    except (ParamsFileError, ReadingsFileError, OSError) as err:
        typer.echo(f"错误 / error: {err}", err=True)
        raise typer.Exit(2) from err
    out = recompute(rows, params, start=start, end=stop)
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


def _from_store(
    path: Path,
    devices: list[str],
    params: OutletParams,
    start: datetime | None,
    stop: datetime | None,
    feeds: Mapping[tuple[str, str], str] | None = None,
) -> list[Reading]:
    """Readings of the outlet's factors from the store. The store keeps time order, not arrival order, so a
    backward clock jump's re-lived readings are merged into their windows here (a CSV in arrival order replays
    the engine exactly).

    With a site configuration (`feeds`), the readings are those the daemon's outlet takes: each device's stored
    code, renamed to the outlet's code as the daemon does (agent/daemon/pipeline.py); `--device` is optional
    then and narrows the devices.
    """
    from dataclasses import replace

    from buffer import Store, StoreError

    if feeds is not None:
        wanted = [(dev, stored, code) for (dev, stored), code in feeds.items() if not devices or dev in devices]
    else:
        codes = [f.code for f in params.factors] + [eq.source for eq in params.equipment]
        wanted = [(dev, code, code) for dev in devices for code in codes]
    if not wanted or start is None or stop is None:
        raise typer.BadParameter("--store 需要 --device, --from, --to / --store needs --device, --from and --to")
    if not path.exists():
        raise OSError(f"{path}: 数据库不存在 / no such store")
    try:
        with Store(path, readonly=True) as db:
            rows = [
                r if r.factor == code else replace(r, factor=code)
                for dev, stored, code in wanted
                for r in db.readings(dev, stored, start, stop)
            ]
    except StoreError as err:
        raise OSError(f"{path}: {err}") from err
    return sorted(rows, key=lambda r: r.time)


def register(app: typer.Typer) -> None:
    """Add `das recompute`."""
    app.command("recompute")(recompute_command)
