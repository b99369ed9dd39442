"""The platform's clock: monotonic time for timers, wall time for QN, SystemTime and the record.

Injected so that tests and scenarios can run the platform against a controlled clock (style: time is injected).
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """What the platform needs from time: `now()` for timers, `sleep()` to wait, `wall()` for timestamps."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...

    def wall(self) -> datetime: ...


class SystemClock:
    """The real clock: `time.monotonic`, `asyncio.sleep` and the local wall time (HJ 212 times have no zone)."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def wall(self) -> datetime:
        return datetime.now()
