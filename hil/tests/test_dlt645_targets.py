"""Read-only DL/T 645 checks that run on a real meter bus when HIL_DLT645_PORT names it, else on simulated
meters on a pty: the same test body either way (hil/README.md). Only the addresses given are polled."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.dlt645 import Dlt645Meter, MeterParams, Version, probe_dlt645
from drivers.link import DeviceTiming, LinkOwner, LinkRegistry
from drivers.profiles import load_builtin
from drivers.profiles.config import DeviceConfig, DevicesConfig, SerialLinkConfig
from drivers.reader import build_devices
from hil.sim import SocatPair
from hil.sim.targets import dlt645_target, real_dlt645
from hil.sim_meters import MeterBusSim, SimMeter

pytestmark = pytest.mark.hil

TIMING = DeviceTiming(timeout=2.0, retries=1, failures_before_backoff=100)


@pytest.fixture(autouse=True)
def _socat(require_tool: Callable[[str], str]) -> None:
    if not real_dlt645():
        require_tool("socat")


async def test_each_meter_answers_energy_and_voltage() -> None:
    await check_energy_and_voltage()


async def check_energy_and_voltage() -> None:
    async with dlt645_target() as target:
        link = LinkOwner(target.params, default_timing=TIMING)
        try:
            for address in target.addresses:
                meter = Dlt645Meter(link, MeterParams(address=address, version=target.version))
                energy = await meter.read("energy_active_import")
                assert energy.error is None, f"{address}: {energy.error}"
                assert energy.value is not None and math.isfinite(energy.value) and energy.value >= 0
                assert energy.unit == "kWh"
                voltage = await meter.read("voltage_a")
                assert voltage.error is None, f"{address}: {voltage.error}"
                assert voltage.value is not None and 0 <= voltage.value < 1000
                hits = await probe_dlt645(link, addresses=[address], versions=(Version.parse(target.version),))
                assert [hit.address for hit in hits] == [address]
                if target.sim is not None:  # the simulator's own figures, which a real meter cannot be asked for
                    assert energy.value == pytest.approx(target.sim.meter(address).energy_start, abs=1.0)  # type: ignore[attr-defined]
        finally:
            await link.close()


async def test_the_profile_reads_every_point_with_a_flag() -> None:
    """Through the shipped profile and the agent's reader: no point is B (no answer), none is invented."""
    async with dlt645_target() as target:
        if target.version != 2007:
            pytest.skip("the shipped meter profile is DL/T 645-2007")
        config = DevicesConfig(
            links={
                "bus": SerialLinkConfig(
                    type="serial", port=target.params.port, baud=target.params.baudrate, parity=target.params.parity
                )
            },
            devices={
                f"m{n}": DeviceConfig(profile="power_dlt645_2007", link="bus", address=address, timeout=2.0)
                for n, address in enumerate(target.addresses)
            },
        )
        profile = load_builtin("power_dlt645_2007")
        registry = LinkRegistry()
        try:
            devices = build_devices(config, {name: profile for name in config.devices}, registry)
            for name, device in devices.items():
                readings = await device.read()
                assert readings, name
                for r in readings:
                    assert r.flag != "B", f"{name}.{r.point}: {r.note}"
                    assert r.value is None or math.isfinite(r.value)
                    assert r.flag != "N" or r.value is not None
        finally:
            await registry.close()


async def test_the_variables_point_the_same_test_at_a_real_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, require_tool: Callable[[str], str]
) -> None:
    """What an installer's box does: HIL_DLT645_* name a port (here a pty with a meter at 1200 8E1 behind it,
    standing in for the hardware); the test polls the address given there and nothing else."""
    require_tool("socat")
    a, b = tmp_path / "ttyUSB_meter", tmp_path / "meter"
    sim = MeterBusSim([SimMeter("000000000414")], str(b), baudrate=1200, bits_per_char=11)
    async with SocatPair(a, b), sim:
        monkeypatch.setenv("HIL_DLT645_PORT", str(a))
        monkeypatch.setenv("HIL_DLT645_ADDRESS", "000000000414")
        monkeypatch.setenv("HIL_DLT645_BAUD", "1200")
        async with dlt645_target() as target:
            assert target.sim is None and target.addresses == ("000000000414",)
            assert target.params.line == "1200 8E1"
        await check_energy_and_voltage()
        assert sim.replies >= 3  # the meter behind the named port answered, not a simulator of the target's own
        monkeypatch.setenv("HIL_DLT645_ADDRESS", "")
        with pytest.raises(ValueError, match="HIL_DLT645_ADDRESS"):
            async with dlt645_target():
                pass
