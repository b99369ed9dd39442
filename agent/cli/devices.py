"""`das read`, `das monitor`, `das simulate`, `das profiles`: field devices through their profiles.

`read` and `monitor` take the site configuration (`das init`'s file, recognised by its `[site]` table; its
`[links]`/`[devices]`, with the factor codes its outlets give the points; docs/configuration.md) or a bare
devices config (docs/profiles.md, `drivers.profiles.config`). `simulate` runs per-profile simulators and
prints how to reach each, and can write the devices config that reads them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from drivers.flags import FLAG_TEXT
from drivers.profiles import ProfileError

if TYPE_CHECKING:
    from drivers.link import LinkRegistry
    from drivers.profiles.config import DevicesConfig
    from drivers.profiles.schema import Profile
    from drivers.reader import PointReading, ProfiledDevice

__all__ = ["format_table", "register"]


def _fail(message: str, code: int = 2) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def format_table(rows: list[list[str]]) -> str:
    widths = [max(_width(r[c]) for r in rows) for c in range(len(rows[0]))]
    return "\n".join("  ".join(_pad(cell, widths[c]) for c, cell in enumerate(r)).rstrip() for r in rows)


def _value_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.6g}"


def _reading_rows(readings: list[PointReading], with_device: bool = False) -> list[list[str]]:
    head = ["因子 factor", "名称 name", "值 value", "单位 unit", "标记 flag", "说明 note"]
    if with_device:
        head = ["设备 device", *head]
    rows = [head]
    for r in readings:
        row = [r.factor or "-", r.title, _value_text(r.value), r.unit or "-", r.flag, r.note]
        rows.append([r.device, *row] if with_device else row)
    return rows


def _as_json(name: str, readings: list[PointReading], time: datetime) -> dict[str, object]:
    return {
        "device": name,
        "time": time.isoformat(timespec="seconds"),
        "info": dict(readings[0].info) if readings else {},
        "points": [
            {
                "point": r.point,
                "factor": r.factor,
                "title": r.title,
                "value": r.value,
                "unit": r.unit,
                "flag": r.flag,
                "device_time": r.device_time.isoformat() if r.device_time else None,
                "raw": list(r.raw),
                "note": r.note,
            }
            for r in readings
        ],
    }


def _load(config_path: Path) -> tuple[DevicesConfig, dict[str, Profile]]:
    """A devices config, or the site configuration `das init` writes and `das run` uses (its `[links]` and
    `[devices]`, with the codes its outlets give the points), so an installer checks wiring with the same file.

    Raises `ProfileError` for a devices config and `agent.config.ConfigError` (`FILE:LINE: key: …`) for a site
    configuration: each already names the file, so the command prints it as it is.
    """
    from agent.config.detect import is_site_config
    from drivers.profiles.config import load_devices_config

    if not is_site_config(config_path):
        return load_devices_config(config_path)
    from agent.config import load_config
    from agent.config.build import devices_config

    site = load_config(config_path)
    return devices_config(site), dict(site.profiles)


async def _open(config_path: Path) -> tuple[DevicesConfig, LinkRegistry, dict[str, ProfiledDevice]]:
    from drivers.link import LinkRegistry
    from drivers.reader import build_devices

    config, profiles = _load(config_path)
    registry = LinkRegistry()
    try:
        devices = build_devices(config, profiles, registry)
    except ValueError as err:
        await registry.close()
        raise ProfileError(str(config_path), [str(err)]) from err
    return config, registry, devices


async def _read(config_path: Path, name: str, as_json: bool) -> int:
    _, registry, devices = await _open(config_path)
    try:
        if name not in devices:
            _fail(f"未知设备 / no device {name!r} in {config_path}; devices: {', '.join(devices) or 'none'}")
        readings = await devices[name].read()
    finally:
        await registry.close()
    now = datetime.now().replace(microsecond=0)
    if as_json:
        typer.echo(json.dumps(_as_json(name, readings, now), ensure_ascii=False))
    else:
        profile = devices[name].profile.device
        typer.echo(f"{name}  {profile.title}  [{profile.name}]  {now:%Y-%m-%d %H:%M:%S}")
        typer.echo(format_table(_reading_rows(readings)))
        info = readings[0].info if readings else {}
        if info:
            typer.echo("3020: " + "  ".join(f"{k}={v}" for k, v in sorted(info.items())))
    return 1 if readings and all(r.flag == "B" for r in readings) else 0


async def _monitor(config_path: Path, interval: float, count: int | None) -> None:
    config, registry, devices = await _open(config_path)
    clear = sys.stdout.isatty()
    try:
        n = 0
        while count is None or n < count:
            n += 1
            results = await asyncio.gather(*(d.read() for d in devices.values()))
            lines = []
            for (name, device), readings in zip(devices.items(), results, strict=True):
                link = config.devices[name].link
                owner = next((o for o in registry.owners() if o.endpoint in _endpoints(config, link)), None)
                up = owner is not None and owner.is_connected
                health = owner.health(name) if owner is not None else None
                state = "正常 ok" if device.last_error is None else f"故障 failed: {device.last_error}"
                ok = f"{health.ok}/{health.requests}" if health else "-"
                lines.append(
                    f"{name} [{device.profile.device.name}] 链路 link {link} {'up' if up else 'down'}  "
                    f"{state}  应答 replies {ok}"
                )
                lines.append(format_table(_reading_rows(readings)))
                lines.append("")
            stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
            text = f"das monitor  {stamp}  (Ctrl-C 退出 / to quit)\n\n" + "\n".join(lines)
            typer.echo(("\x1b[H\x1b[2J" if clear else "") + text)
            if count is None or n < count:
                await asyncio.sleep(interval)
    finally:
        await registry.close()


def _endpoints(config: DevicesConfig, link: str) -> set[str]:
    """The owner endpoint of a configured link (`drivers.link.params`: the port path, or `host:port`)."""
    from drivers.profiles.config import SerialLinkConfig

    cfg = config.links[link]
    if isinstance(cfg, SerialLinkConfig):
        return {cfg.port}
    return {f"{cfg.host.strip().lower()}:{cfg.port}"}


async def _simulate(config_path: Path, write: Path | None, duration: float | None, control: Path | None) -> None:
    from hil.simulate import SimulatorSet, load_sim_config

    config, profiles = load_sim_config(config_path)
    async with SimulatorSet(config, profiles, control=control) as sims:
        typer.echo("模拟设备已启动 / simulated devices running:")
        for line in sims.describe():
            typer.echo("  " + line)
        if write is not None:
            write.write_text(sims.devices_config(), encoding="utf-8")
            typer.echo(f"设备配置已写入 / devices config written: {write}  (das read NAME --config {write})")
        if control is not None:
            typer.echo(f"故障控制 / faults: das simulate fault --control {control} DEVICE KIND on|off")
        sys.stdout.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), duration)
    typer.echo("模拟设备已停止 / simulators stopped")


def _switch_fault(control: Path, device: str, kind: str, on: bool, code: int | None, wait: float) -> int:
    """Ask the running simulator for a fault and wait for its acknowledgement (`hil.sim.control`)."""
    import time

    from hil.sim.control import ControlDir

    ctl = ControlDir(control)
    devices = ctl.devices()
    if devices is None:
        _fail(f"没有运行中的模拟 / no running das simulate uses {control} (start it with --control {control})")
        return 2
    if device not in devices:
        _fail(f"未知设备 / no simulated device {device!r}; devices: {', '.join(sorted(devices))}")
    if kind not in devices[device]:
        _fail(f"{device} 不支持 / does not support {kind!r}; kinds: {', '.join(devices[device])}")
    argument = "" if code is None else str(code)
    ctl.switch(device, kind, on, argument)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        now = ctl.applied().get(device, {})
        if (kind in now and now[kind] == argument) if on else kind not in now:
            typer.echo(f"已生效 / applied: {device} {kind} {'on' if on else 'off'}")
            return 0
        time.sleep(0.05)
    typer.echo(f"未生效 / not applied within {wait:g} s: {device} {kind} (is das simulate running?)", err=True)
    return 1


def register(app: typer.Typer) -> None:
    """Add `read`, `monitor`, `simulate` and `profiles` to `das`."""

    @app.command("read")
    def read_command(
        device: Annotated[str, typer.Argument(help="设备名 / device name in the config")],
        config: Annotated[
            Path,
            typer.Option("--config", "-c", help="站点配置或设备配置 / site configuration or devices config (TOML)"),
        ],
        as_json: Annotated[bool, typer.Option("--json", help="JSON 输出 / one JSON object")] = False,
    ) -> None:
        """读取一次设备 / Read a device once: factor, value, unit, flag."""
        from agent.config import ConfigError

        try:
            code = asyncio.run(_read(config, device, as_json))
        except (ProfileError, ConfigError) as err:
            _fail(f"配置错误 / configuration error:\n{err}")
        raise typer.Exit(code)

    @app.command("monitor")
    def monitor_command(
        config: Annotated[
            Path,
            typer.Option("--config", "-c", help="站点配置或设备配置 / site configuration or devices config (TOML)"),
        ],
        interval: Annotated[float, typer.Option(help="刷新间隔 s / refresh interval")] = 2.0,
        count: Annotated[int | None, typer.Option(help="刷新次数后退出 / stop after N refreshes")] = None,
    ) -> None:
        """实时监视全部设备 / Live table of all devices with link state."""
        from agent.config import ConfigError

        try:
            asyncio.run(_monitor(config, interval, count))
        except (ProfileError, ConfigError) as err:
            _fail(f"配置错误 / configuration error:\n{err}")
        except KeyboardInterrupt:
            pass

    simulate = typer.Typer(
        help="运行模拟设备 / Run simulated devices (one per profile) and print how to reach each; "
        "`das simulate fault` switches their faults while they run.",
    )

    @simulate.callback(invoke_without_command=True)
    def simulate_command(
        ctx: typer.Context,
        config: Annotated[
            Path | None, typer.Option("--config", "-c", help="模拟配置 / simulators config (TOML)")
        ] = None,
        write_devices: Annotated[
            Path | None, typer.Option("--write-devices", help="写出设备配置 / write a devices config for das read")
        ] = None,
        duration: Annotated[float | None, typer.Option(help="运行秒数 / stop after N seconds")] = None,
        control: Annotated[
            Path | None,
            typer.Option(help="故障控制目录 / control directory for `das simulate fault` (hil/README.md)"),
        ] = None,
    ) -> None:
        """运行模拟设备 / Run simulated devices (one per profile) and print how to reach each."""
        if ctx.invoked_subcommand is not None:
            return
        if config is None:
            _fail("需要 --config / --config FILE expected (or a sub-command: fault)")
            return
        try:
            asyncio.run(_simulate(config, write_devices, duration, control))
        except ProfileError as err:
            _fail(f"配置错误 / configuration error:\n{err}")
        except KeyboardInterrupt:
            pass

    @simulate.command("fault")
    def fault_command(
        control: Annotated[Path, typer.Option(help="模拟器的控制目录 / the simulator's --control directory")],
        device: Annotated[str, typer.Argument(help="设备名 / simulated device name")],
        kind: Annotated[
            str,
            typer.Argument(
                help="故障 / fault: no_answer, exception, garbage, disconnect, stuck, wire_break, out_of_range"
            ),
        ],
        state: Annotated[str, typer.Argument(help="on | off")],
        code: Annotated[
            int | None,
            typer.Option(min=1, max=255, help="异常码 / exception code (Modbus default 4, DL/T 645 ERR default 2)"),
        ] = None,
        wait: Annotated[float, typer.Option(min=0.1, max=60, help="等待生效 s / wait for the simulator, s")] = 5.0,
    ) -> None:
        """切换模拟设备故障 / Switch a fault of a running das simulate on or off."""
        if state not in ("on", "off"):
            _fail(f"状态应为 on 或 off / state must be on or off, got {state!r}")
        if code is not None and kind != "exception":
            _fail("--code 只用于 exception / --code is for the exception fault only")
        raise typer.Exit(_switch_fault(control, device, kind, state == "on", code, wait))

    app.add_typer(simulate, name="simulate")

    @app.command("profiles")
    def profiles_command(
        check: Annotated[Path | None, typer.Option("--check", help="检查配置文件 / validate a profile file")] = None,
    ) -> None:
        """列出或检查设备配置文件 / List the built-in device profiles, or check one file."""
        from drivers.profiles import builtin_names, load_builtin, load_profile

        if check is not None:
            try:
                profile = load_profile(check)
            except ProfileError as err:
                _fail(str(err), 1)
            typer.echo(f"正确 / ok: {profile.device.name} ({len(profile.points)} points, {len(profile.state)} states)")
            return
        rows = [["名称 name", "类型 kind", "协议 protocol", "设备 device"]]
        for name in builtin_names():
            d = load_builtin(name).device
            rows.append([name, d.kind, d.protocol, d.title])
        typer.echo(format_table(rows))
        typer.echo("\n标记 flags: " + ", ".join(f"{k} {v}" for k, v in FLAG_TEXT.items()))
