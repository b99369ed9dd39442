"""Simulated DL/T 645 meters (2007 and 1997) sharing one RS-485 bus on a pty.

Written apart from `drivers.dlt645` on purpose (style.md: interop with an independent peer): its own frame
scanner, BCD writer and item table, taken from devices.md §1 directly, so a bug shared by both ends cannot hide.

Values are realistic and consistent: phase voltages near 220 V with noise, currents, P = V·I·PF, Q and S from
the same triangle, total PF = P/S, 50 Hz, and import energy that grows with the nominal power on the clock given
(the agent clock in tests, so energy is deterministic). Faults switch at runtime per meter (`meter.faults`).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from drivers.clock import Clock, MonotonicClock
from hil.sim_meters.wire import SerialSim

__all__ = ["MeterBusSim", "MeterFaults", "SimMeter"]

ERR_OTHER = 0x01
ERR_NO_DATA = 0x02


@dataclass
class MeterFaults:
    """Knobs a test flips while the bus runs."""

    silent: bool = False
    """No answer at all (meter off, wrong address wiring)."""
    error_code: int | None = None
    """Answer every read with an abnormal reply carrying this ERR byte."""
    garbage: bool = False
    """Random bytes instead of the reply."""
    noise: bool = False
    """Random non-frame bytes before an otherwise good reply (line noise the driver must skip)."""
    bad_checksum: bool = False
    stuck: bool = False
    """Values frozen at the last sample (a hung meter CPU still answering)."""
    extra_delay: float = 0.0


def _bcd(value: float, size: int, decimals: int, signed: bool) -> bytes:
    """Little-endian packed BCD; sign in bit 7 of the most significant byte (devices.md §1.3)."""
    n = round(abs(value) * 10**decimals)
    text = str(n).zfill(2 * size)[-2 * size :]
    out = [int(text[i : i + 2], 16) for i in range(0, len(text), 2)][::-1]
    if signed and value < 0 and n:
        out[-1] |= 0x80
    return bytes(out)


@dataclass
class _Sample:
    volts: tuple[float, float, float]
    amps: tuple[float, float, float]
    pf: tuple[float, float, float]
    hz: float

    def p(self, k: int) -> float:
        return self.volts[k] * self.amps[k] * self.pf[k] / 1000

    def s(self, k: int) -> float:
        return self.volts[k] * self.amps[k] / 1000

    def q(self, k: int) -> float:
        return self.s(k) * math.sin(math.acos(max(-1.0, min(1.0, self.pf[k]))))


@dataclass
class SimMeter:
    """One meter. `address` is the nameplate number (12 digits)."""

    address: str
    version: int = 2007
    preamble: int = 4
    """FE bytes before each reply (meters differ: 0-4, devices.md §1.1)."""
    amps: tuple[float, float, float] = (5.0, 4.0, 6.0)
    power_factor: float = 0.95
    energy_start: float = 1234.56
    export_energy: float = 1.23
    clock: Clock = field(default_factory=MonotonicClock)
    seed: int = 1
    faults: MeterFaults = field(default_factory=MeterFaults)

    def __post_init__(self) -> None:
        self.address = self.address.rjust(12, "0")
        if len(self.address) != 12 or not self.address.isdigit():
            raise ValueError(f"sim meter address {self.address!r} must be 12 digits")
        self._t0 = self.clock.now()
        self._rng = random.Random(self.seed)
        self._last: _Sample | None = None
        self.reads = 0

    @property
    def nominal_kw(self) -> float:
        return sum(220.0 * a * self.power_factor for a in self.amps) / 1000

    def energy(self) -> float:
        """kWh imported: the start value plus nominal power integrated over the clock."""
        return self.energy_start + self.nominal_kw * (self.clock.now() - self._t0) / 3600

    def sample(self) -> _Sample:
        if self.faults.stuck and self._last is not None:
            return self._last
        g = self._rng.gauss
        self._last = _Sample(
            volts=tuple(220.0 + g(0, 0.8) for _ in range(3)),  # type: ignore[arg-type]
            amps=tuple(max(0.0, a * (1 + g(0, 0.01))) for a in self.amps),  # type: ignore[arg-type]
            pf=tuple(min(1.0, self.power_factor + g(0, 0.003)) for _ in range(3)),  # type: ignore[arg-type]
            hz=50.0 + g(0, 0.01),
        )
        return self._last

    def table(self) -> dict[int, Callable[[], bytes]]:
        """DI → value bytes (unmasked) for this meter's edition."""
        return _table_2007(self) if self.version == 2007 else _table_1997(self)


def _table_2007(m: SimMeter) -> dict[int, Callable[[], bytes]]:
    def kwh(v: Callable[[], float], signed: bool = False) -> Callable[[], bytes]:
        return lambda: _bcd(v(), 4, 2, signed)

    def phase(di: int, size: int, dec: int, signed: bool, fn: Callable[[_Sample, int], float]) -> dict:
        return {di + (k + 1) * 0x100: (lambda k=k: _bcd(fn(m.sample(), k), size, dec, signed)) for k in range(3)}

    def block(size: int, dec: int, signed: bool, fn: Callable[[_Sample, int], float]) -> Callable[[], bytes]:
        def make() -> bytes:
            s = m.sample()
            return b"".join(_bcd(fn(s, k), size, dec, signed) for k in range(3))

        return make

    shares = (0.1, 0.4, 0.3, 0.2)
    t: dict[int, Callable[[], bytes]] = {
        0x00000000: kwh(lambda: m.energy() - m.export_energy, True),
        0x00010000: kwh(m.energy),
        0x00020000: kwh(lambda: m.export_energy),
        0x0001FF00: lambda: _bcd(m.energy(), 4, 2, False) + b"".join(_bcd(m.energy() * s, 4, 2, False) for s in shares),
        **{0x00010000 + (k + 1) * 0x100: kwh(lambda s=s: m.energy() * s) for k, s in enumerate(shares)},
        **phase(0x02010000, 2, 1, False, lambda s, k: s.volts[k]),
        0x0201FF00: block(2, 1, False, lambda s, k: s.volts[k]),
        **phase(0x02020000, 3, 3, True, lambda s, k: s.amps[k]),
        0x0202FF00: block(3, 3, True, lambda s, k: s.amps[k]),
        **phase(0x02030000, 3, 4, True, lambda s, k: s.p(k)),
        0x02030000: lambda: _bcd(sum(m.sample().p(k) for k in range(3)), 3, 4, True),
        **phase(0x02040000, 3, 4, True, lambda s, k: s.q(k)),
        0x02040000: lambda: _bcd(sum(m.sample().q(k) for k in range(3)), 3, 4, True),
        **phase(0x02050000, 3, 4, False, lambda s, k: s.s(k)),
        0x02050000: lambda: _bcd(sum(m.sample().s(k) for k in range(3)), 3, 4, False),
        **phase(0x02060000, 2, 3, True, lambda s, k: s.pf[k]),
        0x02060000: lambda: _bcd(_total_pf(m.sample()), 2, 3, True),
        0x02800001: lambda: _bcd(0.05, 3, 3, False),
        0x02800002: lambda: _bcd(m.sample().hz, 2, 2, False),
    }
    return t


def _total_pf(s: _Sample) -> float:
    total_s = sum(s.s(k) for k in range(3))
    return sum(s.p(k) for k in range(3)) / total_s if total_s else 1.0


def _table_1997(m: SimMeter) -> dict[int, Callable[[], bytes]]:
    t: dict[int, Callable[[], bytes]] = {0x9010: lambda: _bcd(m.energy(), 4, 2, False)}
    for k in range(3):
        t[0xB611 + k] = lambda k=k: _bcd(m.sample().volts[k], 2, 0, False)
        t[0xB621 + k] = lambda k=k: _bcd(m.sample().amps[k], 2, 2, False)
        t[0xB631 + k] = lambda k=k: _bcd(m.sample().p(k), 3, 4, False)
        t[0xB691 + k] = lambda k=k: _bcd(m.sample().volts[k] * math.sqrt(3), 2, 0, False)
    t[0xB630] = lambda: _bcd(sum(m.sample().p(k) for k in range(3)), 3, 4, False)
    return t


class MeterBusSim(SerialSim):
    """Several meters on one bus. Each request frame is answered by the meter(s) its address selects."""

    def __init__(self, meters: list[SimMeter], port: str, **kwargs: object) -> None:
        super().__init__(port, **kwargs)  # type: ignore[arg-type]
        self.meters = meters
        self._buf = bytearray()
        self._rng = random.Random(7)
        self.bad_frames = 0

    def meter(self, address: str) -> SimMeter:
        return next(m for m in self.meters if m.address == address.rjust(12, "0"))

    async def feed(self, data: bytes) -> None:
        self._buf += data
        while True:
            frame = self._take_frame()
            if frame is None:
                return
            size, address, control, payload = frame
            self.requests += 1
            done = self.request_done(size)
            await self._answer(address, control, payload, done)

    def _take_frame(self) -> tuple[int, str, int, bytes] | None:
        buf = self._buf
        while True:
            start = buf.find(0x68)
            if start < 0:
                buf.clear()
                return None
            del buf[:start]
            if len(buf) < 10:
                return None
            if buf[7] != 0x68:
                del buf[:1]
                continue
            size = 12 + buf[9]
            if len(buf) < size:
                return None
            if buf[size - 1] != 0x16 or sum(buf[: size - 2]) % 256 != buf[size - 2]:
                self.bad_frames += 1
                del buf[:1]  # a real meter ignores a corrupt frame
                continue
            address = bytes(buf[1:7])[::-1].hex().upper()
            control = buf[8]
            payload = bytes((b - 0x33) % 256 for b in buf[10 : size - 2])
            del buf[:size]
            if control & 0x80:
                continue  # another slave's reply, not for us
            return size, address, control, payload

    async def _answer(self, address: str, control: int, payload: bytes, done: float) -> None:
        if address == "999999999999":
            return  # broadcast: never answered
        chosen = [
            m
            for m in self.meters
            if not m.faults.silent and all(a in ("A", b) for a, b in zip(address, m.address, strict=True))
        ]
        replies = [r for m in chosen if (r := self._reply(m, control, payload)) is not None]
        if not replies:
            return
        if len(replies) == 1:
            data = replies[0]
        else:  # several meters talk at once: the bus carries the wired-OR of their bits
            width = max(map(len, replies))
            data = bytes(_or(r[i] if i < len(r) else 0xFF for r in replies) for i in range(width))
        delay = max((m.faults.extra_delay for m in chosen), default=0.0)
        await self.send(data, not_before=done + delay)

    def _reply(self, m: SimMeter, control: int, payload: bytes) -> bytes | None:
        function = control & 0x1F
        f = m.faults
        if f.garbage:
            return bytes(
                self._rng.choice([b for b in range(256) if b != 0x68]) for _ in range(self._rng.randint(5, 30))
            )
        if m.version == 2007 and function == 0x13:
            body = _frame(m.address, 0x93, bytes.fromhex(m.address)[::-1])
        elif (m.version == 2007 and function == 0x11 and len(payload) == 4) or (
            m.version == 1997 and function == 0x01 and len(payload) == 2
        ):
            m.reads += 1
            di = int.from_bytes(payload, "little")
            fn = m.table().get(di)
            if f.error_code is not None or fn is None:
                err = f.error_code if f.error_code is not None else ERR_NO_DATA
                body = _frame(m.address, control | 0xC0, bytes([err]))
            else:
                body = _frame(m.address, control | 0x80, payload + fn())
        else:
            return None  # the other edition's request, or a function this sim does not implement: silence
        if f.bad_checksum:
            body = body[:-2] + bytes([(body[-2] + 1) % 256, 0x16])
        lead = bytes([0xFE] * m.preamble)
        if f.noise:
            lead = bytes(self._rng.choice([0x00, 0x3F, 0xFF, 0x55, 0x16]) for _ in range(6)) + lead
        return lead + body


def _frame(address: str, control: int, data: bytes) -> bytes:
    head = bytes([0x68, *bytes.fromhex(address)[::-1], 0x68, control, len(data)])
    body = head + bytes((b + 0x33) % 256 for b in data)
    return body + bytes([sum(body) % 256, 0x16])


def _or(values: object) -> int:
    out = 0
    for v in values:  # type: ignore[attr-defined]
        out |= v
    return out
