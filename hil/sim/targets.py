"""Where HIL tests run: simulators by default, real hardware when environment variables name it.

    HIL_MODBUS_RTU_PORT=/dev/ttyUSB0   serial port with real Modbus RTU units on the bus
    HIL_MODBUS_RTU_BAUD=9600           its baud rate (default 9600); HIL_MODBUS_RTU_PARITY=N|E|O (default N)
    HIL_MODBUS_RTU_UNITS=1,2           unit ids answering there (default 1)
    HIL_MODBUS_TCP_HOST=192.0.2.10     Modbus TCP device or gateway; HIL_MODBUS_TCP_PORT=502
    HIL_MODBUS_TCP_UNITS=1             unit ids behind it (default 1)
    HIL_DLT645_PORT=/dev/ttyUSB1       serial port with real DL/T 645 meters; HIL_DLT645_ADDRESS=000000193600,…
    HIL_DLT645_BAUD=2400 HIL_DLT645_PARITY=E HIL_DLT645_VERSION=2007   (defaults shown)
    HIL_SERIALTEXT_PORT=/dev/ttyUSB2   serial port with a real DCON analog input module (I-7017 / ADAM ASCII)
    HIL_SERIALTEXT_ADDRESS=01 HIL_SERIALTEXT_BAUD=9600 HIL_SERIALTEXT_PARITY=N   (defaults shown)

Tests that need fault injection run only on simulators; read-only tests run on either (hil/README.md).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from drivers.link import SerialParams, TcpParams
from hil.sim.bus import SimBus
from hil.sim.device import SimDevice
from hil.sim.pty import SocatPair
from hil.sim.servers import RtuPtyServer, TcpSimServer

__all__ = [
    "MeterTarget",
    "RtuTarget",
    "TcpTarget",
    "TextTarget",
    "dlt645_target",
    "rtu_target",
    "serialtext_target",
    "tcp_target",
]


def _units(name: str) -> tuple[int, ...]:
    return tuple(int(u) for u in os.environ.get(name, "1").split(",") if u.strip())


@dataclass
class RtuTarget:
    params: SerialParams
    units: tuple[int, ...]
    bus: SimBus | None  # None on real hardware
    pair: SocatPair | None = None
    server: RtuPtyServer | None = None


@dataclass
class TcpTarget:
    params: TcpParams
    units: tuple[int, ...]
    bus: SimBus | None
    server: TcpSimServer | None = None


def real_rtu() -> bool:
    return bool(os.environ.get("HIL_MODBUS_RTU_PORT"))


def real_tcp() -> bool:
    return bool(os.environ.get("HIL_MODBUS_TCP_HOST"))


@asynccontextmanager
async def rtu_target(
    units: tuple[int, ...] = (1, 2, 3), *, baudrate: int = 9600, simulated: bool = False, **params: object
) -> AsyncIterator[RtuTarget]:
    """A serial bus: the real one from HIL_MODBUS_RTU_* or a socat pty pair served by RtuPtyServer."""
    if real_rtu() and not simulated:
        yield RtuTarget(
            SerialParams(
                port=os.environ["HIL_MODBUS_RTU_PORT"],
                baudrate=int(os.environ.get("HIL_MODBUS_RTU_BAUD", "9600")),
                parity=os.environ.get("HIL_MODBUS_RTU_PARITY", "N"),
                **params,  # type: ignore[arg-type]
            ),
            _units("HIL_MODBUS_RTU_UNITS"),
            None,
        )
        return
    with tempfile.TemporaryDirectory(prefix="hil-rtu-") as tmp:
        a, b = Path(tmp) / "master", Path(tmp) / "slave"
        bus = SimBus([SimDevice(unit=u) for u in units])
        async with SocatPair(a, b) as pair, RtuPtyServer(bus, str(b), baudrate=baudrate) as server:
            yield RtuTarget(SerialParams(port=str(a), baudrate=baudrate, **params), units, bus, pair, server)  # type: ignore[arg-type]


@asynccontextmanager
async def tcp_target(
    units: tuple[int, ...] = (1,), *, framing: str = "tcp", simulated: bool = False, **params: object
) -> AsyncIterator[TcpTarget]:
    """A Modbus TCP endpoint: the real one from HIL_MODBUS_TCP_* or a TcpSimServer on loopback."""
    if real_tcp() and not simulated and framing == "tcp":
        yield TcpTarget(
            TcpParams(
                host=os.environ["HIL_MODBUS_TCP_HOST"],
                port=int(os.environ.get("HIL_MODBUS_TCP_PORT", "502")),
                **params,  # type: ignore[arg-type]
            ),
            _units("HIL_MODBUS_TCP_UNITS"),
            None,
        )
        return
    bus = SimBus([SimDevice(unit=u) for u in units])
    async with TcpSimServer(bus, framing=framing) as server:
        yield TcpTarget(TcpParams(host="127.0.0.1", port=server.port, **params), units, bus, server)  # type: ignore[arg-type]


@dataclass
class MeterTarget:
    """DL/T 645 meters on a serial line: the real bus from HIL_DLT645_* or simulated meters on a pty."""

    params: SerialParams
    addresses: tuple[str, ...]
    version: int
    sim: object | None  # hil.sim_meters.MeterBusSim on the simulator, None on real hardware


@dataclass
class TextTarget:
    """A DCON analog input module (serial text): the real one from HIL_SERIALTEXT_* or a simulated one on a pty."""

    params: SerialParams
    address: str
    sim: object | None  # hil.sim_meters.TextAnalyzerSim on the simulator, None on real hardware


def real_dlt645() -> bool:
    return bool(os.environ.get("HIL_DLT645_PORT"))


def real_serialtext() -> bool:
    return bool(os.environ.get("HIL_SERIALTEXT_PORT"))


@asynccontextmanager
async def dlt645_target(addresses: tuple[str, ...] = ("000000193600",)) -> AsyncIterator[MeterTarget]:
    """Meters at 2400 8E1 by default (devices.md §1.1); a real bus needs HIL_DLT645_ADDRESS (nameplate numbers):
    read-only tests poll only the meters named, never the wildcard on a live bus."""
    from hil.sim_meters.dlt645 import MeterBusSim, SimMeter

    baud = int(os.environ.get("HIL_DLT645_BAUD", "2400"))
    parity = os.environ.get("HIL_DLT645_PARITY", "E")
    version = int(os.environ.get("HIL_DLT645_VERSION", "2007"))
    if real_dlt645():
        named = tuple(a.strip() for a in os.environ.get("HIL_DLT645_ADDRESS", "").split(",") if a.strip())
        if not named:
            raise ValueError("HIL_DLT645_ADDRESS: give the meters' addresses (12 digits from the nameplate)")
        yield MeterTarget(SerialParams(port=os.environ["HIL_DLT645_PORT"], baudrate=baud, parity=parity), named,
                          version, None)  # fmt: skip
        return
    with tempfile.TemporaryDirectory(prefix="hil-dlt645-") as tmp:
        a, b = Path(tmp) / "master", Path(tmp) / "meters"
        meters = [SimMeter(address, version=version, seed=n + 1) for n, address in enumerate(addresses)]
        async with SocatPair(a, b), MeterBusSim(meters, str(b), baudrate=baud, bits_per_char=11) as sim:
            yield MeterTarget(SerialParams(port=str(a), baudrate=baud, parity=parity), addresses, version, sim)


@asynccontextmanager
async def serialtext_target(channels: int = 8) -> AsyncIterator[TextTarget]:
    """A DCON module (`#AA` + CR → `>+08.074…`, devices.md §4) at 9600 8N1 by default."""
    from hil.sim_meters.serialtext import TextAnalyzerSim

    baud = int(os.environ.get("HIL_SERIALTEXT_BAUD", "9600"))
    parity = os.environ.get("HIL_SERIALTEXT_PARITY", "N")
    address = os.environ.get("HIL_SERIALTEXT_ADDRESS", "01")
    if real_serialtext():
        yield TextTarget(SerialParams(port=os.environ["HIL_SERIALTEXT_PORT"], baudrate=baud, parity=parity),
                         address, None)  # fmt: skip
        return
    with tempfile.TemporaryDirectory(prefix="hil-text-") as tmp:
        a, b = Path(tmp) / "das", Path(tmp) / "module"
        points = tuple(10.0 + 0.5 * k for k in range(channels))  # mA, inside 4-20
        sim = TextAnalyzerSim(str(b), shape="dcon", address=address, set_points=points, baudrate=baud, bits_per_char=10)
        async with SocatPair(a, b), sim:
            yield TextTarget(SerialParams(port=str(a), baudrate=baud, parity=parity), address, sim)
