"""A real pty pair made by socat (`socat -d -d pty,raw,echo=0,link=A pty,raw,echo=0,link=B`).

The driver opens one link, the RTU simulator the other. Killing the pair and making it again emulates a USB
RS-485 adapter unplugged and plugged back in.

A simulator serves its end with `serve_reopening` (open, serve, and open again when the pty comes back, like a
power-cycled device) and reads it through `read_queue`; the Modbus RTU server and the serial meters and text
analyzers share both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import serial

__all__ = ["SocatPair", "read_queue", "serve_reopening"]

log = logging.getLogger(__name__)


class SocatPair:
    def __init__(self, a: Path | str, b: Path | str, *, socat: str | None = None) -> None:
        self.a = str(a)
        self.b = str(b)
        self.socat = socat or shutil.which("socat") or "socat"
        self._proc: asyncio.subprocess.Process | None = None

    async def start(self, timeout: float = 5.0) -> SocatPair:
        for link in (self.a, self.b):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(link)
        self._proc = await asyncio.create_subprocess_exec(
            self.socat,
            "-d",
            "-d",
            f"pty,raw,echo=0,link={self.a}",
            f"pty,raw,echo=0,link={self.b}",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        async with asyncio.timeout(timeout):
            while not (os.path.exists(self.a) and os.path.exists(self.b)):
                if self._proc.returncode is not None:
                    raise RuntimeError(f"socat exited with {self._proc.returncode}")
                await asyncio.sleep(0.01)
        return self

    async def kill(self) -> None:
        """Kill socat: both ptys vanish, open ends see a hang-up."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()
        for link in (self.a, self.b):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(link)

    async def __aenter__(self) -> SocatPair:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.kill()


async def serve_reopening(
    path: str,
    baudrate: int,
    serve: Callable[[serial.Serial], Awaitable[None]],
    *,
    name: str,
    closed: Callable[[], None] | None = None,
) -> None:
    """Open `path` and run `serve(port)` until the port fails, then close it (`closed` is told first) and open it
    again, forever: the pty disappears when socat is killed and comes back when it is made again."""
    while True:
        try:
            port = serial.Serial(path, baudrate=baudrate, timeout=0)
        except (serial.SerialException, OSError):
            await asyncio.sleep(0.05)
            continue
        try:
            await serve(port)
        except (serial.SerialException, OSError) as err:
            log.debug("%s lost its port: %s", name, err)
        finally:
            if closed is not None:
                closed()
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(port.fileno())
            with contextlib.suppress(Exception):
                port.close()
        await asyncio.sleep(0.05)


def read_queue(port: serial.Serial, on_bytes: Callable[[], None] | None = None) -> asyncio.Queue[bytes | BaseException]:
    """What arrives on `port`, queued as the event loop sees it readable; a hang-up (a read of nothing) or a read
    error is queued as the exception and reading stops. `on_bytes` runs when bytes arrive, before they are queued
    (to stamp when a request began on the wire)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | BaseException] = asyncio.Queue()

    def readable() -> None:
        try:
            data = port.read(max(1, port.in_waiting))
            if not data:
                raise serial.SerialException("pty closed")
        except (serial.SerialException, OSError) as err:
            loop.remove_reader(port.fileno())
            queue.put_nowait(err)
            return
        if on_bytes is not None:
            on_bytes()
        queue.put_nowait(data)

    loop.add_reader(port.fileno(), readable)
    return queue
