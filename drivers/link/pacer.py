"""Silence between frames on a shared link (Modbus RTU t3.5, slow analyzers, serial servers).

Gaps count from the end of the previous exchange on the link (the last reply byte or the timeout), the moment
the bus went quiet. The owner's lock serializes callers; the pacer only keeps time, on the injected clock.
"""

from __future__ import annotations

from drivers.clock import Clock

__all__ = ["Pacer"]


class Pacer:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._last_end: float | None = None

    async def wait(self, gap: float) -> None:
        """Sleep until `gap` seconds of silence have passed since the last exchange (free when gap is 0)."""
        if self._last_end is None or gap <= 0:
            return
        remaining = self._last_end + gap - self._clock.now()
        if remaining > 0:
            await self._clock.sleep(remaining)

    def mark_end(self) -> None:
        self._last_end = self._clock.now()
