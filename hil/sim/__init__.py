"""Simulated Modbus devices and buses for tests, demos and benchmarks.

bus = SimBus([SimDevice(unit=1), SimDevice(unit=2)])
bus[1].define(SimPoint("so2", table=4, address=0, dtype="float32"), 12.5)
async with TcpSimServer(bus) as server: ...                  # Modbus TCP on 127.0.0.1:server.port
async with SocatPair(a, b), RtuPtyServer(bus, b, baudrate=9600): ...   # RTU on a pty, wire timing
bus[2].faults.no_answer = True                               # switch faults at runtime
"""

from hil.sim.bus import Answer, SimBus
from hil.sim.device import Faults, Playback, SimDevice, SimPoint, encode_value
from hil.sim.pty import SocatPair
from hil.sim.servers import RtuPtyServer, TcpSimServer

__all__ = [
    "Answer",
    "Faults",
    "Playback",
    "RtuPtyServer",
    "SimBus",
    "SimDevice",
    "SimPoint",
    "SocatPair",
    "TcpSimServer",
    "encode_value",
]
