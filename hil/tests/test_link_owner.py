"""Link owner timing on the manual clock, over a real loopback TCP simulator: backoff, pacing, registry."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from drivers.clock import ManualClock
from drivers.errors import DeviceBackingOff, DeviceTimeout
from drivers.link import DeviceTiming, LinkOwner, LinkRegistry, SerialParams, TcpParams
from drivers.modbus import ModbusDevice
from hil.sim import SimBus, SimDevice, TcpSimServer

pytestmark = pytest.mark.hil


async def settle() -> None:
    """Let real loopback I/O happen (time on the manual clock does not move)."""
    await asyncio.sleep(0.05)


async def until(condition: Callable[[], bool]) -> None:
    """Wait (real time, up to 10 s on a loaded machine) until the simulator has seen what we expect."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def test_dead_device_costs_one_timeout_per_backoff_period() -> None:
    clock = ManualClock()
    bus = SimBus([SimDevice(unit=1), SimDevice(unit=2)])
    bus[2].faults.no_answer = True
    async with TcpSimServer(bus) as server:
        link = LinkOwner(TcpParams(host="127.0.0.1", port=server.port), clock=clock)
        link.set_device("dead", DeviceTiming(timeout=1.0, retries=2, backoff_min=10, backoff_max=40))
        dead = ModbusDevice(link, 2, framing="tcp", key="dead")
        alive = ModbusDevice(link, 1, framing="tcp", key="alive")

        # First failure: 1 + 2 retries, each one timeout.
        task = asyncio.create_task(dead.read(3, 0, 1))
        for attempt in range(1, 4):
            await until(lambda n=attempt: bus[2].requests == n)  # the request is out, its timeout armed
            await clock.advance(1.0)
        with pytest.raises(DeviceTimeout):
            await task
        assert bus[2].requests == 3

        # During backoff: no bus traffic at all, and the healthy unit is not delayed.
        with pytest.raises(DeviceBackingOff) as info:
            await dead.read(3, 0, 1)
        assert info.value.until == pytest.approx(13.0)
        assert await alive.read(3, 0, 1) == [0]
        assert bus[2].requests == 3

        # After the period: one probe, no retries, then a doubled period.
        await clock.advance(10.0)
        task = asyncio.create_task(dead.read(3, 0, 1))
        await until(lambda: bus[2].requests == 4)
        await clock.advance(1.0)
        with pytest.raises(DeviceTimeout):
            await task
        assert bus[2].requests == 4
        assert link.health("dead").backoff_until == pytest.approx(clock.now() + 20.0)

        # It comes back: the next probe succeeds and the state resets.
        bus[2].faults.no_answer = False
        await clock.advance(20.0)
        assert await dead.read(3, 0, 1) == [0]
        health = link.health("dead")
        assert (health.failures, health.backoff_until, health.ok) == (0, 0.0, 1)
        await link.close()


async def test_pacer_keeps_the_gap_between_frames() -> None:
    clock = ManualClock()
    bus = SimBus([SimDevice(unit=1)])
    async with TcpSimServer(bus) as server:
        link = LinkOwner(TcpParams(host="127.0.0.1", port=server.port, gap=0.5), clock=clock)
        link.set_device("slow", DeviceTiming(gap=2.0))
        device = ModbusDevice(link, 1, framing="tcp")
        slow = ModbusDevice(link, 1, framing="tcp", key="slow")
        await device.read(3, 0, 1)  # first frame: no gap to keep
        second = asyncio.create_task(device.read(3, 0, 1))
        await settle()
        assert not second.done() and bus[1].requests == 1
        await clock.advance(0.5)
        await settle()
        assert await second == [0] and bus[1].requests == 2
        third = asyncio.create_task(slow.read(3, 0, 1))  # a slow device needs its own, longer gap
        await clock.advance(1.0)
        await settle()
        assert not third.done()
        await clock.advance(1.0)
        await settle()
        assert await third == [0]
        await link.close()


def test_registry_shares_one_owner_per_endpoint_and_rejects_conflicts() -> None:
    registry = LinkRegistry()
    a = registry.get(SerialParams(port="/dev/ttyS1", baudrate=9600))
    assert registry.get(SerialParams(port="/dev/ttyS1", baudrate=9600)) is a
    assert registry.get(TcpParams(host="LocalHost", port=502)).endpoint == "localhost:502"
    with pytest.raises(ValueError, match="/dev/ttyS1"):
        registry.get(SerialParams(port="/dev/ttyS1", baudrate=19200))


@pytest.mark.parametrize(
    "kwargs", [{"baudrate": 0}, {"parity": "X"}, {"stopbits": 3}, {"gap": 5.0}, {"reconnect_min": 0}]
)
def test_serial_params_validation(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SerialParams(port="/dev/ttyS1", **kwargs)  # type: ignore[arg-type]


def test_default_gap_is_modbus_t35() -> None:
    # Modbus serial line guide §2.5.1.1: 3.5 × 11-bit chars at 9600 = 4.01 ms; fixed 1.75 ms above 19200.
    assert SerialParams(port="x", baudrate=9600).frame_gap == pytest.approx(0.00401, abs=1e-5)
    assert SerialParams(port="x", baudrate=115200).frame_gap == pytest.approx(0.00175)
    assert SerialParams(port="x", baudrate=9600, gap=0.03).frame_gap == 0.03
