"""DL/T 645 meters over a real pty pair (socat) through the shared link owner, against the independent simulator.

Several meters (2007 and 1997, different preambles) share one bus at 2400 8E1; faults are switched at runtime.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from drivers.clock import ManualClock, MonotonicClock
from drivers.dlt645 import (
    DataItem,
    Dlt645Meter,
    MeterErrorReply,
    MeterParams,
    Version,
    probe_dlt645,
    read_address,
    reply_length,
)
from drivers.dlt645.identifiers import ITEMS_1997, ITEMS_2007
from drivers.errors import DeviceTimeout, DriverError, ProtocolError
from drivers.link import DeviceTiming, LinkOwner, SerialParams
from hil.sim import SocatPair
from hil.sim_meters import MeterBusSim, SimMeter

pytestmark = pytest.mark.hil

M1 = "000000000001"
M2 = "123456789012"
M97 = "000000000414"

# Generous timeouts (replies take ~0.2 s at 2400 baud); no backoff, so a fault switched off is read at once.
TIMING = DeviceTiming(timeout=1.5, retries=0, failures_before_backoff=100)


@dataclass
class Bus:
    link: LinkOwner
    sim: MeterBusSim
    clock: ManualClock

    def meter(self, address: str, version: Version = Version.V2007, timeout: float | None = None) -> Dlt645Meter:
        return Dlt645Meter(self.link, MeterParams(address=address, version=version, timeout=timeout))


@asynccontextmanager
async def bus_on_pty(
    tmp_path: Path, meters: Callable[[ManualClock], list[SimMeter]], baud: int = 2400
) -> AsyncIterator[Bus]:
    a, b = tmp_path / "master", tmp_path / "meters"
    clock = ManualClock(start=1000.0)  # the agent clock the meters' energy follows
    async with SocatPair(a, b):
        sim = MeterBusSim(meters(clock), str(b), baudrate=baud, bits_per_char=11)
        async with sim:
            link = LinkOwner(SerialParams(port=str(a), baudrate=baud, parity="E"), default_timing=TIMING)
            try:
                yield Bus(link, sim, clock)
            finally:
                await link.close()


def three_meters(clock: ManualClock) -> list[SimMeter]:
    return [
        SimMeter(M1, preamble=4, clock=clock, seed=1),
        SimMeter(M2, preamble=0, clock=clock, seed=2, amps=(10.0, 10.0, 10.0), power_factor=0.9),
        SimMeter(M97, version=1997, preamble=2, clock=clock, seed=3),
    ]


@pytest.fixture
def socat(require_tool: Callable[[str], str]) -> str:
    return require_tool("socat")


async def test_several_meters_both_editions_on_one_bus(socat: str, tmp_path: Path) -> None:
    async with bus_on_pty(tmp_path, three_meters) as bus:
        m1, m2, m97 = bus.meter(M1), bus.meter(M2), bus.meter(M97, Version.V1997)
        for meter in (m1, m2):
            va = await meter.read("voltage_a")
            assert va.ok and va.unit == "V" and 215 < va.value < 225  # type: ignore[operator]
            assert va.raw.endswith(b"\x16")
        ia = await m2.read("current_a")
        assert ia.unit == "A" and ia.value == pytest.approx(10.0, rel=0.05)
        pf = await m2.read("power_factor_total")
        assert pf.unit == "" and pf.value == pytest.approx(0.9, abs=0.02)
        hz = await m1.read("frequency")
        assert hz.unit == "Hz" and hz.value == pytest.approx(50.0, abs=0.1)
        ua97 = await m97.read("B611")
        assert ua97.ok and ua97.value is not None and float(ua97.value).is_integer() and 215 <= ua97.value <= 225
        e97 = await m97.read("energy_active_import")
        assert e97.value == pytest.approx(1234.56, abs=0.01)


async def test_power_is_consistent_with_voltage_current_and_pf(socat: str, tmp_path: Path) -> None:
    async with bus_on_pty(tmp_path, three_meters, baud=9600) as bus:
        m = bus.meter(M2)
        block = {r.name: r.value for r in await m.read_many(["voltage_block", "current_block"])}
        pf = (await m.read("power_factor_a")).value
        p = (await m.read("power_active_a")).value
        total = (await m.read("power_active_total")).value
        s = (await m.read("power_apparent_total")).value
        q = (await m.read("power_reactive_total")).value
        assert p == pytest.approx(block["voltage_block[0]"] * block["current_block[0]"] * pf / 1000, rel=0.05)  # type: ignore[operator]
        assert total == pytest.approx(3 * 0.220 * 10.0 * 0.9, rel=0.05)
        assert math.hypot(total, q) == pytest.approx(s, rel=0.03)  # type: ignore[arg-type]


async def test_every_item_in_the_table_reads_from_the_sim(socat: str, tmp_path: Path) -> None:
    async with bus_on_pty(tmp_path, three_meters, baud=9600) as bus:
        results = await bus.meter(M1).read_many(list(ITEMS_2007))
        results += await bus.meter(M97, Version.V1997).read_many(list(ITEMS_1997))
        bad = [(r.name, r.error) for r in results if not r.ok]
        assert not bad
        by_name = {r.name: r for r in results}
        tariffs = sum(by_name[f"energy_active_import_block[{k}]"].value for k in range(1, 5))  # type: ignore[misc]
        assert tariffs == pytest.approx(by_name["energy_active_import_block[0]"].value, abs=0.03)


async def test_energy_grows_on_the_agent_clock(socat: str, tmp_path: Path) -> None:
    async with bus_on_pty(tmp_path, three_meters) as bus:
        m = bus.meter(M2)
        before = (await m.read("energy_active_import")).value
        await bus.clock.advance(1800)  # half an hour of agent time at 3 × 220 V × 10 A × 0.9 = 5.94 kW
        after = (await m.read("energy_active_import")).value
        assert before == pytest.approx(1234.56, abs=0.01)
        assert after - before == pytest.approx(5.94 / 2, abs=0.02)  # type: ignore[operator]


async def test_silent_meter_times_out_and_the_next_meter_still_answers(socat: str, tmp_path: Path) -> None:
    async with bus_on_pty(tmp_path, three_meters) as bus:
        bus.sim.meter(M1).faults.silent = True
        silent = await bus.meter(M1, timeout=0.6).read("voltage_a")
        assert silent.value is None and isinstance(silent.error, DeviceTimeout)
        ok = await bus.meter(M2).read("voltage_a")
        assert ok.ok
        bus.sim.meter(M1).faults.silent = False
        assert (await bus.meter(M1).read("voltage_a")).ok


async def test_garbage_bad_checksum_and_noise(socat: str, tmp_path: Path) -> None:
    async with bus_on_pty(tmp_path, three_meters) as bus:
        faults = bus.sim.meter(M1).faults
        m1 = bus.meter(M1, timeout=0.8)
        faults.garbage = True
        garbage = await m1.read("voltage_a")
        assert garbage.value is None and isinstance(garbage.error, ProtocolError | DeviceTimeout)
        faults.garbage = False
        faults.bad_checksum = True
        bad = await m1.read("voltage_a")
        assert bad.value is None and isinstance(bad.error, ProtocolError) and "checksum" in str(bad.error)
        assert bad.raw  # the corrupt frame is kept for the audit trail
        faults.bad_checksum = False
        faults.noise = True
        noisy = await m1.read("voltage_a")
        assert noisy.ok, noisy.error
        faults.noise = False
        assert (await bus.meter(M2).read("current_a")).ok  # the bus is still usable for the others


async def test_error_replies_are_clear(socat: str, tmp_path: Path) -> None:
    async with bus_on_pty(tmp_path, three_meters) as bus:
        unknown = DataItem(di=0x02800099, name="not_on_this_meter", length=2, decimals=0)
        result = await bus.meter(M1).read(unknown)
        assert isinstance(result.error, MeterErrorReply) and result.error.code == 0x02
        assert "no requested data" in str(result.error) and "02800099" in str(result.error)
        bus.sim.meter(M2).faults.error_code = 0x04
        locked = await bus.meter(M2).read("voltage_a")
        assert isinstance(locked.error, MeterErrorReply) and "password" in str(locked.error)


async def test_stuck_meter_repeats_its_values(socat: str, tmp_path: Path) -> None:
    async with bus_on_pty(tmp_path, three_meters) as bus:
        m = bus.meter(M1)
        await m.read("voltage_a")
        bus.sim.meter(M1).faults.stuck = True
        first = [(await m.read(k)).value for k in ("voltage_a", "current_b")]
        second = [(await m.read(k)).value for k in ("voltage_a", "current_b")]
        assert first == second


@pytest.mark.parametrize("version", [Version.V2007, Version.V1997])
async def test_wildcard_discovery_finds_a_lone_meter(socat: str, tmp_path: Path, version: Version) -> None:
    def lone(clock: ManualClock) -> list[SimMeter]:
        return [SimMeter("000000193600", version=version.value, preamble=1, clock=clock)]

    async with bus_on_pty(tmp_path, lone) as bus:
        assert await read_address(bus.link, version=version, timeout=1.0) == "000000193600"
        hits = await probe_dlt645(bus.link, versions=(version,), timeout=1.0)
        assert [(h.address, h.version) for h in hits] == [("000000193600", version)]


async def test_wildcard_with_several_meters_is_an_error_not_a_wrong_address(socat: str, tmp_path: Path) -> None:
    async with bus_on_pty(tmp_path, three_meters) as bus:
        with pytest.raises(DriverError):
            await read_address(bus.link, timeout=0.8)


async def test_probe_by_address_finds_each_meter_in_its_edition(socat: str, tmp_path: Path) -> None:
    async with bus_on_pty(tmp_path, three_meters, baud=9600) as bus:
        hits = await probe_dlt645(bus.link, addresses=[M1, M97, "000000000777"], timeout=0.5)
        assert [(h.address, h.version) for h in hits] == [(M1, Version.V2007), (M97, Version.V1997)]
        assert "kWh" in hits[0].detail


async def test_reply_takes_at_least_its_wire_time(socat: str, tmp_path: Path) -> None:
    """2400 8E1 is 11 bits a byte: request (20 B) + reply (4 FE + 18 B) cannot arrive in under ~0.19 s."""
    async with bus_on_pty(tmp_path, three_meters) as bus:
        clock = MonotonicClock()
        meter = bus.meter(M1)
        await meter.read("voltage_a")  # the port is open and the first reply read
        t0 = clock.now()
        result = await meter.read("voltage_a")
        elapsed = clock.now() - t0
        assert result.ok
        assert elapsed >= (20 + 22) * 11 / 2400 * 0.95
        assert reply_length(result.raw) == len(result.raw) == 22


async def test_das_scan_finds_a_lone_meter(socat: str, tmp_path: Path) -> None:
    """`das scan serial` loads the DL/T 645 probe and reports the meter with the keys of a config snippet.

    (A pty ignores baud and parity, so this cannot show that a wrong line setting finds nothing.)"""
    from drivers.link.scan import ScanOptions, load_probes, scan_serial

    def lone(clock: ManualClock) -> list[SimMeter]:
        return [SimMeter("000000193600", preamble=4, clock=clock)]

    probes = [p for p in load_probes() if p.name == "dlt645"]
    assert probes, "drivers.dlt645.scan is listed in PROBE_MODULES"
    async with bus_on_pty(tmp_path, lone) as bus:
        await bus.link.close()  # the scan opens its own owner per line setting
        found = await scan_serial(
            bus.link.endpoint, bauds=(2400,), parities=("E",), options=ScanOptions(timeout=0.3), probes=probes
        )
    assert [(f.protocol, f.address, f.line) for f in found] == [("dlt645", "000000193600", "2400 8E1")]
    assert found[0].device == {"address": "000000193600", "version": 2007}
