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

Devices with the same transport and port (or pty link) share one server as units of one bus. Modbus and
DL/T 645 devices cannot share a pty. `devices_config()` writes the matching devices config for `das read`.
"""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from drivers.clock import Clock, MonotonicClock
from drivers.profiles import Profile, ProfileError, resolve_profile
from drivers.profiles.loader import parse_model
from hil.sim import RtuPtyServer, SimBus, SocatPair, TcpSimServer
from hil.sim_meters.dlt645 import MeterBusSim, SimMeter
from hil.sim_meters.serialtext import TextAnalyzerSim
from hil.sim_profiles import ProfileSim

__all__ = ["SimConfig", "SimDeviceConfig", "SimulatorSet", "load_sim_config"]


class SimDeviceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
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
    for n, device in enumerate(config.devices):
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
        profiles.append(profile)
    if problems:
        raise ProfileError(str(path), problems)
    return config, profiles


class SimulatorSet:
    """The running simulators of one config; `async with` starts servers and update tasks, exit stops them."""

    def __init__(self, config: SimConfig, profiles: list[Profile], *, clock: Clock | None = None) -> None:
        self.config = config
        self.profiles = profiles
        self.clock = clock or MonotonicClock()
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
                sim = ProfileSim(profile, unit=device.unit, clock=self.clock, seed=device.seed, speed=device.speed)
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
