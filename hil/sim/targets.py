"""Where HIL tests run: simulators by default, real hardware when environment variables name it.

    HIL_MODBUS_RTU_PORT=/dev/ttyUSB0   serial port with real Modbus RTU units on the bus
    HIL_MODBUS_RTU_BAUD=9600           its baud rate (default 9600); HIL_MODBUS_RTU_PARITY=N|E|O (default N)
    HIL_MODBUS_RTU_UNITS=1,2           unit ids answering there (default 1)
    HIL_MODBUS_TCP_HOST=192.0.2.10     Modbus TCP device or gateway; HIL_MODBUS_TCP_PORT=502
    HIL_MODBUS_TCP_UNITS=1             unit ids behind it (default 1)

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

__all__ = ["RtuTarget", "TcpTarget", "rtu_target", "tcp_target"]


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
