"""Field drivers: polling throughput vs raw pymodbus, bus-time efficiency at 9600 baud, cost of a 1 Hz site.

Simulators run in their own process (`python -m hil.sim`), so the figures are the client side only.
Run: `.venv/bin/python -m bench drivers` (needs socat for the RTU parts).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from drivers.link import DeviceTiming, LinkOwner, SerialParams, TcpParams, modbus_t35
from drivers.modbus import ModbusDevice, PointSpec

ROOT = Path(__file__).resolve().parents[1]
TCP_READS = 3000
RTU_SECONDS = 8.0
SITE_SECONDS = 30.0


@contextlib.contextmanager
def sim(*args: str) -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-m", "hil.sim", *args], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(5)


@contextlib.contextmanager
def pty_pair() -> Iterator[tuple[str, str]]:
    socat = shutil.which("socat")
    if socat is None:
        raise RuntimeError("socat not installed")
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        a, b = f"{tmp}/master", f"{tmp}/slave"
        proc = subprocess.Popen(
            [socat, "-d", "-d", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"], stderr=subprocess.DEVNULL
        )
        try:
            while not (os.path.exists(a) and os.path.exists(b)):
                time.sleep(0.01)
            yield a, b
        finally:
            proc.terminate()
            proc.wait(5)


async def tcp_ours(port: int, n: int) -> float:
    link = LinkOwner(TcpParams(host="127.0.0.1", port=port))
    device = ModbusDevice(link, 1, framing="tcp")
    await device.read(3, 0, 10)
    start = time.perf_counter()
    for _ in range(n):
        await device.read(3, 0, 10)
    elapsed = time.perf_counter() - start
    await link.close()
    return n / elapsed


async def tcp_ours_points(port: int, n: int) -> float:
    link = LinkOwner(TcpParams(host="127.0.0.1", port=port))
    device = ModbusDevice(link, 1, framing="tcp")
    points = [PointSpec(name=f"p{i}", address=2 * i, dtype="float32", order="CDAB") for i in range(5)]
    await device.read_points(points)
    start = time.perf_counter()
    for _ in range(n):
        await device.read_points(points)
    elapsed = time.perf_counter() - start
    await link.close()
    return n / elapsed


async def tcp_pymodbus(port: int, n: int) -> float:
    from pymodbus.client import AsyncModbusTcpClient

    client = AsyncModbusTcpClient("127.0.0.1", port=port)
    await client.connect()
    await client.read_holding_registers(0, count=10, device_id=1)
    start = time.perf_counter()
    for _ in range(n):
        rr = await client.read_holding_registers(0, count=10, device_id=1)
        assert not rr.isError()
    elapsed = time.perf_counter() - start
    client.close()
    return n / elapsed


async def rtu_rate(port: str, count: int, seconds: float) -> tuple[float, int]:
    link = LinkOwner(SerialParams(port=port, baudrate=9600))
    device = ModbusDevice(link, 1)
    await device.read(3, 0, count)
    n = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        await device.read(3, 0, count)
        n += 1
    elapsed = time.perf_counter() - start
    await link.close()
    return n / elapsed, n


def bus_limit(count: int, turnaround: float = 0.002) -> tuple[float, float]:
    """Reads/s the wire allows: request 8 B + reply 5 + 2·count B at 10 bits/char, plus t3.5, (plus turnaround)."""
    chars = 8 + 5 + 2 * count
    wire = chars * 10 / 9600 + modbus_t35(9600)
    return 1 / wire, 1 / (wire + turnaround)


async def site(port: str, seconds: float) -> dict[str, float]:
    """6 devices × 10 float32 points, each polled at 1 Hz on a 9600-baud bus."""
    link = LinkOwner(SerialParams(port=port, baudrate=9600))
    points = [PointSpec(name=f"p{i}", address=2 * i, dtype="float32") for i in range(10)]
    devices = []
    for unit in range(1, 7):
        link.set_device(f"u{unit}", DeviceTiming(timeout=0.5))
        devices.append(ModbusDevice(link, unit, key=f"u{unit}"))
    ok = 0
    bad = 0

    async def poll(device: ModbusDevice, offset: float) -> None:
        nonlocal ok, bad
        loop = asyncio.get_running_loop()
        slot = loop.time() + offset
        end = slot + seconds
        while slot < end:
            await asyncio.sleep(max(0.0, slot - loop.time()))
            results = await device.read_points(points)
            ok += sum(r.ok for r in results.values())
            bad += sum(not r.ok for r in results.values())
            slot += 1.0

    cpu0 = time.process_time()
    t0 = time.perf_counter()
    await asyncio.gather(*(poll(d, i / 6) for i, d in enumerate(devices)))
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    await link.close()
    rss = 0
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return {
        "cpu_percent": 100 * cpu / wall,
        "rss_mb": rss / 1024,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "values_ok": ok,
        "values_bad": bad,
        "wall": wall,
    }


def main() -> None:
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; simulators in a separate process")
    with sim("tcp", "--port", "0", "--units", "1") as banner:
        port = int(banner.rsplit(":", 1)[1])
        ours, raw, pts = [], [], []
        for _ in range(3):  # interleaved, best of 3, to be fair on a shared machine
            ours.append(asyncio.run(tcp_ours(port, TCP_READS)))
            raw.append(asyncio.run(tcp_pymodbus(port, TCP_READS)))
            pts.append(asyncio.run(tcp_ours_points(port, TCP_READS)))
        print("Modbus TCP loopback, read 10 holding registers, sequential:")
        print(f"  driver stack (LinkOwner + ModbusDevice.read): {max(ours):8.0f} reads/s")
        print(f"  raw pymodbus AsyncModbusTcpClient:             {max(raw):8.0f} reads/s")
        print(f"  ratio ours / pymodbus:                         {max(ours) / max(raw):8.2f}")
        print(f"  read_points, 5 float32 CDAB decoded:           {max(pts):8.0f} polls/s")
    if shutil.which("socat") is None:
        print("socat not installed: RTU figures skipped")
        return
    with pty_pair() as (a, b), sim("rtu", "--port", b, "--baud", "9600", "--units", "1-6"):
        print("Modbus RTU on a pty, 9600 8N1 emulated (simulator delays each reply by its wire time + 2 ms):")
        for count in (10, 125):
            rate, n = asyncio.run(rtu_rate(a, count, RTU_SECONDS))
            limit, limit_ta = bus_limit(count)
            print(
                f"  {count:3d} registers: {rate:6.2f} reads/s ({n} reads); bus limit {limit:6.2f}/s "
                f"(frames + t3.5), {limit_ta:6.2f}/s with the sim's 2 ms turnaround → {100 * rate / limit_ta:5.1f} %"
            )
        figures = asyncio.run(site(a, SITE_SECONDS))
        print(f"Site: 6 devices × 10 float32 points at 1 Hz, 9600-baud RTU, {figures['wall']:.0f} s:")
        print(
            f"  CPU {figures['cpu_percent']:.2f} % of one core, RSS {figures['rss_mb']:.1f} MB "
            f"(max {figures['maxrss_mb']:.1f} MB, whole Python process), "
            f"values ok {figures['values_ok']:.0f}, bad {figures['values_bad']:.0f}"
        )


if __name__ == "__main__":
    main()
