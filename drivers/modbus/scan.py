"""Modbus probes for `das scan`: which unit ids answer on a serial line or behind a TCP endpoint.

A unit counts as present when it answers at all, an exception reply included (an analyzer without holding
register 0 answers "illegal data address", which still proves it is there). Holding register 0 is tried
first, then input register 0 on an exception, to tell which table the device serves.
"""

from __future__ import annotations

from typing import Literal

from drivers.errors import DeviceException, DriverError, LinkDown
from drivers.link.owner import LinkOwner
from drivers.link.params import SerialParams, TcpParams
from drivers.link.scan import Found, Progress, ScanOptions
from drivers.modbus.device import ModbusDevice

__all__ = ["PROBES", "ModbusProbe"]


class ModbusProbe:
    def __init__(self, framing: Literal["rtu", "tcp"]) -> None:
        self.framing: Literal["rtu", "tcp"] = framing
        self.name = f"modbus-{framing}"
        self.transport: Literal["serial", "tcp"] = "serial" if framing == "rtu" else "tcp"

    bauds = (9600, 19200, 4800, 2400, 38400, 115200)
    """The usual analyzer line speeds, most common first: a found unit early makes `--first` stop early."""
    parities = ("N", "E")

    def steps(self, options: ScanOptions) -> int:
        return len(options.units)

    def silent_seconds(self, options: ScanOptions, params: SerialParams | TcpParams) -> float:
        return len(options.units) * (options.timeout + params.frame_gap)

    async def run(
        self, link: LinkOwner, params: SerialParams | TcpParams, options: ScanOptions, progress: Progress
    ) -> list[Found]:
        found: list[Found] = []
        line = params.line if isinstance(params, SerialParams) else ""
        for unit in options.units:
            device = ModbusDevice(link, unit, framing=self.framing, key=f"scan#{unit}")
            detail = await self._probe(device)  # LinkDown propagates: the scanner accounts for the rest
            progress(1)
            if detail is not None:
                found.append(Found(self.name, link.endpoint, str(unit), line, detail, {"unit": unit}))
        return found

    async def _probe(self, device: ModbusDevice) -> str | None:
        try:
            value = await device.read(3, 0, 1)
            return f"holding register 0 = {value[0]} (0x{value[0]:04X})"
        except DeviceException as err:
            first = f"fc3 → exception {err.code}"
        except LinkDown:
            raise
        except DriverError:
            return None
        try:
            value = await device.read(4, 0, 1)
            return f"{first}; input register 0 = {value[0]} (0x{value[0]:04X})"
        except DeviceException as err:
            return f"{first}; fc4 → exception {err.code}"
        except LinkDown:
            raise
        except DriverError:
            return first


PROBES = [ModbusProbe("rtu"), ModbusProbe("tcp")]
