"""Our write framing (fc 5/6/16, what `das run` sends for 3011/3012/3021/3024) against an independent Modbus
implementation: a pymodbus TCP server on loopback, its data store read back directly (style.md §2.5)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
from pymodbus.server import ModbusTcpServer

from drivers.errors import IllegalDataAddress
from drivers.link import LinkOwner, TcpParams
from drivers.modbus import ModbusDevice, PointSpec

pytestmark = pytest.mark.hil


async def test_writes_land_in_a_pymodbus_server(unused_tcp_port: int) -> None:
    # pymodbus adds 1 to the address inside ModbusDeviceContext (anchors.md §2): blocks start at 1
    store = ModbusDeviceContext(hr=ModbusSequentialDataBlock(1, [0] * 20), co=ModbusSequentialDataBlock(1, [0] * 8))
    server = ModbusTcpServer(
        ModbusServerContext(devices={3: store}, single=False), address=("127.0.0.1", unused_tcp_port)
    )
    await server.serve_forever(background=True)
    link = LinkOwner(TcpParams(host="127.0.0.1", port=unused_tcp_port))
    device = ModbusDevice(link, 3, framing="tcp")
    try:
        for _ in range(50):
            with contextlib.suppress(Exception):
                await device.read(3, 0, 1)
                break
            await asyncio.sleep(0.05)
        await device.write(6, 2, 180)
        slope = PointSpec(name="slope", address=4, dtype="float32", order="CDAB")
        await device.write(16, 4, slope.encode(1.25))
        await device.write(5, 5, True)
        assert store.getValues(3, 2, 1) == [180]
        assert slope.decode(store.getValues(3, 4, 2)) == 1.25
        assert store.getValues(1, 5, 1) == [True]
        assert slope.decode(await device.read(3, 4, 2)) == 1.25  # and our reader agrees
        with pytest.raises(IllegalDataAddress):
            await device.write(6, 500, 1)
    finally:
        await link.close()
        await server.shutdown()
