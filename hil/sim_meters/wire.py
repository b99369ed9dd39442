"""A simulated serial device on the far end of a pty pair, with the timing of a real wire.

A reply is written no earlier than the request's bytes and its own bytes would take at the configured line
speed (2400 8E1 is 11 bits per byte: 4.6 ms a byte), plus the device's turnaround, and it is written in small
chunks at that rate, so the driver sees a frame arrive piecewise as it does from a real RS-485 adapter.
The port is reopened if the pty disappears (socat killed and recreated), like a power-cycled device.
"""

from __future__ import annotations

import asyncio
import contextlib

import serial

from drivers.clock import Clock, MonotonicClock
from hil.sim.pty import read_queue, serve_reopening

__all__ = ["SerialSim"]

CHUNK = 4  # bytes written at a time; a real UART FIFO hands the reader a few bytes per interrupt


class SerialSim:
    """Base: subclasses implement `feed(data)` and call `await self.send(reply)`; `stream()` may push on its own."""

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 2400,
        bits_per_char: int = 11,
        turnaround: float = 0.005,
        clock: Clock | None = None,
    ) -> None:
        self.port = port
        self.baudrate = baudrate
        self.char_time = bits_per_char / baudrate
        self.turnaround = turnaround
        self.clock = clock or MonotonicClock()
        self.requests = 0
        self.replies = 0
        self._serial: serial.Serial | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._first_byte_at: float | None = None
        self._open = asyncio.Event()

    async def start(self, timeout: float = 5.0) -> SerialSim:
        """Start serving and wait until the port is open: pyserial flushes input on open, so a request written
        before that would be lost."""
        self._tasks.append(asyncio.create_task(self._run(), name=f"{type(self).__name__} {self.port}"))
        async with asyncio.timeout(timeout):
            await self._open.wait()
        return self

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def __aenter__(self) -> SerialSim:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- for subclasses ------------------------------------------------------------------------------------------
    async def feed(self, data: bytes) -> None:
        """Bytes arrived from the master."""
        raise NotImplementedError

    async def stream(self) -> None:
        """Runs while the port is open (a device that sends on its own); the default sends nothing."""
        await asyncio.Event().wait()

    def request_done(self, size: int) -> float:
        """Clock time when a request of `size` bytes, whose first byte has arrived, finished on the wire."""
        first = self._first_byte_at if self._first_byte_at is not None else self.clock.now()
        self._first_byte_at = None
        return first + size * self.char_time

    async def send(self, data: bytes, *, not_before: float | None = None) -> None:
        """Write `data` at wire speed, starting a turnaround after `not_before` (default: now)."""
        port = self._serial
        if port is None or not data:
            return
        begin = (self.clock.now() if not_before is None else not_before) + self.turnaround
        for k in range(0, len(data), CHUNK):
            chunk = data[k : k + CHUNK]
            due = begin + (k + len(chunk)) * self.char_time
            await self.clock.sleep(due - self.clock.now())
            port.write(chunk)
        self.replies += 1

    # -- port handling -------------------------------------------------------------------------------------------
    async def _run(self) -> None:
        await serve_reopening(self.port, self.baudrate, self._serve, name=type(self).__name__, closed=self._closed)

    def _closed(self) -> None:
        self._serial = None
        self._open.clear()

    def _first_byte(self) -> None:
        if self._first_byte_at is None:
            self._first_byte_at = self.clock.now()

    async def _serve(self, port: serial.Serial) -> None:
        self._serial = port
        queue = read_queue(port, self._first_byte)
        self._open.set()
        streamer = asyncio.create_task(self.stream(), name=f"{type(self).__name__} stream")
        try:
            while True:
                item = await queue.get()
                if isinstance(item, BaseException):
                    raise item
                await self.feed(item)
        finally:
            streamer.cancel()
            with contextlib.suppress(asyncio.CancelledError, serial.SerialException, OSError):
                await streamer
