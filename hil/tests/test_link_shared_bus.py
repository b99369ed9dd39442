"""Several units on one RS-485 bus (a real pty pair with 9600-baud wire timing).

Done-when: a dead unit does not delay the other units' schedule by more than one timeout, and garbage on the
line never crashes the owner.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from drivers.errors import DeviceBackingOff, DeviceTimeout, DriverError, ProtocolError
from drivers.link import DeviceTiming, LinkOwner
from drivers.modbus import ModbusDevice
from hil.sim.targets import rtu_target

pytestmark = pytest.mark.hil

TIMEOUT = 0.2
PERIOD = 0.5
DURATION = 4.0


async def poll(device: ModbusDevice, start: float, lateness: list[float], errors: list[BaseException]) -> None:
    """Poll every PERIOD on a fixed schedule; record how late each read finished past its slot."""
    loop = asyncio.get_running_loop()
    slot = start
    while slot < start + DURATION:
        await asyncio.sleep(max(0.0, slot - loop.time()))
        try:
            await device.read(3, 0, 4)
            lateness.append(loop.time() - slot)
        except DriverError as err:
            errors.append(err)
        slot += PERIOD


async def test_dead_unit_costs_others_at_most_one_timeout(require_tool: Callable[[str], str]) -> None:
    require_tool("socat")
    async with rtu_target((1, 2, 3), baudrate=9600, simulated=True) as target:
        assert target.bus is not None
        target.bus[2].faults.no_answer = True
        link = LinkOwner(target.params)
        for unit in (1, 2, 3):
            link.set_device(f"u{unit}", DeviceTiming(timeout=TIMEOUT, retries=2, backoff_min=1.0, backoff_max=1.0))
        devices = {u: ModbusDevice(link, u, key=f"u{u}") for u in (1, 2, 3)}
        lateness: dict[int, list[float]] = {1: [], 2: [], 3: []}
        errors: dict[int, list[BaseException]] = {1: [], 2: [], 3: []}
        start = asyncio.get_running_loop().time() + 0.05
        try:
            await asyncio.gather(*(poll(devices[u], start, lateness[u], errors[u]) for u in (1, 2, 3)))
        finally:
            await link.close()
        slots = int(DURATION / PERIOD)
        for unit in (1, 3):
            assert not errors[unit], errors[unit]
            assert len(lateness[unit]) >= slots - 1
            # One read takes ~25 ms on the emulated 9600-baud wire; a dead neighbour may add one timeout, not more
            # (without per-device backoff and bus-yielding retries it would add 3 timeouts per cycle and pile up).
            assert max(lateness[unit]) < TIMEOUT + 0.25, lateness[unit]
        timeouts = [e for e in errors[2] if isinstance(e, DeviceTimeout)]
        skipped = [e for e in errors[2] if isinstance(e, DeviceBackingOff)]
        assert timeouts and skipped
        # At most one timeout per backoff period (1 s) after the first failure (which used its retries).
        assert link.health("u2").timeouts <= 3 + DURATION / 1.0 + 1
        assert link.health("u2").timeouts < len(errors[2])


async def test_garbage_on_the_line_never_crashes_the_owner(require_tool: Callable[[str], str]) -> None:
    require_tool("socat")
    async with rtu_target((1, 2), baudrate=19200, simulated=True) as target:
        assert target.bus is not None and target.server is not None
        link = LinkOwner(target.params)
        for unit in (1, 2):
            link.set_device(f"u{unit}", DeviceTiming(timeout=0.3, retries=0, backoff_min=0.2, backoff_max=0.2))
        d1, d2 = (ModbusDevice(link, u, key=f"u{u}") for u in (1, 2))
        target.bus[1].set_registers(3, 0, [1, 2])
        target.bus[2].set_registers(3, 0, [3, 4])
        target.bus[1].faults.garbage = True
        try:
            outcomes: list[str] = []
            for i in range(12):
                if i % 3 == 0:
                    target.server.inject(bytes(range(0x80, 0xA0)))  # unsolicited noise burst on the bus
                try:
                    await d1.read(3, 0, 2)
                    outcomes.append("ok")
                except (ProtocolError, DeviceBackingOff, DeviceTimeout) as err:
                    outcomes.append(type(err).__name__)
                assert await d2.read(3, 0, 2) == [3, 4]
                await asyncio.sleep(0.05)
            assert "ProtocolError" in outcomes and "ok" not in outcomes
            target.bus[1].faults.garbage = False
            await asyncio.sleep(0.25)  # let the backoff period pass
            assert await d1.read(3, 0, 2) == [1, 2]
            assert link.is_connected
        finally:
            await link.close()
