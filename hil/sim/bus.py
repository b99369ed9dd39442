"""A simulated bus: several unit ids answered by one server, faults applied per unit."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from drivers.clock import Clock, MonotonicClock
from hil.sim.device import SimDevice

__all__ = ["Answer", "SimBus"]


class Answer(Enum):
    PDU = "pdu"
    NONE = "none"
    GARBAGE = "garbage"
    DISCONNECT = "disconnect"


@dataclass(frozen=True)
class Reply:
    kind: Answer
    data: bytes = b""
    delay: float = 0.0


class SimBus:
    def __init__(self, devices: list[SimDevice] | None = None, *, clock: Clock | None = None) -> None:
        self.clock = clock or MonotonicClock()
        self.units: dict[int, SimDevice] = {}
        for d in devices or []:
            self.add(d)

    def add(self, device: SimDevice) -> SimDevice:
        self.units[device.unit] = device
        return device

    def __getitem__(self, unit: int) -> SimDevice:
        return self.units[unit]

    def respond(self, unit: int, pdu: bytes) -> Reply:
        """What the addressed unit puts on the line (units not on the bus stay silent, as on RS-485)."""
        device = self.units.get(unit)
        if device is None:
            return Reply(Answer.NONE)
        f = device.faults
        if f.disconnect:
            return Reply(Answer.DISCONNECT)
        if f.no_answer:
            device.requests += 1
            return Reply(Answer.NONE)
        if f.garbage:
            device.requests += 1
            return Reply(Answer.GARBAGE, device.garbage(), f.delay)
        if f.exception is not None:
            device.requests += 1
            return Reply(Answer.PDU, bytes(((pdu[0] if pdu else 0) | 0x80, f.exception)), f.delay)
        return Reply(Answer.PDU, device.handle(pdu), f.delay)
