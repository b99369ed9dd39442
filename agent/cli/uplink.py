"""`das uplink ...`: check a configured platform (`test`) and show outbox backlogs (`status`).

Both take the site configuration `das run` uses (its platforms built by `agent.config.build`, the store path
from its `[store]`), or the minimal uplink file with `[[platforms]]` tables matching
`uplink.settings.PlatformSettings` (docs/uplink.md).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from uplink.settings import PlatformSettings, UplinkConfig

ConfigOpt = Annotated[
    Path,
    typer.Option("--config", "-c", help="站点配置或上传配置 TOML / site configuration, or an uplink file (platforms)"),
]
StoreOpt = Annotated[
    Path | None, typer.Option("--store", help="数采仪存储 SQLite / the agent's store (default: `store` in the config)")
]


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


# What a platform does with a CP it cannot decrypt (HJ 212-2025 §6.4): the probe's kinds that may mean a wrong key
_SM4_SYMPTOMS = frozenset({"crc", "no-answer", "closed", "rejected"})
_SM4_HINT = "SM4 密钥可能不符 / SM4 key may not match (check sm4_key and cipher_wire with the platform)"


def _load(config: Path) -> tuple[UplinkConfig, dict[str, PlatformSettings]]:
    """The uplink settings from a site configuration or an uplink file, and for a site configuration the
    settings of each `"<platform>/<outlet>"` session (ST by the outlet's kind); exits with the loader's message."""
    from agent.config.detect import is_site_config
    from uplink.settings import UplinkConfig, UplinkConfigError, load_uplink_config

    if not is_site_config(config):
        try:
            return load_uplink_config(config), {}
        except UplinkConfigError as err:
            _fail(f"配置错误 / bad configuration: {err}")
    from agent.config import ConfigError, load_config
    from agent.config.build import mqtt_settings, platform_settings, session_settings, store_path

    try:
        site = load_config(config)
    except ConfigError as err:
        _fail(f"配置错误 / bad configuration: {err}")
        raise  # not reached: _fail exits
    uplink = UplinkConfig(
        store=str(store_path(site)),
        platforms=tuple(platform_settings(site).values()),
        mqtt=tuple(mqtt_settings(site).values()),
    )
    return uplink, session_settings(site)


def _parse_values(values: list[str]) -> list[tuple[str, float]]:
    out = []
    for text in values:
        code, eq, number = text.partition("=")
        try:
            if not eq or not code:
                raise ValueError
            out.append((code.strip(), float(number)))
        except ValueError:
            _fail(f"--value 格式应为 因子=数值 / --value must look like a21026=12.3, got {text!r}")
    return out


def register(app: typer.Typer) -> None:
    uplink = typer.Typer(help="平台上传 / HJ 212 platform uplink.", no_args_is_help=True)
    app.add_typer(uplink, name="uplink")

    @uplink.command("test")
    def test_cmd(
        platform: Annotated[str, typer.Argument(help="平台名称 / platform name in the config")],
        config: ConfigOpt,
        outlet: Annotated[str | None, typer.Option(help="监测点 / outlet (default: the first)")] = None,
        value: Annotated[
            list[str] | None, typer.Option("--value", help="实时值 因子=数值 / current value, e.g. a21026=12.3")
        ] = None,
        store: StoreOpt = None,
        as_json: Annotated[bool, typer.Option("--json", help="JSON 输出 / print JSON")] = False,
    ) -> None:
        """连接平台, 发送一条 2011 实时数据, 显示应答与往返时间 / Send one 2011 and show the answer and RTT."""
        from agent.daemon.clock import AgentClock
        from agent.model import RecordKind
        from drivers.clock import MonotonicClock
        from uplink.commands.redact import shown
        from uplink.cp_build import record_to_cp
        from uplink.hj212 import Cp, CpError
        from uplink.probe import probe

        cfg, sessions = _load(config)
        settings = cfg.platform(platform)
        if settings is None:
            names = ", ".join(p.name for p in cfg.platforms) or "-"
            _fail(f"未配置平台 / no platform named {platform!r} in {config} (configured: {names})")
            return
        outlet = outlet or next(iter(settings.mns))
        if outlet not in settings.mns:
            _fail(f"平台 {platform} 没有监测点 / no outlet {outlet!r} (has: {', '.join(settings.mns)})")
        settings = sessions.get(settings.target(outlet), settings)
        clock = AgentClock()  # the agent's one wall clock, as das run uses it
        now = clock.now()
        try:
            if value:
                pairs = _parse_values(value)
                cp = Cp.build(
                    {"DataTime": now.replace(microsecond=0)},
                    [(code, {"Rtd": v, "Flag": "N"}) for code, v in pairs],
                    settings.decimals,
                )
            else:
                path = Path(store) if store else (Path(cfg.store) if cfg.store else None)
                if path is None:
                    _fail("需要 --value 或存储 / give --value a21026=12.3, or --store (or `store` in the config)")
                    return
                from buffer import Store, StoreError

                try:
                    with Store(path, readonly=True) as db:
                        recent = db.records(outlet, RecordKind.RTD, now - timedelta(days=1), now + timedelta(hours=1))
                except StoreError as err:
                    _fail(f"无法读取存储 / cannot read the store: {err}")
                    return
                if not recent:
                    _fail(f"存储中没有 {outlet} 的实时数据 / no real-time record of {outlet} in {path}; use --value")
                    return
                cp = record_to_cp(recent[-1], settings.decimals)
        except CpError as err:
            _fail(f"数值无法发送 / value cannot be sent: {err}")
            return
        result = asyncio.run(probe(settings, outlet, cp, clock=clock, timer=MonotonicClock()))
        if settings.encrypt and result.kind in _SM4_SYMPTOMS:
            # a platform that cannot decrypt the CP answers nothing, closes or reports a CRC error (§6.4)
            result = dataclasses.replace(result, message=f"{result.message} — {_SM4_HINT}")
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "platform": platform,
                        "outlet": outlet,
                        "ok": result.ok,
                        "kind": result.kind,
                        "message": result.message,
                        "rtt_ms": None if result.rtt_s is None else round(result.rtt_s * 1000, 1),
                        "sent": None if result.sent is None else shown(result.sent),
                        "answer": None if result.answer is None else shown(result.answer),
                    },
                    ensure_ascii=False,
                )
            )
        else:
            typer.echo(f"平台 / platform {platform} ({settings.host}:{settings.port}), 监测点 / outlet {outlet}")
            if result.sent is not None:
                typer.echo(f"发送 / sent:    {shown(result.sent)}")
            if result.answer is not None:
                typer.echo(f"应答 / answer:  {shown(result.answer)}")
            if result.rtt_s is not None:
                typer.echo(f"往返 / RTT:     {result.rtt_s * 1000:.1f} ms")
            status = "成功 / OK" if result.ok else "失败 / FAILED"
            typer.echo(f"{status}: {result.message}")
        raise typer.Exit(0 if result.ok else 1)

    @uplink.command("status")
    def status_cmd(
        config: ConfigOpt,
        store: StoreOpt = None,
        as_json: Annotated[bool, typer.Option("--json", help="JSON 输出 / print JSON")] = False,
    ) -> None:
        """各上传目标的待发积压 / Outbox backlog per configured target (count, oldest data, age)."""
        from buffer import Store, StoreError

        cfg, _ = _load(config)
        path = Path(store) if store else (Path(cfg.store) if cfg.store else None)
        if path is None:
            _fail("需要 --store 或配置中的 store / give --store or `store` in the config")
            return
        rows = []
        try:
            with Store(path, readonly=True) as db:
                for p in cfg.platforms:
                    for target in p.targets():
                        stats = db.backlog_stats(target, datetime.now())
                        rows.append(
                            {
                                "target": target,
                                "pending": stats.pending,
                                "oldest_data_time": stats.oldest_data_time.isoformat(sep=" ")
                                if stats.oldest_data_time
                                else None,
                                "oldest_age_s": None if stats.oldest_age is None else stats.oldest_age.total_seconds(),
                            }
                        )
        except StoreError as err:
            _fail(f"无法读取存储 / cannot read the store: {err}")
            return
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False))
            return
        typer.echo(f"{'目标 target':<32} {'待发 pending':>12}  最早数据 oldest data")
        for row in rows:
            typer.echo(f"{row['target']:<32} {row['pending']:>12}  {row['oldest_data_time'] or '-'}")
