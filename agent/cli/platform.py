"""`das platform ...`: the reference platform (code under hil/platform, docs/platform.md).

`serve` runs it; `command`, `fault` steer a running one through its SQLite file (the server polls it);
`report` and `frames` read what it recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

import typer

DbOption = Annotated[Path, typer.Option("--db", help="平台 SQLite 记录文件 / the platform's SQLite file")]


def _fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(2)


def _existing_db(db: Path) -> None:
    if not db.exists():
        _fail(f"记录文件不存在 / no such platform database: {db}")


def register(app: typer.Typer) -> None:
    platform = typer.Typer(help="参考平台 / reference HJ 212 platform for tests and demos.", no_args_is_help=True)
    app.add_typer(platform, name="platform")

    @platform.command()
    def serve(
        config: Annotated[Path | None, typer.Option(help="平台配置 TOML / platform config file")] = None,
        host: Annotated[str | None, typer.Option(help="监听地址 / listen address")] = None,
        port: Annotated[int | None, typer.Option(help="监听端口 / listen port (0 = any free port)")] = None,
        db: Annotated[Path | None, typer.Option(help="SQLite 记录文件 / recording file")] = None,
        version: Annotated[int | None, typer.Option(help="默认 HJ 212 版本 / default version (2017|2025)")] = None,
        unknown_mn: Annotated[
            str | None, typer.Option(help="未知 MN: accept|reject / what to do with MNs not configured")
        ] = None,
        scenario: Annotated[Path | None, typer.Option(help="场景文件 / scenario TOML to play")] = None,
        exit_after_scenario: Annotated[
            bool, typer.Option(help="场景结束后退出 / stop when the scenario is done (exit 1 if a step failed)")
        ] = False,
    ) -> None:
        """运行参考平台 / Run the reference platform until Ctrl-C or SIGTERM."""
        from hil.platform import PlatformConfig, PlatformConfigError, load_config, load_scenario

        try:
            cfg = load_config(config) if config else PlatformConfig()
            overrides: dict[str, object] = {}
            for key, value in (("host", host), ("port", port), ("db", str(db) if db else None)):
                if value is not None:
                    overrides[key] = value
            if unknown_mn is not None:
                overrides["unknown_mn"] = unknown_mn
            if version is not None:
                overrides["dialect"] = {**cfg.dialect.model_dump(), "version": version}
            if overrides:
                cfg = PlatformConfig.model_validate({**cfg.model_dump(by_alias=True), **overrides})
            plan = load_scenario(scenario) if scenario else None
        except (PlatformConfigError, ValueError) as err:
            _fail(f"配置错误 / bad configuration: {err}")
            return
        if cfg.db is None:
            _fail("需要 --db 或配置中的 db / give --db or `db` in the config")
            return
        code = asyncio.run(_serve(cfg, plan, exit_after_scenario))
        raise typer.Exit(code)

    @platform.command()
    def command(
        kind: Annotated[
            str,
            typer.Argument(
                help="命令 / command: set-time|get-time|set-rtd-interval|set-min-interval|history|set-password|"
                "set-overtime|start-rtd|stop-rtd|raw"
            ),
        ],
        db: DbOption,
        mn: Annotated[str, typer.Option(help="目标数采仪 MN / target DAS")],
        time_: Annotated[
            str | None, typer.Option("--time", help="set-time 的时间, 缺省为平台当前时间 / YYYYMMDDhhmmss")
        ] = None,
        polid: Annotated[
            str | None,
            typer.Option(help="set-time/get-time: 单台分析仪的 PolId / PolId of one analyzer"),
        ] = None,
        seconds: Annotated[
            int | None, typer.Option(help="set-rtd-interval: 实时数据间隔 RtdInterval 秒 / seconds (30-3600)")
        ] = None,
        minutes: Annotated[
            int | None,
            typer.Option(help="set-min-interval: 分钟数据间隔 MinInterval 分钟 / minutes (1, 2, …, 30)"),
        ] = None,
        history_kind: Annotated[
            str | None,
            typer.Option("--kind", help="history: 数据类型 / record kind: minute|hour|day|runtime"),
        ] = None,
        begin: Annotated[
            str | None, typer.Option(help="history: 起始时间 BeginTime / first time YYYYMMDDhhmmss")
        ] = None,
        end: Annotated[str | None, typer.Option(help="history: 结束时间 EndTime / last time YYYYMMDDhhmmss")] = None,
        password: Annotated[
            str | None, typer.Option(help="set-password: 新密码 NewPW, 6 个字符 / new password, 6 characters")
        ] = None,
        overtime: Annotated[
            int | None, typer.Option(help="set-overtime: 超时时间 OverTime 秒 / answer timeout in seconds")
        ] = None,
        recount: Annotated[int | None, typer.Option(help="set-overtime: 重发次数 ReCount / retry count")] = None,
        cn: Annotated[str | None, typer.Option(help="raw: 命令编码 CN / command code")] = None,
        cp: Annotated[str | None, typer.Option(help="raw: CP 文本 / CP text")] = None,
        wait: Annotated[float, typer.Option(help="等待结果秒数, 0 = 只排队 / seconds to wait for the outcome")] = 0.0,
    ) -> None:
        """向数采仪发送命令 / Queue a command for a running platform to send to a DAS."""
        from hil.platform import CommandError, PlatformStore, build_command, describe

        _existing_db(db)
        values = {
            "time": time_, "polid": polid, "seconds": seconds, "minutes": minutes, "kind": history_kind,
            "begin": begin, "end": end, "password": password, "overtime": overtime, "recount": recount,
            "cn": cn, "cp": cp,
        }  # fmt: skip
        args = {k: v for k, v in values.items() if v is not None}

        try:
            code, cp_built = build_command(kind, args, now=datetime.now())
        except (CommandError, ValueError) as err:
            _fail(f"命令错误 / bad command: {err}")
            return
        with PlatformStore(db) as store:
            command_id = store.queue_command(
                mn=mn, cn=code, cp=str(cp_built), source="cli", at=datetime.now(), kind=kind, args=args
            )
            typer.echo(f"命令已排队 / command {command_id} queued: CN={code} CP={cp_built}")
            if wait <= 0:
                return
            deadline = time.monotonic() + wait
            row = store.command(command_id)
            while row is not None and not row.finished and time.monotonic() < deadline:
                time.sleep(0.1)
                row = store.command(command_id)
            if row is None or not row.finished:
                typer.echo(f"未完成 / not finished after {wait:g} s: {row.status if row else '?'}")
                raise typer.Exit(1)
            typer.echo(f"结果 / outcome: {row.status}  QnRtn={row.qn_rtn}  ExeRtn={row.exe_rtn}  {row.detail or ''}")
            for frame in store.frames(command_id=command_id):
                typer.echo(describe(frame))
            raise typer.Exit(0 if row.status == "done" else 1)

    @platform.command()
    def fault(
        name: Annotated[
            str, typer.Argument(help="故障名 / fault: refuse|withhold|delay|bad-crc|garbage|drop-next|drop")
        ],
        value: Annotated[str, typer.Argument(help="on|off, 或 delay 的秒数 / or seconds for delay")] = "on",
        db: DbOption = Path("platform.sqlite"),
        mn: Annotated[str | None, typer.Option(help="drop: 只断开该 MN / only this MN's connections")] = None,
    ) -> None:
        """切换故障模式 / Switch a fault mode of a running platform (or drop connections now)."""
        from hil.platform import FaultError, PlatformStore, check_fault

        _existing_db(db)
        with PlatformStore(db) as store:
            if name == "drop":
                store.queue_action("drop", mn)
                typer.echo(f"断开连接 / drop queued ({mn or 'all'})")
                return
            try:
                check_fault(name, value)
            except FaultError as err:
                _fail(f"故障参数错误 / bad fault: {err}")
            store.set_fault(name, value)
            typer.echo(f"故障模式 / fault {name} = {value}")

    @platform.command()
    def report(
        db: DbOption,
        mn: Annotated[str | None, typer.Option(help="只报告该 MN / only this MN")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
        first: Annotated[str | None, typer.Option("--from", help="起始日 / first day YYYY-MM-DD")] = None,
        last: Annotated[str | None, typer.Option("--to", help="结束日 / last day YYYY-MM-DD")] = None,
        grace: Annotated[
            float | None,
            typer.Option(
                min=0,
                help="即时宽限秒数 (缺省取平台配置) / seconds an hour record may arrive after the end of the next "
                "hour and still count as realtime (default: the platform's realtime_grace)",
            ),
        ] = None,
    ) -> None:
        """统计报告 / Frames per CN, rejects, duplicates and effective transmission rate per MN."""
        from hil.platform import PlatformStore, render_text, report_from_store
        from hil.platform.report import days_between

        _existing_db(db)
        days = None
        if first or last:
            try:
                start = date.fromisoformat(first or last or "")
                stop = date.fromisoformat(last or first or "")
            except ValueError as err:
                _fail(f"日期错误 / bad day: {err}")
                return
            days = days_between(start, stop)
        with PlatformStore(db) as store:
            reports = report_from_store(
                store, mn=mn, days=days, grace=None if grace is None else timedelta(seconds=grace)
            )
        if as_json:
            typer.echo(json.dumps([r.as_dict() for r in reports], ensure_ascii=False, indent=2))
        else:
            typer.echo(render_text(reports))

    @platform.command()
    def frames(
        db: DbOption,
        mn: Annotated[str | None, typer.Option(help="只列该 MN / only this MN")] = None,
        cn: Annotated[str | None, typer.Option(help="只列该 CN / only this CN")] = None,
        direction: Annotated[
            str | None, typer.Option(help="方向: in 收到, out 发出 / direction: in (received) or out (sent)")
        ] = None,
        raw: Annotated[bool, typer.Option(help="显示原始字节 / show raw bytes")] = False,
    ) -> None:
        """列出记录的报文 / List recorded frames."""
        from hil.platform import PlatformStore, describe

        _existing_db(db)
        with PlatformStore(db) as store:
            for row in store.frames(mn=mn, cn=cn, direction=direction):
                typer.echo(describe(row, raw=raw))


async def _serve(cfg: object, plan: object, exit_after_scenario: bool) -> Literal[0, 1]:
    from hil.platform import Platform, PlatformConfig, Scenario, run_scenario

    assert isinstance(cfg, PlatformConfig) and cfg.db is not None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    code: Literal[0, 1] = 0
    async with Platform(cfg, cfg.db) as server:
        typer.echo(f"参考平台监听 / platform listening on {cfg.host}:{server.port}, 记录 / recording to {cfg.db}")
        if isinstance(plan, Scenario):
            results = await run_scenario(server, plan)
            for r in results:
                typer.echo(f"  步骤 / step {r.index} {r.what}: {'OK' if r.ok else 'FAIL'}  {r.detail}")
            code = 0 if all(r.ok for r in results) else 1
            if exit_after_scenario:
                return code
        await stop.wait()
        typer.echo("停止 / stopping")
    return code
