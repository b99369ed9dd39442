"""`das config check`, `das config sample`, `das init`: write and validate the site configuration.

`check` prints what will run (links with their devices, outlets with their factors, platforms with their
dialect and MNs, MQTT, retention) or every problem with its line; secrets are never printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agent.config import ConfigError, SiteConfig, load_config
from agent.config.factors import factor_label
from agent.config.init_site import InitError, InitOptions, build_site, profile_choices
from agent.config.render import render_config
from agent.config.sample import sample_text
from agent.stats.params import OutletKind
from drivers.link import SerialParams

if TYPE_CHECKING:
    from agent.config.build import PowerPlan
    from agent.config.model import OutletPower

__all__ = ["register", "render_summary"]


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    widths = [max(_width(r[c]) for r in rows) for c in range(len(rows[0]))]
    return [
        indent + "  ".join(cell + " " * (widths[c] - _width(cell)) for c, cell in enumerate(r)).rstrip() for r in rows
    ]


def _power_lines(section: OutletPower | None, plan: PowerPlan | None) -> list[str]:
    """`[outlets.<id>.power]`: the ST=44 (HJ 212-2025 用电监控) points with their configured d-codes, the
    platforms that get them and the interval actually used (the default is the platforms' RtdInterval)."""
    if section is None or plan is None:
        return []
    head = f"      用电监控 power (ST=44) → {', '.join(plan.platforms)}  每 every {plan.interval_s} s"
    rows = [["代码 d-code", "类型 role", "小数 dec", "来源 point", "说明 title"]]
    for p in section.points:
        role = "生产 production" if p.role == "production" else "治理 treatment"
        rows.append([p.code, role, str(p.decimals), p.point, p.title or "-"])
    return [head, *_table(rows, "        ")]


def render_summary(config: SiteConfig) -> str:
    """What will run, in both languages; built from the builders' output, so it shows what `das run` gets."""
    from agent.config import build

    out = [f"站点 site: {config.site.name}    (配置版本 config version {config.version})"]
    out.append(f"存储 store: {build.store_path(config)}")
    params = build.link_params(config)
    out += ["", f"链路 links ({len(config.links)}):"]
    for name, link in config.links.items():
        p = params[name]
        if isinstance(p, SerialParams):
            where = f"串口 serial {p.port} {p.line}"
        else:
            framing = getattr(link, "framing", "tcp")
            where = f"TCP {p.endpoint} ({'Modbus TCP' if framing == 'tcp' else 'RTU over TCP'})"
        out.append(f"  {name}: {where}")
        rows = []
        for dev, device in config.devices.items():
            if device.link != name:
                continue
            profile = config.profiles[dev].device
            addr = f"address {device.address}" if device.address else f"unit {device.unit or profile.unit_id}"
            rows.append([dev, profile.title, f"[{profile.name}]", addr])
        out += _table(rows, "      ") if rows else ["      (无设备 no devices)"]

    outlets = build.outlet_params(config)
    power = build.power_points(config)
    out += ["", f"排放口 outlets ({len(config.outlets)}):"]
    for oid, outlet in config.outlets.items():
        p = outlets[oid]
        kind = "废气 gas" if outlet.kind is OutletKind.GAS else "废水 water"
        extra = f", 基准氧 reference O2 {p.reference_o2} %" if p.reference_o2 is not None else ""
        out.append(
            f"  {oid} {kind} {outlet.title}  MinInterval {p.min_interval} min, RtdInterval {p.rtd_interval} s{extra}"
        )
        rows = [["因子 code", "名称 name", "单位 unit", "小数 dec", "来源 point", "限值 limit"]]
        for f, src in zip(p.factors, outlet.factors, strict=True):
            limit = "-" if f.limit is None else f"{f.limit:g}"
            rows.append([f.code, factor_label(f.code), f.unit or "-", str(f.decimals), src.point, limit])
        out += _table(rows, "      ")
        for eq, src in zip(p.equipment, outlet.equipment, strict=True):
            role = "生产 production" if eq.role == "production" else "治理 treatment"
            out.append(f"      设施 {eq.code} {eq.name} {role} ← {src.point} (运行 running > {eq.on_threshold:g})")
        out += _power_lines(outlet.power, power.get(oid))

    platforms = build.platform_settings(config)
    sessions = build.session_settings(config)
    out += ["", f"平台 platforms ({len(platforms)}):"]
    for name, s in platforms.items():
        sm4 = ", SM4 加密 encrypted" if s.encrypt else ""
        out.append(f"  {name}: HJ 212-{s.version}{sm4}  {s.host}:{s.port}  PW ******")
        for outlet, mn in s.mns.items():
            session = sessions[s.target(outlet)]
            out.append(
                f"      {outlet} → MN {mn}  ST {session.st}  MinInterval {session.min_interval} min, "
                f"RtdInterval {session.rtd_interval} s"
            )
    mqtt = build.mqtt_settings(config)
    out += ["", f"MQTT ({len(mqtt)}):" if mqtt else "MQTT: 无 none"]
    for name, m in mqtt.items():
        out.append(f"  {name}: {m.host}:{m.port} {'TLS ' if m.tls else ''}topic {m.topic} payload {m.payload}")
    policy = build.retention_policy(config)
    ages = ", ".join(f"{k} {v.days} d" for k, v in policy.ages.items())
    budget = "不限 none" if policy.disk_budget is None else f"{policy.disk_budget >> 20} MiB"
    out += ["", f"保存 retention: {ages}", f"磁盘预算 disk budget: {budget}"]
    if config.secret_sources:
        where = ", ".join(f"{n} ← {src}" for n, src in config.secret_sources.items())
        out.append(f"密钥 secrets (不显示 not shown): {where}")
    return "\n".join(out)


def register(app: typer.Typer) -> None:
    config_app = typer.Typer(help="站点配置 / site configuration: check, sample.", no_args_is_help=True)

    @config_app.command("check")
    def check(file: Annotated[Path, typer.Argument(help="配置文件 / configuration file")]) -> None:
        """检查配置并显示将运行的内容 / validate a configuration and show what will run."""
        try:
            config = load_config(file)
        except ConfigError as err:
            typer.echo(f"配置错误 / configuration errors ({len(err.problems)}):", err=True)
            typer.echo(str(err), err=True)
            raise typer.Exit(2) from None
        typer.echo(render_summary(config))
        typer.echo("\n配置有效 / configuration OK")

    @config_app.command("sample")
    def sample() -> None:
        """打印带注释的示例配置 / print a commented sample configuration."""
        typer.echo(sample_text(), nl=False)

    app.add_typer(config_app, name="config")

    @app.command("init")
    def init(
        output: Annotated[Path, typer.Option("--output", "-o", help="写入文件 / file to write")] = Path("das.toml"),
        site: Annotated[str | None, typer.Option(help="站点名称 / site name")] = None,
        device: Annotated[
            list[str] | None,
            typer.Option(help="[名称=]配置文件@链路[:地址] / [name=]profile@/dev/ttyS1:unit or @host:port:unit"),
        ] = None,
        outlet: Annotated[list[str] | None, typer.Option(help="编号=gas|water / ID=gas|water")] = None,
        mn: Annotated[list[str] | None, typer.Option(help="[排放口=]MN / [outlet=]MN")] = None,
        platform: Annotated[
            list[str] | None, typer.Option(help="[名称=]主机:端口[@2017|2025] / [name=]host:port[@version]")
        ] = None,
        reference_o2: Annotated[float | None, typer.Option(help="基准氧 % / reference O2 %")] = None,
        duct_area: Annotated[float | None, typer.Option(help="烟道截面积 m2 / duct area m2")] = None,
        yes: Annotated[bool, typer.Option("--yes", "-y", help="不提问 / ask nothing, use flags only")] = False,
        force: Annotated[bool, typer.Option(help="覆盖已有文件 / overwrite an existing file")] = False,
    ) -> None:
        """按问答或参数生成带注释的配置 / write a commented configuration from answers or flags."""
        if output.exists() and not force:
            typer.echo(f"文件已存在 / {output} exists (use --force to overwrite)", err=True)
            raise typer.Exit(2)
        options = InitOptions(
            site=site,
            devices=list(device or []),
            outlets=list(outlet or []),
            mns=list(mn or []),
            platforms=list(platform or []),
            reference_o2=reference_o2,
            duct_area=duct_area,
        )
        if not yes:
            options = _ask(options)
        notes: list[str] = []
        try:
            data = build_site(options, notes=notes)
        except InitError as err:
            typer.echo(f"无法生成 / cannot write the configuration: {err}", err=True)
            raise typer.Exit(2) from None
        header = "由 das init 生成 / written by das init; 其余键见 / all keys: das config sample"
        text = render_config(data, header=header)
        output.write_text(text, encoding="utf-8")
        try:
            config = load_config(output)
        except ConfigError as err:
            typer.echo(f"已写入 {output}, 但需要修改 / written, but needs editing:\n{err}", err=True)
            raise typer.Exit(2) from None
        typer.echo(f"已写入 / written: {output}")
        for note in notes:
            typer.echo(f"注意 / note: {note}", err=True)
        typer.echo(render_summary(config))


def _ask(options: InitOptions) -> InitOptions:
    """Prompt for what the flags did not give; an empty answer ends a list."""
    if options.site is None:
        options.site = typer.prompt("站点名称 / site name")
    if not options.devices:
        typer.echo("可选设备配置文件 / device profiles:")
        for name, title in profile_choices():
            typer.echo(f"  {name:24} {title}")
        typer.echo("设备格式 / device as: profile@/dev/ttyS1:unit, profile@host:port:unit (空行结束 / empty line ends)")
        while answer := typer.prompt("设备 / device", default="", show_default=False).strip():
            options.devices.append(answer)
    if not options.platforms:
        typer.echo("平台格式 / platform as: [name=]host:port[@2017|2025] (空行结束 / empty line ends)")
        while answer := typer.prompt("平台 / platform", default="", show_default=False).strip():
            options.platforms.append(answer)
    if options.platforms and not options.mns:
        for oid in build_site(options, draft=True)["outlets"]:
            options.mns.append(f"{oid}=" + typer.prompt(f"{oid} 的 MN / MN of outlet {oid}"))
    return options
