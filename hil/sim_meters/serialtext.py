"""A simulated ASCII analyzer on a pty: answers a request line, or streams lines on its own.

Two shapes from devices.md §4, written apart from `drivers.serialtext` (own checksum code) so the driver is tested
against an independent peer:

- `dcon`: request `#AA` (+ optional sum8 checksum as 2 hex chars) + CR, reply `>+08.074+05.794+07.228` (+ checksum)
  + CR; a request for another address or with a bad checksum gets `?AA` + CR, as DCON modules answer.
- `nmea`: streams `$GAS,<so2>,<nox>,<o2>*HH` + CRLF every `period` seconds, HH = XOR of the chars between `$` and `*`
  (or no `*HH` with checksum off).

Values drift around a set point with noise; faults switch at runtime (`sim.faults`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from hil.sim_meters.wire import SerialSim

__all__ = ["TextAnalyzerSim", "TextFaults"]


@dataclass
class TextFaults:
    silent: bool = False
    error_reply: bool = False
    """DCON: answer `?AA` (refused) to a good request."""
    garbage: bool = False
    bad_checksum: bool = False
    stuck: bool = False


def _sum8_hex(text: str) -> str:
    return f"{sum(text.encode('ascii')) % 256:02X}"


def _xor8_hex(text: str) -> str:
    x = 0
    for ch in text.encode("ascii"):
        x ^= ch
    return f"{x:02X}"


class TextAnalyzerSim(SerialSim):
    """`shape` is `dcon` (request/response) or `nmea` (streaming)."""

    def __init__(
        self,
        port: str,
        *,
        shape: str = "dcon",
        address: str = "01",
        checksum: bool = False,
        period: float = 0.2,
        set_points: tuple[float, ...] = (8.074, 5.794, 7.228),
        seed: int = 3,
        **kwargs: object,
    ) -> None:
        super().__init__(port, **kwargs)  # type: ignore[arg-type]
        if shape not in ("dcon", "nmea"):
            raise ValueError(f"shape {shape!r}: dcon or nmea")
        self.shape = shape
        self.address = address
        self.checksum = checksum
        self.period = period
        self.set_points = set_points
        self.faults = TextFaults()
        self.lines_sent = 0
        self._rng = random.Random(seed)
        self._values: tuple[float, ...] = set_points
        self._buf = bytearray()

    def values(self) -> tuple[float, ...]:
        """The next reading (kept when `stuck`): set point ± 1 % noise."""
        if not self.faults.stuck:
            self._values = tuple(v * (1 + self._rng.gauss(0, 0.01)) for v in self.set_points)
        return self._values

    def _line(self) -> bytes:
        vals = self.values()
        if self.shape == "dcon":
            body = ">" + "".join(f"{v:+07.3f}" for v in vals)
            check = _sum8_hex(body) if self.checksum else ""
            if check and self.faults.bad_checksum:
                check = f"{(int(check, 16) + 1) % 256:02X}"
            return (body + check + "\r").encode("ascii")
        body = "GAS," + ",".join(f"{v:.2f}" for v in vals)
        tail = ""
        if self.checksum:
            check = _xor8_hex(body)
            if self.faults.bad_checksum:
                check = f"{(int(check, 16) ^ 0x01):02X}"
            tail = "*" + check
        return ("$" + body + tail + "\r\n").encode("ascii")

    def _garbage(self) -> bytes:
        return bytes(self._rng.randrange(0x80, 0x100) for _ in range(12))

    async def feed(self, data: bytes) -> None:
        if self.shape != "dcon":
            return  # a streaming analyzer ignores what it is sent
        self._buf += data
        while (end := self._buf.find(b"\r")) >= 0:
            request = bytes(self._buf[:end]).decode("ascii", errors="replace")
            del self._buf[: end + 1]
            self.requests += 1
            done = self.request_done(end + 1)
            reply = self._answer(request)
            if reply is not None:
                await self.send(reply, not_before=done)

    def _answer(self, request: str) -> bytes | None:
        f = self.faults
        if f.silent:
            return None
        if f.garbage:
            return self._garbage()
        want = "#" + self.address
        if self.checksum:
            ok = len(request) == len(want) + 2 and request[:-2] == want and request[-2:].upper() == _sum8_hex(want)
        else:
            ok = request == want
        if not ok or f.error_reply:
            body = "?" + self.address
            return (body + (_sum8_hex(body) if self.checksum else "") + "\r").encode("ascii")
        return self._line()

    async def stream(self) -> None:
        if self.shape != "nmea":
            await super().stream()
            return
        while True:
            await self.clock.sleep(self.period)
            if self.faults.silent:
                continue
            line = self._garbage() if self.faults.garbage else self._line()
            await self.send(line)
            self.lines_sent += 1
