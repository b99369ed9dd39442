"""Run a simulated Modbus bus from the shell (demos, `das scan` tests, benchmarks).

    python -m hil.sim tcp --port 5020 --units 1-6 [--framing rtu]
    python -m hil.sim rtu --port /tmp/ttySIM1 --baud 9600 --units 3,5 [--peer /tmp/ttyDAS1]

Each unit serves holding/input registers 0..99 set to 1000 × unit + address. Runs until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from hil.sim.bus import SimBus
from hil.sim.device import SimDevice
from hil.sim.servers import RtuPtyServer, TcpSimServer


def _units(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def make_bus(units: list[int]) -> SimBus:
    bus = SimBus()
    for u in units:
        device = bus.add(SimDevice(unit=u))
        for table in (3, 4):
            device.set_registers(table, 0, [(1000 * u + a) & 0xFFFF for a in range(100)])
    return bus


async def _main(args: argparse.Namespace) -> None:
    bus = make_bus(_units(args.units))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.kind == "tcp":
        server = await TcpSimServer(bus, host=args.host, port=int(args.port), framing=args.framing).start()
        print(f"listening {args.host}:{server.port}", flush=True)
        await stop.wait()
        await server.stop()
    else:
        rtu = await RtuPtyServer(bus, args.port, baudrate=args.baud, peer=args.peer, timed=not args.untimed).start()
        print(f"serving {args.port}", flush=True)
        await stop.wait()
        await rtu.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m hil.sim", description="simulated Modbus bus")
    sub = parser.add_subparsers(dest="kind", required=True)
    tcp = sub.add_parser("tcp")
    tcp.add_argument("--host", default="127.0.0.1")
    tcp.add_argument("--port", default="5020")
    tcp.add_argument("--framing", choices=("tcp", "rtu"), default="tcp")
    tcp.add_argument("--units", default="1")
    rtu = sub.add_parser("rtu")
    rtu.add_argument("--port", required=True, help="the simulator's end of a socat pty pair")
    rtu.add_argument("--baud", type=int, default=9600)
    rtu.add_argument("--peer", help="the master's end of the pty pair: answer only when its baud rate matches")
    rtu.add_argument("--untimed", action="store_true", help="no wire-time emulation")
    rtu.add_argument("--units", default="1")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
