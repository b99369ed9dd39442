"""Modbus RTU / TCP over the shared link owners: point specs, decoding, block planning, devices.

pymodbus is not needed for the client path (framing is written from the spec in `frames.py`); it serves as
the independent peer in tests and as the baseline in `bench/bench_drivers.py`.
"""

from drivers.modbus.device import Framing, ModbusDevice
from drivers.modbus.planner import BlockPlan, plan_blocks, split_block
from drivers.modbus.points import ByteOrder, DataType, PointResult, PointSpec, Value, parse_address

__all__ = [
    "BlockPlan",
    "ByteOrder",
    "DataType",
    "Framing",
    "ModbusDevice",
    "PointResult",
    "PointSpec",
    "Value",
    "parse_address",
    "plan_blocks",
    "split_block",
]
