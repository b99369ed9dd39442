"""`das scan`: find devices on a serial port (across baud rates, parities, unit ids) or a Modbus TCP host.

Prints what answered and a config snippet for `[links]`/`[devices]` (drivers/profiles/config.py). Probes come
from `drivers.link.scan.PROBE_MODULES` (Modbus here; DL/T 645 adds its own).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import typer

from drivers.errors import LinkDown
from drivers.link.scan import (
    Found,
    ScanOptions,
    estimate_seconds,
    line_plan,
    load_probes,
    scan_serial,
    scan_tcp,
    serial_steps,
)

__all__ = ["parse_units", "register", "snippet"]


def parse_units(text: str) -> tuple[int, ...]:
    """ "1-10,17" → (1, …, 10, 17); unit ids 1..247 (RTU) / 255 (TCP)."""
    units: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        lo, _, hi = part.partition("-")
        try:
            a, b = int(lo), int(hi or lo)
        except ValueError:
            raise typer.BadParameter(f"单元号格式错误 / bad unit list {text!r} (e.g. 1-10,17)") from None
        if not 1 <= a <= b <= 255:
            raise typer.BadParameter(f"单元号超出范围 / unit ids must be within 1..255, got {part!r}")
        units.extend(range(a, b + 1))
    if not units:
        raise typer.BadParameter("没有单元号 / no unit ids given")
    return tuple(dict.fromkeys(units))


def _ints(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise typer.BadParameter(f"波特率格式错误 / bad baud list {text!r} (e.g. 9600,19200)") from None


def _parities(text: str) -> list[str]:
    values = [x.strip().upper() for x in text.split(",") if x.strip()]
    bad = [v for v in values if v not in ("N", "E", "O")]
    if bad or not values:
        raise typer.BadParameter(f"校验位应为 N/E/O / parity must be N, E or O, got {text!r}")
    return values


def snippet(found: Sequence[Found], *, tcp_framing: str = "tcp") -> str:
    """A config snippet with one link per endpoint/line setting and one device per finding."""
    lines: list[str] = []
    links: dict[tuple[str, str], str] = {}
    for f in found:
        key = (f.endpoint, f.line)
        if key in links:
            continue
        name = links[key] = f"link{len(links) + 1}"
        lines.append(f"[links.{name}]")
        if f.line:
            baud, frame = f.line.split()
            lines += ['type = "serial"', f'port = "{f.endpoint}"', f"baud = {baud}", f'parity = "{frame[1]}"']
        else:
            host, _, port = f.endpoint.rpartition(":")
            lines += ['type = "tcp"', f'host = "{host}"', f"port = {port}", f'framing = "{tcp_framing}"']
        lines.append("")
    for i, f in enumerate(found, 1):
        lines.append(f"[devices.dev{i}]  # {f.protocol} {f.detail}")
        lines.append('profile = "CHOOSE"  # 选择设备型号 / choose the device profile')
        lines.append(f'link = "{links[(f.endpoint, f.line)]}"')
        for k, v in f.device.items():
            lines.append(f"{k} = {v!r}".replace("'", '"'))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def _summary(probes: int, found: list[Found], seconds: float) -> None:
    """One line on stderr instead of a log line per silent unit id (the link owners are quiet during a scan)."""
    silent = max(0, probes - len(found))
    typer.echo(
        f"探测 {probes} 次，{len(found)} 台应答，{silent} 次无应答，用时 {seconds:.0f} s / "
        f"{probes} probes, {len(found)} answered, {silent} silent, {seconds:.0f} s",
        err=True,
    )


def _report(found: list[Found]) -> None:
    if not found:
        typer.echo("未发现设备 / no device answered")
        raise typer.Exit(1)
    typer.echo(f"发现 {len(found)} 台设备 / found {len(found)} device(s):")
    for f in found:
        where = f"{f.endpoint} {f.line}".strip()
        typer.echo(f"  {f.protocol:<11} {where:<28} 地址/address {f.address:<14} {f.detail}")
    typer.echo("\n# 配置片段 / config snippet")
    typer.echo(snippet(found))


def register(app: typer.Typer) -> None:
    """Add `das scan serial` and `das scan tcp`."""
    scan = typer.Typer(help="扫描设备 / find devices on a serial port or a Modbus TCP host", no_args_is_help=True)

    @scan.command("serial")
    def serial_cmd(
        port: str = typer.Argument(..., help="串口 / serial port, e.g. /dev/ttyUSB0"),
        baud: str | None = typer.Option(
            None,
            help="波特率列表 / baud rates to try, e.g. 9600,19200 "
            "(默认各协议常用 / default: each protocol's usual: Modbus 9600,19200,4800,2400,38400,115200; "
            "DL/T 645 2400,1200,9600)",
        ),
        parity: str | None = typer.Option(
            None, help="校验位列表 / parities to try, e.g. N,E (默认 / default: Modbus N,E; DL/T 645 E)"
        ),
        units: str = typer.Option("1-32", help="Modbus 单元号 / unit ids, e.g. 1-10,17 (默认 1-32; 全部 / all: 1-247)"),
        timeout: float = typer.Option(0.3, min=0.02, max=10, help="每次应答超时 / reply timeout per try, s"),
        first: bool = typer.Option(
            False, "--first", help="找到后停止 / stop after the first line setting that found any"
        ),
    ) -> None:
        """扫描串口 / probe a serial port across baud rates, parities and unit ids."""
        options = ScanOptions(units=parse_units(units), timeout=timeout)
        bauds = _ints(baud) if baud is not None else None
        parities = _parities(parity) if parity is not None else None
        plan = line_plan(port, load_probes(), bauds=bauds, parities=parities)
        total = serial_steps(plan, options)
        estimate = estimate_seconds(plan, options)
        settings = ", ".join(step.params.line for step in plan)
        typer.echo(
            f"{len(plan)} 种线路设置 / line settings: {settings}; 最长约 / at most ~{_duration(estimate)} "
            f"(无设备应答时 / if nothing answers; 用 --baud/--parity/--units 缩小 / narrow with them)",
            err=True,
        )
        started = time.monotonic()
        done = [0]
        with typer.progressbar(length=total, label="扫描中 / scanning") as bar:

            def progress(n: int) -> None:
                done[0] += n
                bar.update(n)

            try:
                found = asyncio.run(
                    scan_serial(
                        port,
                        plan=plan,
                        options=options,
                        progress=progress,
                        stop_at_first_line=first,
                    )
                )
            except LinkDown as err:
                typer.echo(f"\n连接失败 / connection failed: {err}", err=True)
                raise typer.Exit(2) from None
        _summary(done[0], found, time.monotonic() - started)
        _report(found)

    @scan.command("tcp")
    def tcp_cmd(
        host: str = typer.Argument(..., help="主机 / host or IP of the Modbus TCP device or gateway"),
        port: int = typer.Option(502, min=1, max=65535, help="端口 / TCP port"),
        units: str = typer.Option("1-247", help="单元号 / unit ids, e.g. 1,255"),
        timeout: float = typer.Option(0.5, min=0.02, max=10, help="每次应答超时 / reply timeout per try, s"),
    ) -> None:
        """扫描 Modbus TCP 主机 / probe a Modbus TCP host for unit ids."""
        options = ScanOptions(units=parse_units(units), timeout=timeout)
        probes = load_probes()
        total = sum(p.steps(options) for p in probes if p.transport in ("tcp", "both"))
        started = time.monotonic()
        with typer.progressbar(length=total, label="扫描中 / scanning") as bar:
            try:
                found = asyncio.run(scan_tcp(host, port, options=options, probes=probes, progress=bar.update))
            except LinkDown as err:
                typer.echo(f"\n连接失败 / connection failed: {err}", err=True)
                raise typer.Exit(2) from None
        _summary(total, found, time.monotonic() - started)
        _report(found)

    app.add_typer(scan, name="scan")
