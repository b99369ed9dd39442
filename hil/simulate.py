"""`das simulate --config FILE`: run a set of per-profile simulated devices and say how to reach each.

Config (TOML), one `[[devices]]` per simulated device:

    [[devices]]
    name = "cems"                      # optional; default: the profile name
    profile = "cems_sick_mcs100ft"
    transport = "tcp"                  # tcp (Modbus TCP) | rtu-tcp (RTU over TCP, like a DTU) | pty (RS-485 on a pty)
    port = 15020                       # tcp / rtu-tcp: TCP port (0: any free port)
    unit = 1                           # Modbus unit id (default: the profile's)

    [[devices]]
    profile = "power_dlt645_2007"
    transport = "pty"
    link = "/tmp/das-sim/meters"       # the agent opens this path; the simulator serves the other end
    address = "000000000161"           # DL/T 645 meter address

    [[devices]]
    name = "replay"
    profile = "cems_fpi_cems2000"
    playback = "stack_log.csv"         # Modbus profiles: points named in the CSV follow it (path relative to this file)

Devices with the same transport and port (or pty link) share one server as units of one bus. Modbus and
DL/T 645 devices cannot share a pty. `devices_config()` writes the matching devices config for `das read`.

Faults switch at runtime through a control directory (`SimulatorSet(control=DIR)`, `das simulate --control DIR`,
then `das simulate fault --control DIR DEVICE KIND on|off`; `hil.sim.control`). Kinds: `FAULT_KINDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from drivers.clock import Clock, MonotonicClock
from drivers.profiles import Profile, ProfileError, resolve_profile
from drivers.profiles.loader import parse_model
from hil.sim import Playback, RtuPtyServer, SimBus, SocatPair, TcpSimServer
from hil.sim.control import NAME, ControlDir, Faults
from hil.sim_meters.dlt645 import MeterBusSim, SimMeter
from hil.sim_meters.serialtext import TextAnalyzerSim
from hil.sim_profiles import ProfileSim

__all__ = [
    "FAULT_KINDS",
    "SimConfig",
    "SimDeviceConfig",
    "SimulatorSet",
    "apply_fault",
    "fault_kinds",
    "load_sim_config",
]

log = logging.getLogger(__name__)

FAULT_KINDS = ("no_answer", "exception", "garbage", "disconnect", "stuck", "wire_break", "out_of_range")
"""Runtime faults (issue 3 §7). `exception` takes a code (Modbus exception / DL/T 645 ERR byte; default 4 / 2);
`wire_break` is a 4-20 mA loop at 0 mA (NE 43 fault: flag D); `out_of_range` a value above the point's range
(flag T); `disconnect` drops a Modbus TCP connection (on a serial line it is silence, as a cut cable is)."""

_METER_DEFAULT_ERR = 0x02  # DL/T 645-2007 ERR bit 1: 无请求数据 / no requested data


class SimDeviceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(None, pattern=NAME.pattern)
    profile: str
    transport: Literal["tcp", "rtu-tcp", "pty"] = "tcp"
    host: str = "127.0.0.1"
    port: int = Field(0, ge=0, lt=65536)
    link: str | None = Field(None, description="pty: path the agent opens")
    unit: int | None = Field(None, ge=1, le=255)
    address: str | None = Field(None, description="DL/T 645 meter address (12 digits)")
    seed: int = 1
    speed: float = Field(1.0, gt=0, le=3600, description="simulated seconds per real second")
    baud: int | None = Field(None, gt=0, description="pty line speed (default: the profile's)")
    playback: str | None = Field(
        None, description="CSV (t or time column + point names) the points follow; relative to the config file"
    )
    playback_loop: bool = Field(False, description="repeat a `t` series")

    @model_validator(mode="after")
    def _where(self) -> Self:
        if self.transport == "pty" and not self.link:
            raise ValueError("link: a pty path expected for transport = 'pty'")
        if self.transport != "pty" and self.link:
            raise ValueError("link: only for transport = 'pty' (TCP devices use port)")
        return self


class SimConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    devices: list[SimDeviceConfig] = Field(min_length=1)


def load_sim_config(path: str | Path) -> tuple[SimConfig, list[Profile]]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ProfileError(str(path), [f"cannot read file: {err}"]) from err
    config = parse_model(
        SimConfig, text, str(path), keys="see docs/profiles.md, 'Simulators', for the keys of [[devices]]"
    )
    profiles, problems = [], []
    units: dict[tuple[object, int], int] = {}
    devices = list(config.devices)
    for n, device in enumerate(devices):
        if device.playback is not None:
            devices[n] = device = device.model_copy(update={"playback": str(path.parent / device.playback)})
        try:
            profile = resolve_profile(device.profile, base=path.parent)
        except ProfileError as err:
            problems.append(f"devices[{n}].profile: {err}")
            continue
        if profile.device.protocol == "dlt645" and (device.transport != "pty" or not device.address):
            problems.append(f"devices[{n}]: a DL/T 645 meter needs transport = 'pty' and an address")
        if profile.device.protocol == "serialtext" and (
            device.transport != "pty" or profile.device.kind != "analog_input"
        ):
            problems.append(f"devices[{n}]: serial text simulators are DCON analog inputs on transport = 'pty'")
        if device.playback is not None:
            if profile.device.protocol != "modbus":
                problems.append(f"devices[{n}].playback: CSV playback is for Modbus profile simulators")
            else:
                try:
                    playback = Playback(device.playback, loop=device.playback_loop)
                except ValueError as err:
                    problems.append(f"devices[{n}].playback: {err}")
                else:
                    known = {p.name for p in profile.values()}
                    unknown = [c for c in playback.columns if c not in known]
                    if unknown:
                        problems.append(
                            f"devices[{n}].playback: columns {', '.join(unknown)} are not points of "
                            f"{profile.device.name} (points: {', '.join(sorted(known))})"
                        )
        if profile.device.protocol == "modbus":
            bus = (device.transport, device.host, device.port) if device.transport != "pty" else ("pty", device.link)
            unit = device.unit if device.unit is not None else profile.device.unit_id
            if (bus, unit) in units:
                problems.append(
                    f"devices[{n}].unit: unit {unit} is already devices[{units[(bus, unit)]}]'s on that bus "
                    "(same transport and port): give one of them another `unit`"
                )
            units.setdefault((bus, unit), n)
        profiles.append(profile)
    if problems:
        raise ProfileError(str(path), problems)
    return config.model_copy(update={"devices": devices}), profiles


Sim = ProfileSim | SimMeter | TextAnalyzerSim


def fault_kinds(sim: Sim) -> list[str]:
    """The kinds this simulator can show: every one for a Modbus profile with 4-20 mA points and ranges, the
    protocol-level ones for a meter (it has neither a loop nor a range), all for a DCON analog input."""
    if isinstance(sim, ProfileSim):
        points = sim.profile.values()
        return [
            k
            for k in FAULT_KINDS
            if (k != "wire_break" or any(p.signal == "4-20mA" for p in points))
            and (k != "out_of_range" or any(p.range is not None for p in points))
        ]
    if isinstance(sim, SimMeter):
        return [k for k in FAULT_KINDS if k not in ("wire_break", "out_of_range")]
    return list(FAULT_KINDS)


def _code(argument: str, default: int) -> int:
    if not argument:
        return default
    code = int(argument, 0)
    if not 1 <= code <= 255:
        raise ValueError(f"exception code {argument!r}: 1..255 expected")
    return code


def apply_fault(sim: Sim, kind: str, on: bool, argument: str = "", *, set_points: tuple[float, ...] = ()) -> None:
    """Switch one fault of one simulator. `set_points`: a DCON module's normal loop currents, restored on off."""
    if kind not in fault_kinds(sim):
        raise ValueError(f"fault {kind!r}: this simulator supports {', '.join(fault_kinds(sim))}")
    if isinstance(sim, ProfileSim):
        f = sim.faults
        if kind == "no_answer":
            f.no_answer = on
        elif kind == "exception":
            f.exception = _code(argument, 4) if on else None
        elif kind == "garbage":
            f.garbage = on
        elif kind == "disconnect":
            f.disconnect = on
        elif kind == "stuck":
            f.stuck = on
        elif kind == "wire_break":
            sim.wire_break = {p.name for p in sim.profile.values() if p.signal == "4-20mA"} if on else set()
        elif kind == "out_of_range":
            sim.over_range = {p.name for p in sim.profile.values() if p.range is not None} if on else set()
        sim.update()
    elif isinstance(sim, SimMeter):
        mf = sim.faults
        if kind in ("no_answer", "disconnect"):
            mf.silent = on
        elif kind == "exception":
            mf.error_code = _code(argument, _METER_DEFAULT_ERR) if on else None
        elif kind == "garbage":
            mf.garbage = on
        elif kind == "stuck":
            mf.stuck = on
    else:
        tf = sim.faults
        if kind in ("no_answer", "disconnect"):
            tf.silent = on
        elif kind == "exception":
            tf.error_reply = on
        elif kind == "garbage":
            tf.garbage = on
        elif kind == "stuck":
            tf.stuck = on
        elif kind in ("wire_break", "out_of_range"):
            # 0 mA: an open loop (NE 43: below 3.6 mA is a fault); 20.6 mA: over range, below the 21 mA limit.
            sim.set_points = tuple(0.0 if kind == "wire_break" else 20.6 for _ in set_points) if on else set_points


class SimulatorSet:
    """The running simulators of one config; `async with` starts servers and update tasks, exit stops them."""

    def __init__(
        self,
        config: SimConfig,
        profiles: list[Profile],
        *,
        clock: Clock | None = None,
        control: str | Path | None = None,
        poll: float = 0.2,
    ) -> None:
        self.config = config
        self.profiles = profiles
        self.clock = clock or MonotonicClock()
        self.control = ControlDir(control) if control is not None else None
        self.poll = poll
        self.applied: Faults = {}
        self._set_points: dict[str, tuple[float, ...]] = {}
        self.sims: dict[str, ProfileSim | SimMeter | TextAnalyzerSim] = {}
        self.where: dict[str, str] = {}
        self._entries: list[tuple[str, SimDeviceConfig, Profile]] = []
        for n, (device, profile) in enumerate(zip(config.devices, profiles, strict=True)):
            name = device.name or profile.device.name
            if name in self.sims:
                name = f"{name}_{n}"
            sim: ProfileSim | SimMeter | TextAnalyzerSim
            if profile.device.protocol == "dlt645":
                sim = SimMeter(
                    address=device.address or "", version=profile.device.edition, clock=self.clock, seed=device.seed
                )
            elif profile.device.protocol == "serialtext":
                sim = TextAnalyzerSim(
                    f"{device.link}.sim",
                    shape="dcon",
                    address=device.address or "01",
                    set_points=tuple(10.0 + 0.5 * k for k in range(len(profile.values()))),  # mA, mid-range
                    seed=device.seed,
                    baudrate=device.baud or profile.device.link.baud,
                    bits_per_char=10,
                    clock=self.clock,
                )
            else:
                playback = Playback(device.playback, loop=device.playback_loop) if device.playback else None
                sim = ProfileSim(
                    profile, unit=device.unit, clock=self.clock, seed=device.seed, speed=device.speed, playback=playback
                )
            if isinstance(sim, TextAnalyzerSim):
                self._set_points[name] = sim.set_points
            self.sims[name] = sim
            self._entries.append((name, device, profile))
        self._stack = AsyncExitStack()
        self._tasks: list[asyncio.Task[None]] = []
        self.servers: dict[tuple[str, str, int], TcpSimServer] = {}

    async def __aenter__(self) -> SimulatorSet:
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.control is not None:
            self.control.close()
        await self._stack.aclose()

    async def _start(self) -> None:
        tcp: dict[tuple[str, str, int], list[str]] = {}
        pty: dict[str, list[str]] = {}
        for name, device, _ in self._entries:
            if device.transport == "pty":
                pty.setdefault(device.link or "", []).append(name)
            else:
                tcp.setdefault((device.transport, device.host, device.port), []).append(name)
        for (transport, host, port), names in tcp.items():
            bus = SimBus([self._modbus(n).device for n in names], clock=self.clock)
            framing = "tcp" if transport == "tcp" else "rtu"
            server = await self._stack.enter_async_context(TcpSimServer(bus, host=host, port=port, framing=framing))
            self.servers[(transport, host, port)] = server
            kind = "Modbus TCP" if framing == "tcp" else "Modbus RTU over TCP"
            for n in names:
                self.where[n] = f"{kind} {host}:{server.port} unit {self._modbus(n).device.unit}"
        for link, names in pty.items():
            Path(link).parent.mkdir(parents=True, exist_ok=True)
            far = f"{link}.sim"
            await self._stack.enter_async_context(SocatPair(link, far))
            entries = [e for e in self._entries if e[0] in names]
            protocols = {e[2].device.protocol for e in entries}
            if len(protocols) > 1:
                raise ValueError(f"pty {link}: Modbus and DL/T 645 simulators cannot share one pty")
            baud = entries[0][1].baud or entries[0][2].device.link.baud
            if protocols == {"serialtext"}:
                if len(names) > 1:
                    raise ValueError(f"pty {link}: one DCON module per simulated pty")
                await self._stack.enter_async_context(self.sims[names[0]])  # type: ignore[arg-type]
                self.where[names[0]] = f"DCON on {link} ({baud} 8N1) address {self.sims[names[0]].address}"  # type: ignore[union-attr]
            elif protocols == {"dlt645"}:
                meters = [self.sims[n] for n in names]
                await self._stack.enter_async_context(
                    MeterBusSim(meters, far, baudrate=baud, clock=self.clock)  # type: ignore[arg-type]
                )
                for n in names:
                    self.where[n] = f"DL/T 645 on {link} ({baud} 8E1) address {self.sims[n].address}"  # type: ignore[union-attr]
            else:
                bus = SimBus([self._modbus(n).device for n in names], clock=self.clock)
                await self._stack.enter_async_context(RtuPtyServer(bus, far, baudrate=baud, clock=self.clock))
                for n in names:
                    self.where[n] = f"Modbus RTU on {link} ({baud} 8N1) unit {self._modbus(n).device.unit}"
        for name, sim in self.sims.items():
            if isinstance(sim, ProfileSim):
                self._tasks.append(asyncio.create_task(sim.run(), name=f"sim {name}"))
        if self.control is not None:
            self.control.publish({name: fault_kinds(sim) for name, sim in self.sims.items()})
            self.sync_faults()
            self._tasks.append(asyncio.create_task(self._watch(), name="sim control"))

    def sync_faults(self) -> None:
        """Make the simulators' faults what the control directory asks for, and report what is applied."""
        assert self.control is not None
        wanted = {d: kinds for d, kinds in self.control.requested().items() if d in self.sims}
        changed = False
        for device in set(wanted) | set(self.applied):
            now, want = self.applied.get(device, {}), wanted.get(device, {})
            for kind in set(now) | set(want):
                if now.get(kind) == want.get(kind):
                    continue
                on = kind in want
                try:
                    apply_fault(
                        self.sims[device], kind, on, want.get(kind, ""), set_points=self._set_points.get(device, ())
                    )
                except ValueError as err:
                    log.warning("fault %s %s ignored: %s", device, kind, err)
                    continue
                changed = True
                if on:
                    self.applied.setdefault(device, {})[kind] = want[kind]
                else:
                    self.applied.get(device, {}).pop(kind, None)
            if not self.applied.get(device, True):
                del self.applied[device]
        if changed or not (self.control.path / "state.json").exists():
            self.control.report(self.applied)

    async def _watch(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                await asyncio.sleep(self.poll)  # real time: the switch comes from a person or a test, not the clock
                self.sync_faults()

    def _modbus(self, name: str) -> ProfileSim:
        sim = self.sims[name]
        assert isinstance(sim, ProfileSim)
        return sim

    def describe(self) -> list[str]:
        """One line per device: name, profile, and where it answers."""
        return [
            f"{name}  [{profile.device.name}]  →  {self.where.get(name, '?')}" for name, _, profile in self._entries
        ]

    def _link_key(self, device: SimDeviceConfig) -> str:
        if device.transport == "pty":
            return f"pty:{device.link}"
        server = self.servers[(device.transport, device.host, device.port)]
        return f"{device.transport}:{device.host}:{server.port}"

    def devices_config(self) -> str:
        """A devices config (drivers.profiles.config) that reads every simulated device: for `das read`."""
        lines: list[str] = ["# written by das simulate: devices config for the running simulators", ""]
        names: dict[str, str] = {}
        for _, device, profile in self._entries:
            ident = self._link_key(device)
            if ident in names:
                continue
            names[ident] = key = f"link{len(names) + 1}"
            if device.transport == "pty":
                baud = device.baud or profile.device.link.baud
                lines += [f"[links.{key}]", 'type = "serial"', f'port = "{device.link}"', f"baud = {baud}"]
                lines += [f'parity = "{profile.device.link.parity}"', ""]
            else:
                port = self.servers[(device.transport, device.host, device.port)].port
                framing = "tcp" if device.transport == "tcp" else "rtu"
                lines += [f"[links.{key}]", 'type = "tcp"', f'host = "{device.host}"', f"port = {port}"]
                lines += [f'framing = "{framing}"', ""]
        for name, device, profile in self._entries:
            lines += [f"[devices.{name}]", f'profile = "{device.profile}"', f'link = "{names[self._link_key(device)]}"']
            if profile.device.protocol == "dlt645":
                lines.append(f'address = "{device.address}"')
            elif profile.device.protocol == "serialtext":
                lines.append(f'address = "{device.address or "01"}"')
            else:
                lines.append(f"unit = {self._modbus(name).device.unit}")
            lines.append("")
        return "\n".join(lines)
