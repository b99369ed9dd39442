"""ModbusDevice against the simulators: fault knobs, rejected blocks, playback, RTU over TCP."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from drivers.clock import ManualClock
from drivers.errors import DeviceBusy, IllegalDataAddress, LinkDown
from drivers.link import DeviceTiming, LinkOwner, TcpParams
from drivers.modbus import ModbusDevice, PointSpec
from hil.sim import Playback, SimBus, SimDevice, SimPoint, TcpSimServer
from hil.sim.targets import rtu_target, tcp_target

pytestmark = pytest.mark.hil

SO2 = PointSpec(name="so2", address=0, function=4, dtype="float32", order="CDAB")
O2 = PointSpec(name="o2", address=2, function=4, dtype="uint16", scale=0.01)


def sim_points(device: SimDevice) -> None:
    device.define(SimPoint("so2", table=4, address=0, dtype="float32", order="CDAB"), 12.5)
    device.define(SimPoint("o2", table=4, address=2, dtype="uint16", scale=0.01, out_of_range=700.0), 20.9)


async def test_values_exception_fault_and_out_of_range() -> None:
    async with tcp_target((1,), simulated=True) as target:
        assert target.bus is not None
        sim_points(target.bus[1])
        link = LinkOwner(target.params)
        device = ModbusDevice(link, 1, framing="tcp")
        try:
            r = await device.read_points([SO2, O2])
            assert r["so2"].value == 12.5 and r["o2"].value == pytest.approx(20.9)
            assert r["o2"].raw == (2090,)

            target.bus[1].faults.exception = 6
            r = await device.read_points([SO2, O2])
            assert isinstance(r["so2"].error, DeviceBusy) and r["so2"].value is None
            target.bus[1].faults.exception = None

            target.bus[1].faults.out_of_range = True
            r = await device.read_points([SO2, O2])
            assert r["o2"].value == pytest.approx(655.35)  # clipped to what a uint16 can carry
            assert r["so2"].value == pytest.approx(1e9)
        finally:
            await link.close()


async def test_rejected_block_is_split_once_and_the_plan_remembered() -> None:
    bus = SimBus([SimDevice(unit=1, defined={3: [(0, 4), (10, 14)]})])
    bus[1].set_registers(3, 0, [1, 2, 3, 4])
    bus[1].set_registers(3, 10, [5, 6, 7, 8])
    points = [
        PointSpec(name="a", address=0),
        PointSpec(name="b", address=2, dtype="uint32"),
        PointSpec(name="c", address=10),
        PointSpec(name="d", address=12, dtype="int32"),
        PointSpec(name="gone", address=30),
    ]
    async with TcpSimServer(bus) as server:
        link = LinkOwner(TcpParams(host="127.0.0.1", port=server.port))
        device = ModbusDevice(link, 1, framing="tcp")
        try:
            r = await device.read_points(points)
            assert [r[n].value for n in "abcd"] == [1, 3 * 65536 + 4, 5, 7 * 65536 + 8]
            assert isinstance(r["gone"].error, IllegalDataAddress)
            first = device.reads
            assert len(device.plan(points)) == 3  # 0..4, 10..14, 30
            await device.read_points(points)
            assert device.reads - first == 3  # no more rejected reads
        finally:
            await link.close()


async def test_stuck_value_and_csv_playback_on_the_agent_clock(tmp_path: Path) -> None:
    csv = tmp_path / "series.csv"
    csv.write_text("t,so2,o2\n0,10.0,20.0\n60,11.5,\n120,13.0,19.5\n", encoding="utf-8")
    clock = ManualClock()
    bus = SimBus([SimDevice(unit=1, clock=clock)])
    sim_points(bus[1])
    bus[1].play(Playback(csv))
    async with TcpSimServer(bus) as server:
        link = LinkOwner(TcpParams(host="127.0.0.1", port=server.port))
        device = ModbusDevice(link, 1, framing="tcp")
        try:
            r = await device.read_points([SO2, O2])
            assert (r["so2"].value, r["o2"].value) == (10.0, pytest.approx(20.0))
            await clock.advance(60)
            r = await device.read_points([SO2, O2])
            assert (r["so2"].value, r["o2"].value) == (11.5, pytest.approx(20.0))  # empty cell keeps the value
            bus[1].faults.stuck = True
            await device.read_points([SO2])
            await clock.advance(60)
            assert (await device.read_points([SO2]))["so2"].value == 11.5  # frozen while the series moves on
            bus[1].faults.stuck = False
            r = await device.read_points([SO2, O2])
            assert (r["so2"].value, r["o2"].value) == (13.0, pytest.approx(19.5))
        finally:
            await link.close()


async def test_rtu_over_tcp_like_a_4g_dtu() -> None:
    async with tcp_target((3, 4), framing="rtu", simulated=True, gap=0.01) as target:
        assert target.bus is not None
        target.bus[4].set_registers(3, 100, [0xABCD])
        link = LinkOwner(target.params)
        try:
            assert await ModbusDevice(link, 4, framing="rtu").read(3, 100, 1) == [0xABCD]
            assert await ModbusDevice(link, 3, framing="rtu").read(3, 100, 1) == [0]
        finally:
            await link.close()


async def test_disconnect_fault_then_recovery() -> None:
    async with tcp_target((1,), simulated=True, reconnect_min=0.05, reconnect_max=0.1) as target:
        assert target.bus is not None and target.server is not None
        link = LinkOwner(target.params)
        link.set_device("d", DeviceTiming(timeout=0.5, retries=0))
        device = ModbusDevice(link, 1, framing="tcp", key="d")
        try:
            assert await device.read(3, 0, 1) == [0]
            target.bus[1].faults.disconnect = True
            with pytest.raises(LinkDown):
                await device.read(3, 0, 1)
            target.bus[1].faults.disconnect = False
            assert await device.read(3, 0, 1) == [0]  # first reconnect is immediate
            assert target.server.connections == 2
        finally:
            await link.close()


def _decode_table() -> list[tuple[str, str, str, object]]:
    """The hand-computed table of tests/drivers/test_modbus_points.py (one source, loaded by path)."""
    path = Path(__file__).resolve().parents[2] / "tests" / "drivers" / "test_modbus_points.py"
    spec = importlib.util.spec_from_file_location("modbus_points_table", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TABLE


async def test_every_type_and_order_over_a_real_socket_and_pty(require_tool: Callable[[str], str]) -> None:
    """The hand-computed bytes, served by the simulators, read back through the whole driver stack."""
    require_tool("socat")
    table = _decode_table()
    points, address = [], 0
    for i, (dtype, order, regs, _) in enumerate(table):
        words = [int(w, 16) for w in regs.split()]
        points.append((PointSpec(name=f"p{i}", address=address, dtype=dtype, order=order, count=len(words)), words))
        address += len(words) + 3  # small holes: the planner merges across them
    specs = [p for p, _ in points]
    async with tcp_target((1,), simulated=True) as tcp, rtu_target((1,), baudrate=115200, simulated=True) as rtu:
        for target, framing in ((tcp, "tcp"), (rtu, "rtu")):
            assert target.bus is not None
            for spec, words in points:
                target.bus[1].set_registers(3, spec.address, words)
            link = LinkOwner(target.params)
            try:
                device = ModbusDevice(link, 1, framing=framing)  # type: ignore[arg-type]
                results = await device.read_points(specs)
            finally:
                await link.close()
            assert len(device.plan(specs)) >= 3  # several blocks, each ≤ 125 registers
            for (spec, _), (_, _, _, expected) in zip(points, table, strict=True):
                value = results[spec.name].value
                assert value == (pytest.approx(expected, rel=1e-12) if isinstance(expected, float) else expected)


def test_playback_loops_and_rejects_bad_files(tmp_path: Path) -> None:
    csv = tmp_path / "loop.csv"
    csv.write_text("t,x\n0,1\n10,2\n", encoding="utf-8")
    playback = Playback(csv, loop=True)  # period 20 s: last t + last step
    assert [playback.values_at(t)["x"] for t in (0, 9.9, 10, 19.9, 20, 31)] == [1, 1, 2, 2, 1, 2]
    bad = tmp_path / "bad.csv"
    bad.write_text("when,x\n0,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="'t' or 'time' column"):
        Playback(bad)
    bad.write_text("time,x\n0,1\n", encoding="utf-8")  # a time column holds timestamps, not offsets
    with pytest.raises(ValueError, match=r"bad.csv:2: "):
        Playback(bad)
    bad.write_text("t,x\n0,1\n5,nan\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.csv:3: values must be finite"):
        Playback(bad)


def test_playback_follows_timestamps_on_the_agent_clock(tmp_path: Path) -> None:
    csv = tmp_path / "log.csv"
    csv.write_text("time,so2,o2\n2026-03-01T10:00:00,12.5,9.1\n2026-03-01T10:01:00,13.0,\n", encoding="utf-8")
    playback = Playback(csv)
    assert playback.timestamps and playback.columns == ("so2", "o2")
    assert playback.values_at_time(datetime(2026, 3, 1, 9, 59, 59)) == {}
    assert playback.values_at_time(datetime(2026, 3, 1, 10, 0, 30)) == {"so2": 12.5, "o2": 9.1}
    assert playback.values_now(0.0, datetime(2026, 3, 1, 10, 5)) == {"so2": 13.0, "o2": 9.1}  # empty cell: kept
