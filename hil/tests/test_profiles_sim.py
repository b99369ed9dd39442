"""Per-profile simulators answer through the real driver stack (link owner, Modbus/DL/T 645, reader, flags).

Every Modbus profile gets its own simulated device on a loopback TCP server and is read with the same code the
agent uses; values must come back as simulated, within the profile's range and flagged N. Faults switched at
runtime must give the flags the issue asks for (B, D, T, and the analyzer's own C/M states).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from drivers.clock import ManualClock
from drivers.link import DeviceTiming, LinkRegistry, TcpParams
from drivers.modbus import ModbusDevice
from drivers.profiles import builtin_names, load_builtin
from drivers.profiles.config import DeviceConfig, PointOverride, load_devices_config
from drivers.reader import ModbusSource, PointReading, ProfiledDevice, build_devices
from hil.sim import SimBus, TcpSimServer
from hil.sim_profiles import ProfileSim
from hil.simulate import SimulatorSet, load_sim_config

pytestmark = pytest.mark.hil

MODBUS_PROFILES = [n for n in builtin_names() if load_builtin(n).device.protocol == "modbus"]


@contextlib.asynccontextmanager
async def served(sim: ProfileSim, config: DeviceConfig | None = None) -> AsyncIterator[ProfiledDevice]:
    """The simulator on a loopback Modbus TCP server and a ProfiledDevice reading it through a link owner."""
    async with TcpSimServer(SimBus([sim.device])) as server:
        registry = LinkRegistry(default_timing=DeviceTiming(timeout=0.5, retries=0, backoff_min=0.1, backoff_max=0.1))
        owner = registry.get(TcpParams(host="127.0.0.1", port=server.port))
        profile = sim.profile
        modbus = ModbusDevice(owner, sim.device.unit, framing="tcp", key=profile.device.name)
        try:
            yield ProfiledDevice(profile.device.name, profile, ModbusSource(modbus, profile), config)
        finally:
            await registry.close()


def by_point(readings: list[PointReading]) -> dict[str, PointReading]:
    return {r.point: r for r in readings}


@pytest.mark.parametrize("name", MODBUS_PROFILES)
async def test_each_profile_simulator_reads_back_plausible_values(name: str) -> None:
    profile = load_builtin(name)
    sim = ProfileSim(profile, seed=5)
    async with served(sim) as device:
        readings = await device.read()
    assert [r.point for r in readings] == [p.name for p in profile.values()]
    for r in readings:
        point = profile.point(r.point)
        assert r.flag == "N", (r.point, r.note)
        assert r.value is not None
        expected = sim.values[r.point]
        span = (point.range[1] - point.range[0]) if point.range else 0.0
        step = 0.0 if point.type.startswith("float") else point.scale * (span / 16 if point.signal else 1.0)
        tolerance = max(0.002 * abs(expected), 0.002 * span, 0.6 * step, 1e-3)  # float32 / integer resolution
        assert r.value == pytest.approx(expected, abs=tolerance), r.point
        if point.range is not None:
            assert point.range[0] <= r.value <= point.range[1], r.point
        assert r.raw, "raw registers are kept"
        assert r.info["i12002"] == 0


async def test_cems_faults_and_states_at_runtime() -> None:
    sim = ProfileSim(load_builtin("cems_fpi_cems2000"), seed=2)
    async with served(sim) as device:
        assert {r.flag for r in await device.read()} == {"N"}

        sim.no_answer = True
        failed = await device.read()
        assert {r.flag for r in failed} == {"B"}
        assert all(r.value is None for r in failed)
        assert failed[0].info["i12002"] == 1
        sim.no_answer = False

        sim.force("fault")
        out = by_point(await _read_ok(device))
        assert out["so2"].flag == "D"
        assert out["so2"].info["i12001"] == 2

        sim.force("blowback")
        out = by_point(await device.read())
        assert out["so2"].flag == "M"
        assert out["so2"].info["i12001"] == 5

        sim.force("calibration")
        assert by_point(await device.read())["o2"].flag == "C"
        sim.force(None)

        sim.over_range.add("so2")
        sim.update()
        out = by_point(await device.read())
        assert out["so2"].flag == "T"
        assert out["so2"].value == pytest.approx(1500.0)
        assert out["o2"].flag == "N"


async def _read_ok(device: ProfiledDevice) -> list[PointReading]:
    """Read until the link owner's short backoff after a failure is over (a few tries, no sleeps in between)."""
    import asyncio

    for _ in range(50):
        readings = await device.read()
        if readings[0].flag != "B":
            return readings
        await asyncio.sleep(0.05)
    return readings


async def test_stuck_value_keeps_answering_the_same() -> None:
    clock = ManualClock()
    sim = ProfileSim(load_builtin("cems_sick_mcs100ft"), clock=clock, seed=3)
    async with served(sim) as device:
        sim.stuck = True
        first = by_point(await device.read())
        await clock.advance(60)
        sim.update()
        second = by_point(await device.read())
        assert second["so2"].value == first["so2"].value
        sim.stuck = False
        third = by_point(await device.read())
        assert third["so2"].value != first["so2"].value


async def test_analog_input_wire_break_and_over_range() -> None:
    config = DeviceConfig(
        profile="ai8_c2000_sax0800", link="l", points={"ai1": PointOverride(factor="a01012", range=(0, 300), unit="℃")}
    )
    sim = ProfileSim(load_builtin("ai8_c2000_sax0800"), seed=4)
    async with served(sim, config) as device:
        sim.wire_break.add("ai3")
        sim.over_range.add("ai4")
        sim.update()
        out = by_point(await device.read())
    assert (out["ai3"].value, out["ai3"].flag) == (None, "D")
    assert out["ai4"].flag == "T"
    assert out["ai1"].flag == "N"
    # the simulator drives ai1 at ~40 % of its profile range (0-100 %) → ~40 % of the site range 0-300 ℃
    assert out["ai1"].value == pytest.approx(3 * sim.values["ai1"], abs=0.5)
    assert (out["ai1"].unit, out["ai1"].factor) == ("℃", "a01012")


async def test_adam_wire_break_reads_0_ma_and_is_d() -> None:
    """ADAM-4117 at ±20 mA: a broken loop reads raw ≈ 32768 (0 mA), which NE 43 calls a failure."""
    sim = ProfileSim(load_builtin("ai8_adam4117"), seed=4)
    async with served(sim) as device:
        sim.wire_break.add("ai8")
        sim.update()
        out = by_point(await device.read())
    assert (out["ai8"].value, out["ai8"].flag) == (None, "D")
    assert out["ai8"].raw == (32768,)
    assert out["ai1"].flag == "N"


async def test_water_analyzer_cycles_calibration_and_standard_check() -> None:
    clock = ManualClock()
    sim = ProfileSim(load_builtin("water_fpi_cod"), clock=clock, seed=6, cycle=3600)
    async with served(sim) as device:
        first = by_point(await device.read())["result"]
        assert (first.flag, first.info["i12001"]) == ("N", 7)  # measuring
        await clock.advance(1800)
        sim.update()
        idle = by_point(await device.read())["result"]
        assert idle.value == first.value  # no new result inside a cycle
        assert (idle.flag, idle.info["i12001"], idle.info["i12101"]) == ("N", 9, 0)
        await clock.advance(1900)  # 01:01 of the simulated day: daily calibration
        sim.update()
        cal = by_point(await device.read())["result"]
        assert (cal.flag, cal.info["i12001"], cal.info["i12101"]) == ("C", 3, 5)
        assert cal.value != first.value  # the 00:00-01:00 cycle completed
        await clock.advance(3600)  # 02:01: standard check
        sim.update()
        began = sim.start + timedelta(seconds=sim.elapsed())
        check = by_point(await device.read())["result"]
        assert (check.flag, check.info["i12101"]) == ("C", 6)
        assert check.info["i13130"] == 0  # the result is written when the check ends
        await clock.advance(1200)  # 02:21: the check is over
        sim.update()
        done = by_point(await device.read())["result"]
        assert done.info["i13130"] == pytest.approx(500, rel=0.1)  # half of the 1000 mg/L range
        assert done.info["i13128"] == began.strftime("%Y%m%d%H%M%S")  # dated at its start


async def test_cems_blowback_period_each_hour() -> None:
    clock = ManualClock()
    sim = ProfileSim(load_builtin("cems_sdl_scs900"), clock=clock, seed=7)
    async with served(sim) as device:
        await clock.advance(3600 - 120)
        sim.update()
        out = by_point(await device.read())
        assert (out["so2"].flag, out["so2"].info["i12001"]) == ("M", 5)
        assert out["temperature"].flag == "N"  # the transmitter channels are not the analyzer's


async def test_simulator_set_over_tcp_rtu_tcp_and_ptys(tmp_path: Path, require_tool: object) -> None:
    """`das simulate`'s runner: TCP, RTU-over-TCP and two ptys (Modbus RTU, DL/T 645), read with its config."""
    require_tool("socat")  # type: ignore[operator]
    sim_toml = tmp_path / "sim.toml"
    sim_toml.write_text(
        f"""
[[devices]]
name = "cems"
profile = "cems_sick_mcs100ft"
transport = "tcp"
[[devices]]
name = "cod"
profile = "water_fpi_cod"
transport = "tcp"
unit = 2
[[devices]]
name = "flow"
profile = "flow_tuf2000"
transport = "rtu-tcp"
[[devices]]
name = "ph"
profile = "ph_bh485"
transport = "pty"
link = "{tmp_path}/ph"
baud = 19200
[[devices]]
name = "dcon"
profile = "ai8_dcon_i7017"
transport = "pty"
link = "{tmp_path}/dcon"
address = "03"
[[devices]]
name = "meter"
profile = "power_dlt645_2007"
transport = "pty"
link = "{tmp_path}/meters"
address = "000000000161"
baud = 9600
""",
        encoding="utf-8",
    )
    config, profiles = load_sim_config(sim_toml)
    async with SimulatorSet(config, profiles) as sims:
        lines = sims.describe()
        assert any("cems" in line and "Modbus TCP 127.0.0.1:" in line for line in lines)
        assert any("meter" in line and "DL/T 645" in line for line in lines)
        devices_toml = tmp_path / "devices.toml"
        devices_toml.write_text(sims.devices_config(), encoding="utf-8")
        dconfig, dprofiles = load_devices_config(devices_toml)
        registry = LinkRegistry()
        try:
            devices = build_devices(dconfig, dprofiles, registry)
            for name, device in devices.items():
                readings = await device.read()
                assert readings, name
                assert {r.flag for r in readings} == {"N"}, (name, [(r.point, r.note) for r in readings])
            meter = by_point(await devices["meter"].read())
            assert meter["ua"].value == pytest.approx(220, abs=5)
            assert meter["import_energy"].unit == "kWh"
            dcon = by_point(await devices["dcon"].read())
            assert dcon["ai1"].value == pytest.approx(37.5, abs=1.5)  # 10 mA ± 1 % on 0-100 %
            sims.sims["dcon"].set_points = (10.0, 0.0, *([12.0] * 6))  # type: ignore[union-attr]
            dcon = by_point(await devices["dcon"].read())
            assert (dcon["ai2"].value, dcon["ai2"].flag) == (None, "D")  # wire break at 0 mA
            assert dcon["ai3"].value == pytest.approx(50, abs=1.5)
            sims.sims["meter"].faults.silent = True  # type: ignore[union-attr]
            silent = await devices["meter"].read()
            assert {r.flag for r in silent} == {"B"}
        finally:
            await registry.close()
