"""Device profiles: load/validate cost, flag evaluation per poll, and one profiled read over loopback TCP."""

from __future__ import annotations

import asyncio
import time
import tracemalloc

from drivers.link import LinkRegistry, TcpParams
from drivers.modbus import ModbusDevice
from drivers.profiles import builtin_names, load_builtin
from drivers.profiles.loader import parse_profile
from drivers.reader import ModbusSource, ProfiledDevice, RawResult


def _load_all() -> float:
    from importlib import resources

    texts = {
        n: (resources.files("drivers.profiles") / f"{n}.toml").read_text(encoding="utf-8") for n in builtin_names()
    }
    start = time.perf_counter()
    for name, text in texts.items():
        parse_profile(text, name, expect_name=name)
    return (time.perf_counter() - start) / len(texts)


def _evaluate(name: str, polls: int = 2000) -> float:
    profile = load_builtin(name)
    device = ProfiledDevice(name, profile, source=None)  # type: ignore[arg-type]
    raw = {p.name: RawResult(1.0, (0, 0)) for p in profile.points}
    raw.update({i.name: RawResult(1.0, (0, 0)) for i in profile.info})
    start = time.perf_counter()
    for _ in range(polls):
        device.evaluate(raw)
    return (time.perf_counter() - start) / polls


async def _tcp_reads(name: str, reads: int = 200) -> tuple[float, int]:
    from hil.sim import SimBus, TcpSimServer
    from hil.sim_profiles import ProfileSim

    profile = load_builtin(name)
    sim = ProfileSim(profile)
    async with TcpSimServer(SimBus([sim.device])) as server:
        registry = LinkRegistry()
        owner = registry.get(TcpParams(host="127.0.0.1", port=server.port))
        modbus = ModbusDevice(owner, sim.device.unit, framing="tcp", key=name)
        device = ProfiledDevice(name, profile, ModbusSource(modbus, profile))
        await device.read()
        before = modbus.reads
        start = time.perf_counter()
        for _ in range(reads):
            await device.read()
        elapsed = (time.perf_counter() - start) / reads
        requests = (modbus.reads - before) // reads
        await registry.close()
    return elapsed, requests


def main() -> None:
    print(f"profiles: {len(builtin_names())} built-in")
    print(f"parse + validate one profile: {_load_all() * 1e3:.2f} ms (mean over all, extends resolved)")
    for name in ("cems_sick_mcs100ft", "water_fpi_cod", "ai8_c2000_sax0800"):
        print(f"evaluate one poll of {name}: {_evaluate(name) * 1e6:.0f} µs")
    load_builtin.cache_clear()
    tracemalloc.start()
    profiles = [load_builtin(n) for n in builtin_names()]
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"memory of {len(profiles)} loaded profiles (cached): {current / 1024:.0f} KiB")
    for name in ("cems_fpi_cems2000", "water_fpi_cod"):
        per_read, requests = asyncio.run(_tcp_reads(name))
        print(f"read {name} over loopback Modbus TCP: {per_read * 1e3:.2f} ms per poll, {requests} requests per poll")


if __name__ == "__main__":
    main()
