"""The demo site: simulated devices of a realistic station, the reference platforms, and the agent between them.

The site is the shipped demo configuration (agent/config/demo_site.toml): a flue-gas outlet DA001 (CEMS and
flue-gas parameters behind a Modbus TCP gateway), a wastewater outlet DW001 (COD, NH3-N, TP, TN, pH and flow on
one RS-485 bus behind a serial server), a Modbus power meter on the production line and a DL/T 645 meter at the
treatment plant, and two platforms (HJ 212-2017 and -2025). `SiteSims` serves every device of that file on
loopback TCP; `derive_config` writes a copy with the simulators' and platforms' ports and the demo's store.

The simulators follow the agent clock (same start, speed and anchor as `das run --clock-*`), so an analyzer's
measuring cycle, a CEMS blow-back and the energy counters move with simulated time, while their wire timing
stays physical (real seconds), like the agent's link timeouts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import tempfile
import time
import tomllib
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drivers.clock import MonotonicClock
from drivers.profiles import resolve_profile
from hil.sim import SimBus, TcpSimServer
from hil.sim_meters.dlt645 import MeterBusSim, SimMeter
from hil.sim_profiles import ProfileSim

if TYPE_CHECKING:
    from hil.platform import PlatformConfig

__all__ = ["DEMO_CONFIG", "PlatformTimeline", "SimTimeline", "SiteSims", "derive_config", "dump_toml"]


class SimTimeline:
    """The agent clock's mapping (start, speed, anchor) as a `drivers.clock.Clock` for simulators.

    `now()` is simulated seconds since `start`; `sleep` and `timeout` are scaled. Processes given the same three
    numbers share one timeline, which is how simulators in `das demo` and in the end-to-end test follow an agent
    running in another process.
    """

    def __init__(self, start: datetime, speed: float, anchor: float | None = None) -> None:
        self.start = start
        self.speed = speed
        self.anchor = time.time() if anchor is None else anchor

    def now(self) -> float:
        return (time.time() - self.anchor) * self.speed

    def wall(self) -> datetime:
        """Agent time now (site-local, naive)."""
        return self.start + timedelta(seconds=self.now())

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)

    def timeout(self, seconds: float | None) -> asyncio.Timeout:
        return asyncio.timeout(None if seconds is None else max(0.0, seconds) / self.speed)


class PlatformTimeline:
    """`hil.platform.Clock` for the reference platform: real timers, agent wall time (so 1012 sets sensible times)."""

    def __init__(self, timeline: SimTimeline) -> None:
        self.timeline = timeline

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def wall(self) -> datetime:
        return self.timeline.wall()


DEMO_CONFIG = Path(__file__).resolve().parent.parent / "agent" / "config" / "demo_site.toml"


class TcpMeterBus(MeterBusSim):
    """DL/T 645 meters behind a serial server: frames arrive and leave over TCP (no wire timing)."""

    def __init__(self, meters: list[SimMeter]) -> None:
        super().__init__(meters, "tcp", clock=MonotonicClock())
        self._writer: asyncio.StreamWriter | None = None
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self, timeout: float = 5.0) -> TcpMeterBus:  # type: ignore[override]
        self._server = await asyncio.start_server(self._serve_tcp, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            if self._writer is not None:
                self._writer.transport.abort()
            await self._server.wait_closed()

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while data := await reader.read(256):
                await self.feed(data)
        writer.close()

    async def send(self, data: bytes, *, not_before: float | None = None) -> None:
        if self._writer is not None and data:
            self._writer.write(data)
            self.replies += 1


class SiteSims:
    """Every device of a site config simulated on loopback TCP, one server per link; `async with` runs them."""

    def __init__(self, config: Path, timeline: SimTimeline, *, seed: int = 1, update_s: float = 0.25) -> None:
        self.config_path = config
        self.data = tomllib.loads(config.read_text(encoding="utf-8"))
        self.timeline = timeline
        self.update_s = update_s
        self.sims: dict[str, ProfileSim | SimMeter] = {}
        self.titles: dict[str, str] = {}
        start = timeline.wall().replace(microsecond=0)
        for n, (name, device) in enumerate(self.data["devices"].items()):
            profile = resolve_profile(device["profile"], base=config.parent)
            self.titles[name] = f"{profile.device.name} ({profile.device.kind})"
            if profile.device.protocol == "dlt645":
                self.sims[name] = SimMeter(
                    address=device["address"], version=profile.device.edition, clock=timeline, seed=seed + n
                )
            else:
                self.sims[name] = ProfileSim(
                    profile, unit=device.get("unit"), clock=timeline, seed=seed + n, start=start
                )
        self.ports: dict[str, int] = {}
        self._stack = AsyncExitStack()
        self._task: asyncio.Task[None] | None = None

    def devices_on(self, link: str) -> list[str]:
        return [name for name, d in self.data["devices"].items() if d["link"] == link]

    async def __aenter__(self) -> SiteSims:
        try:
            for link, spec in self.data["links"].items():
                names = self.devices_on(link)
                meters = [self.sims[n] for n in names if isinstance(self.sims[n], SimMeter)]
                if meters:
                    bus = await TcpMeterBus(meters).start()  # type: ignore[arg-type]
                    self._stack.push_async_callback(bus.stop)
                    self.ports[link] = bus.port
                    continue
                members = [self.sims[n].device for n in names]  # type: ignore[union-attr]
                # Wire timing is physical: the bus answers on the real clock whatever the simulation speed.
                server = TcpSimServer(SimBus(members, clock=MonotonicClock()), framing=spec.get("framing", "tcp"))
                self.ports[link] = (await self._stack.enter_async_context(server)).port
        except BaseException:
            await self._stack.aclose()
            raise
        self._task = asyncio.create_task(self._update(), name="sims")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._stack.aclose()

    async def _update(self) -> None:
        """Registers follow simulated time at a real cadence (an update per simulated second would be wasted)."""
        while True:
            for sim in self.sims.values():
                if isinstance(sim, ProfileSim):
                    sim.update()
            await asyncio.sleep(self.update_s)

    def describe(self) -> list[str]:
        out = []
        for link, spec in self.data["links"].items():
            kind = "Modbus RTU/DLT645 over TCP" if spec.get("framing") == "rtu" else "Modbus TCP"
            for name in self.devices_on(link):
                out.append(f"{name:<12} {self.titles[name]:<36} {kind} 127.0.0.1:{self.ports[link]}")
        return out

    def set_fault(self, device: str, on: bool) -> None:
        """A device stops answering (cable cut, analyzer off) or answers again."""
        sim = self.sims[device]
        if isinstance(sim, ProfileSim):
            sim.no_answer = on
        else:
            sim.faults.silent = on


def derive_config(
    sims: SiteSims,
    *,
    store: Path,
    platforms: dict[str, int],
    sample_period_s: float | None = None,
    close_delay_s: float | None = None,
) -> str:
    """The site config with the simulators' ports, the given platform ports and store (platforms not given are
    left out), as TOML text for `das run`."""
    data = tomllib.loads(sims.config_path.read_text(encoding="utf-8"))
    data["store"] = {"path": str(store)}
    for link, port in sims.ports.items():
        data["links"][link]["host"] = "127.0.0.1"
        data["links"][link]["port"] = port
    data["platforms"] = {
        name: {**table, "host": "127.0.0.1", "port": platforms[name]}
        for name, table in data.get("platforms", {}).items()
        if name in platforms
    }
    stats = data.setdefault("statistics", {})
    if sample_period_s is not None:
        stats.setdefault("validity", {})["sample_period_s"] = sample_period_s
    if close_delay_s is not None:
        stats["close_delay_s"] = close_delay_s
    return "# 由 das demo 生成 / written by das demo from " + sims.config_path.name + "\n\n" + dump_toml(data)


def _value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() and k.isascii() else json.dumps(k)


def dump_toml(data: dict[str, object], prefix: str = "") -> str:
    """A small TOML writer for config dicts: every dict a [table], lists of dicts [[arrays]]; no comments."""
    plain, tables, arrays = [], [], []
    for k, v in data.items():
        if isinstance(v, dict):
            tables.append((k, v))
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            arrays.append((k, v))
        else:
            plain.append(f"{_key(k)} = {_value(v)}")
    out = "\n".join(plain) + ("\n" if plain else "")
    for k, v in tables:
        name = f"{prefix}{_key(k)}"
        out += f"\n[{name}]\n" + dump_toml(v, name + ".")
    for k, v in arrays:
        for item in v:
            out += f"\n[[{prefix}{_key(k)}]]\n" + dump_toml(item, f"{prefix}{_key(k)}.")
    return out


@dataclass
class DemoRun:
    """What a running demo consists of (for tests, the e2e test and `das demo`)."""

    workdir: Path
    config: Path
    store: Path
    platform_dbs: dict[str, Path]
    platforms: dict[str, Any]
    sims: SiteSims
    timeline: SimTimeline


def platform_config(data: dict[str, Any], name: str) -> PlatformConfig:
    """A reference-platform config knowing the MNs (and dialect) the site uses on platform `name`."""
    from hil.platform import MnConfig, PlatformConfig

    table = data["platforms"][name]
    mns = tuple(
        MnConfig(mn=mn, pw=str(table.get("pw", "123456")), version=int(table.get("version", 2017)))
        for mn in table["mns"].values()
    )
    return PlatformConfig(port=0, mn=mns, poll_interval=0.2)


def agent_command(run: DemoRun, *, speed: float, log_level: str = "INFO") -> list[str]:
    """`das run` for the demo site on the shared timeline (same start, speed and anchor as the simulators)."""
    return [
        sys.executable,
        "-c",
        "import sys; from agent.cli import main; sys.argv[0] = 'das'; main()",
        "run",
        "--config",
        str(run.config),
        "--clock-speed",
        repr(speed),
        "--clock-start",
        run.timeline.start.isoformat(),
        "--clock-anchor",
        repr(run.timeline.anchor),
        "--log-level",
        log_level,
    ]


@contextlib.asynccontextmanager
async def demo_site(
    workdir: Path,
    timeline: SimTimeline,
    *,
    config: Path = DEMO_CONFIG,
    sample_period_s: float | None = None,
    close_delay_s: float | None = None,
) -> AsyncIterator[DemoRun]:
    """Simulators and reference platforms of the demo site, and the derived site config for `das run`."""
    from hil.platform import Platform

    workdir.mkdir(parents=True, exist_ok=True)
    async with AsyncExitStack() as stack:
        sims = await stack.enter_async_context(SiteSims(config, timeline))
        platforms: dict[str, Any] = {}
        dbs: dict[str, Path] = {}
        for name in sims.data.get("platforms", {}):
            dbs[name] = workdir / f"platform-{name}.sqlite"
            for old in workdir.glob(f"platform-{name}.sqlite*"):
                old.unlink()
            platform = Platform(platform_config(sims.data, name), dbs[name], clock=PlatformTimeline(timeline))
            platforms[name] = await stack.enter_async_context(platform)
        store = workdir / "das.sqlite"
        text = derive_config(
            sims,
            store=store,
            platforms={n: p.port for n, p in platforms.items()},
            sample_period_s=sample_period_s,
            close_delay_s=close_delay_s,
        )
        site = workdir / "site.toml"
        site.write_text(text, encoding="utf-8")
        yield DemoRun(workdir, site, store, dbs, platforms, sims, timeline)


async def run_demo(
    out: Callable[[str], None] = print,
    workdir: Path | None = None,
    *,
    speed: float = 120.0,
    duration: float | None = None,
    sample_period_s: float = 30.0,
) -> int:
    """`das demo`: the whole site at `speed`× until Ctrl-C (or `duration` real seconds); returns the exit code."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="das-demo-"))
    # Start a few simulated minutes before the next hour, so the agent (up in a second or two) sees that whole
    # hour: an hour record is made only from a complete hour, and the first one appears after about
    # (3600 + 480) / speed real seconds (34 s at 120×).
    start = datetime.now().replace(minute=0, second=0, microsecond=0) + timedelta(minutes=52)
    timeline = SimTimeline(start, speed)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with demo_site(workdir, timeline, sample_period_s=sample_period_s) as run:
        log_path = workdir / "agent.log"
        with log_path.open("w", encoding="utf-8") as log_file:
            agent = await asyncio.create_subprocess_exec(
                *agent_command(run, speed=speed), stdout=log_file, stderr=asyncio.subprocess.STDOUT
            )
            _explain(out, run, agent.pid, speed, log_path)
            waiter = asyncio.create_task(agent.wait())
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait([waiter, stopper], timeout=duration, return_when=asyncio.FIRST_COMPLETED)
            if agent.returncode is None:
                out("\n停止中 / stopping: SIGTERM → 数采仪 agent (drains and closes the store)")
                agent.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(waiter, 30)
                except TimeoutError:
                    agent.kill()
                    await agent.wait()
            stopper.cancel()
        _summary(out, run, timeline)
        code = agent.returncode or 0
    out(f"演示结束 / demo finished (agent exit {code}); files kept in {workdir}")
    return 0 if code == 0 else 1


def _explain(out: Callable[[str], None], run: DemoRun, pid: int, speed: float, log: Path) -> None:
    out("数采仪演示 / DAS agent demo — 模拟设备 + 参考平台 + 数采仪 / simulated devices, reference platforms, agent")
    begin = f"{run.timeline.start:%Y-%m-%d %H:%M}"
    out(f"时钟 / agent clock: 从 {begin} 起 {speed:g} 倍速 / from {begin}, {speed:g}× real time")
    out(f"  一小时 = {3600 / speed:.0f} s 实际时间 / one simulated hour takes {3600 / speed:.0f} real seconds")
    out("")
    out("模拟设备 / simulated devices:")
    for line in run.sims.describe():
        out("  " + line)
    out("")
    out("参考平台 / reference platforms:")
    for name, platform in run.platforms.items():
        out(f"  {name:<10} 127.0.0.1:{platform.port}  记录 / recording: {run.platform_dbs[name]}")
    out("")
    out(f"数采仪 / agent: das run --config {run.config}  (pid {pid})")
    out(f"  日志 / log: {log}")
    out(f"  数据库 / store: {run.store}   状态 / status: {run.store.parent / 'status.json'}")
    out("")
    out("查看 / look at it:")
    for name in run.platforms:
        out(f"  das platform report --db {run.platform_dbs[name]}")
        out(f"  das platform frames --db {run.platform_dbs[name]} --cn 2061")
    out(f'  sqlite3 {run.store} "SELECT outlet, kind, data_time FROM record ORDER BY id DESC LIMIT 10"')
    out(f"  tail -f {log}")
    out("按 Ctrl-C 停止 / press Ctrl-C to stop")


def _summary(out: Callable[[str], None], run: DemoRun, timeline: SimTimeline) -> None:
    from hil.platform import PlatformStore, render_text, report_from_store

    out("")
    for name, db in run.platform_dbs.items():
        with PlatformStore(db) as store:
            frames = store.frames(direction="in", verdict="accepted")
            counts: dict[str, int] = {}
            for f in frames:
                counts[f.cn or "?"] = counts.get(f.cn or "?", 0) + 1
            out(
                f"平台 {name} 收到 / platform {name} received: "
                + ", ".join(f"CN {k}: {v}" for k, v in sorted(counts.items()))
            )
            if name == next(iter(run.platform_dbs)):
                out(render_text(report_from_store(store)))
