"""A link that disappears and comes back is reconnected without a restart (issue done-when).

TCP: the simulator is stopped and started again on the same port. Serial: the socat pty pair is killed (as if the
USB RS-485 adapter were unplugged) and made again under the same path.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.errors import DriverError, LinkDown
from drivers.link import DeviceTiming, LinkOwner, SerialParams, TcpParams
from drivers.modbus import ModbusDevice
from hil.sim import RtuPtyServer, SimBus, SimDevice, SocatPair, TcpSimServer

pytestmark = pytest.mark.hil


async def read_until_ok(device: ModbusDevice, deadline: float = 10.0) -> list[int]:
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while True:
        try:
            return await device.read(3, 0, 2)
        except DriverError:
            if loop.time() > end:
                raise
            await asyncio.sleep(0.05)


async def test_tcp_link_reconnects_after_server_restart() -> None:
    bus = SimBus([SimDevice(unit=1)])
    bus[1].set_registers(3, 0, [0x1234, 0x5678])
    server = await TcpSimServer(bus).start()
    port = server.port
    link = LinkOwner(TcpParams(host="127.0.0.1", port=port, reconnect_min=0.05, reconnect_max=0.2))
    link.set_device("d1", DeviceTiming(timeout=0.5, retries=0))
    device = ModbusDevice(link, 1, framing="tcp", key="d1")
    try:
        assert await device.read(3, 0, 2) == [0x1234, 0x5678]
        await server.stop()
        with pytest.raises(LinkDown):
            await device.read(3, 0, 2)
        # While the server is gone, reads fail fast with LinkDown (bounded reconnect backoff), never hang.
        for _ in range(3):
            with pytest.raises(LinkDown):
                await asyncio.wait_for(device.read(3, 0, 2), 2.0)
        bus[1].set_registers(3, 0, [0x0001, 0x0002])
        server = await TcpSimServer(bus, port=port).start()
        assert await read_until_ok(device) == [0x0001, 0x0002]
        assert link.connects == 2
    finally:
        await link.close()
        await server.stop()


@pytest.mark.parametrize("parity", ["N", "E"])  # E: a pty has no parity bit; the transport must still (re)open
async def test_serial_link_reconnects_after_pty_pair_is_recreated(
    parity: str, require_tool: Callable[[str], str]
) -> None:
    require_tool("socat")
    with tempfile.TemporaryDirectory(prefix="hil-rc-") as tmp:
        a, b = str(Path(tmp) / "master"), str(Path(tmp) / "slave")
        bus = SimBus([SimDevice(unit=7)])
        bus[7].set_registers(3, 0, [11, 22])
        pair = await SocatPair(a, b).start()
        server = await RtuPtyServer(bus, b, baudrate=19200).start()
        link = LinkOwner(SerialParams(port=a, baudrate=19200, parity=parity, reconnect_min=0.05, reconnect_max=0.2))
        link.set_device("d7", DeviceTiming(timeout=0.5, retries=0, backoff_min=0.1))
        device = ModbusDevice(link, 7, key="d7")
        try:
            assert await read_until_ok(device) == [11, 22]
            await pair.kill()  # adapter unplugged: the port vanishes under the open file
            with pytest.raises(DriverError):
                await device.read(3, 0, 2)
            with pytest.raises(LinkDown):  # the path is gone: reopening fails fast
                await asyncio.wait_for(device.read(3, 0, 2), 2.0)
            await pair.start()  # plugged back in (new pty under the same path); the sim reopens its end
            assert await read_until_ok(device) == [11, 22]
            assert link.connects >= 2
        finally:
            await link.close()
            await server.stop()
            await pair.kill()
