"""A real pty pair made by socat (`socat -d -d pty,raw,echo=0,link=A pty,raw,echo=0,link=B`).

The driver opens one link, the RTU simulator the other. Killing the pair and making it again emulates a USB
RS-485 adapter unplugged and plugged back in.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from pathlib import Path

__all__ = ["SocatPair"]


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
