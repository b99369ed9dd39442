"""Simulated DL/T 645 meters and ASCII analyzers on pty pairs, with wire timing and runtime fault knobs.

meters = [SimMeter("000000000001"), SimMeter("000000000002", version=1997, preamble=0)]
async with SocatPair(a, b), MeterBusSim(meters, b, baudrate=2400):   # 2400 8E1: 11 bits a byte
    meters[1].faults.silent = True
"""

from hil.sim_meters.dlt645 import MeterBusSim, MeterFaults, SimMeter
from hil.sim_meters.serialtext import TextAnalyzerSim, TextFaults
from hil.sim_meters.wire import SerialSim

__all__ = ["MeterBusSim", "MeterFaults", "SerialSim", "SimMeter", "TextAnalyzerSim", "TextFaults"]
