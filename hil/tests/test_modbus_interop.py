"""Our Modbus client against an independent implementation: pymodbus servers (TCP on loopback, RTU on a pty).

A bug shared by our framing and our simulator cannot hide here (style.md §2.5). The registers hold the same
hand-computed patterns as tests/drivers/test_modbus_points.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
from pymodbus.server import ModbusSerialServer, ModbusTcpServer

from drivers.errors import IllegalDataAddress
from drivers.link import DeviceTiming, LinkOwner, SerialParams, TcpParams
from drivers.modbus import ModbusDevice, PointSpec
from hil.sim import SocatPair

pytestmark = pytest.mark.hil

HOLDING = [0x4049, 0x0FDB, 0x0FDB, 0x4049, 0xF8A4, 0x32EB, 0x1234, 0x5678, 0x4142, 0x3132]
POINTS = [
    PointSpec(name="pi_abcd", address=0, dtype="float32"),
    PointSpec(name="pi_cdab", address=2, dtype="float32", order="CDAB"),
    PointSpec(name="i32", address=4, dtype="int32"),
    PointSpec(name="bcd", address=6, dtype="bcd32"),
    PointSpec(name="text", address=8, dtype="string", count=2),
    PointSpec(name="ir", address=3, function=4, dtype="int16", scale=0.1),
    PointSpec(name="coil2", address=2, function=1, dtype="bool"),
    PointSpec(name="di0", address=0, function=2, dtype="bool"),
]


def context(unit: int) -> ModbusServerContext:
    # pymodbus adds 1 to the address inside ModbusDeviceContext (anchors.md §2), so blocks start at 1;
    # the blocks are sized so reading past them gives exception 02.
    device = ModbusDeviceContext(
        hr=ModbusSequentialDataBlock(1, HOLDING),
        ir=ModbusSequentialDataBlock(1, [0, 0, 0, 0xFF85]),  # -123 → -12.3
        co=ModbusSequentialDataBlock(1, [False, False, True, False]),
        di=ModbusSequentialDataBlock(1, [True]),
    )
    return ModbusServerContext(devices={unit: device}, single=False)


def check(results: dict) -> None:
    values = {name: r.value for name, r in results.items()}
    assert values["pi_abcd"] == pytest.approx(3.1415927, rel=1e-7)
    assert values["pi_cdab"] == pytest.approx(3.1415927, rel=1e-7)
    assert values["i32"] == -123456789
    assert values["bcd"] == 12345678
    assert values["text"] == "AB12"
    assert values["ir"] == pytest.approx(-12.3)
    assert values["coil2"] is True and values["di0"] is True


@contextlib.asynccontextmanager
async def running(server: ModbusTcpServer | ModbusSerialServer) -> AsyncIterator[None]:
    await server.serve_forever(background=True)
    try:
        yield
    finally:
        await server.shutdown()


async def test_modbus_tcp_against_pymodbus_server(unused_tcp_port: int) -> None:
    server = ModbusTcpServer(context(5), address=("127.0.0.1", unused_tcp_port))
    async with running(server):
        link = LinkOwner(TcpParams(host="127.0.0.1", port=unused_tcp_port))
        device = ModbusDevice(link, 5, framing="tcp")
        try:
            for _ in range(50):
                with contextlib.suppress(Exception):
                    await device.read(3, 0, 1)
                    break
                await asyncio.sleep(0.05)
            check(await device.read_points(POINTS))
            with pytest.raises(IllegalDataAddress):
                await device.read(3, 0, 20)
        finally:
            await link.close()


async def test_modbus_rtu_on_pty_against_pymodbus_serial_server(require_tool: Callable[[str], str]) -> None:
    require_tool("socat")
    with tempfile.TemporaryDirectory(prefix="hil-pm-") as tmp:
        a, b = str(Path(tmp) / "master"), str(Path(tmp) / "slave")
        async with SocatPair(a, b):
            server = ModbusSerialServer(context(9), port=b, baudrate=19200)
            async with running(server):
                link = LinkOwner(SerialParams(port=a, baudrate=19200))
                link.set_device("u9", DeviceTiming(timeout=1.0, retries=2, backoff_min=0.1))
                device = ModbusDevice(link, 9, key="u9")
                try:
                    for _ in range(50):
                        with contextlib.suppress(Exception):
                            await device.read(3, 0, 1)
                            break
                        await asyncio.sleep(0.05)
                    check(await device.read_points(POINTS))
                finally:
                    await link.close()
