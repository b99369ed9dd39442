"""Read-only checks that run on the simulators by default and on real hardware when HIL_MODBUS_* name it.

Every configured unit must answer (a value or an exception reply both prove it is there), and the link owner's
health counters must show no timeouts. See hil/README.md for the variables.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest

from drivers.errors import DeviceException
from drivers.link import DeviceTiming, LinkOwner
from drivers.modbus import ModbusDevice
from hil.sim.targets import real_rtu, rtu_target, tcp_target

pytestmark = pytest.mark.hil


async def answers(device: ModbusDevice) -> bool:
    with contextlib.suppress(DeviceException):
        await device.read(3, 0, 1)
    return True


async def test_every_configured_rtu_unit_answers(require_tool: Callable[[str], str]) -> None:
    if not real_rtu():
        require_tool("socat")
    async with rtu_target((1, 2)) as target:
        link = LinkOwner(target.params, default_timing=DeviceTiming(timeout=1.0, retries=2))
        try:
            for unit in target.units:
                device = ModbusDevice(link, unit)
                for _ in range(3):
                    assert await answers(device)
                assert link.health(device.key).timeouts == 0
        finally:
            await link.close()


async def test_every_configured_tcp_unit_answers() -> None:
    async with tcp_target((1,)) as target:
        link = LinkOwner(target.params, default_timing=DeviceTiming(timeout=2.0, retries=1))
        try:
            for unit in target.units:
                device = ModbusDevice(link, unit, framing="tcp")
                for _ in range(3):
                    assert await answers(device)
                assert link.health(device.key).timeouts == 0
        finally:
            await link.close()
