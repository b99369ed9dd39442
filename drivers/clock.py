"""The injectable clock: monotonic seconds and sleep, real or manual (style.md "Time is injected").

Pacing, timeouts, backoff and playback read this clock, never `time.time()`, so tests can drive time by hand
and the agent can give every component the same clock.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "MonotonicClock", "ScaledClock"]


@runtime_checkable
class Clock(Protocol):
    """Monotonic time in seconds, a sleep, and a timeout scope that both follow it."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...

    def timeout(self, seconds: float | None) -> asyncio.Timeout | _ManualTimeout: ...


class MonotonicClock:
    """The real clock: `time.monotonic()`, `asyncio.sleep`, `asyncio.timeout`."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def timeout(self, seconds: float | None) -> asyncio.Timeout:
        """An `async with` scope raising TimeoutError after `seconds` (None: no limit)."""
        return asyncio.timeout(None if seconds is None else max(0.0, seconds))


class ScaledClock:
    """Monotonic seconds running `speed` times faster than real time, sleeps and timeouts scaled alike: the
    agent clock's timer in a simulation or demo (`agent.daemon.clock`) and the uplink's test clock
    (`uplink.clock.SimClock`), so a simulated week of schedules passes in seconds."""

    def __init__(self, speed: float = 1.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.speed = speed
        self._monotonic = monotonic
        self._t0 = monotonic()

    def now(self) -> float:
        return (self._monotonic() - self._t0) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)

    def timeout(self, seconds: float | None) -> asyncio.Timeout:
        return asyncio.timeout(None if seconds is None else max(0.0, seconds) / self.speed)


class _ManualTimeout:
    """Async context manager for ManualClock.timeout: expires when the clock is advanced past the deadline."""

    def __init__(self, clock: ManualClock, seconds: float | None) -> None:
        self._clock = clock
        self._seconds = seconds
        self._inner = asyncio.timeout(None)
        self._exited = False

    async def __aenter__(self) -> _ManualTimeout:
        await self._inner.__aenter__()
        if self._seconds is not None:
            self._clock._add_timer(self._clock.now() + max(0.0, self._seconds), self._expire)
        return self

    def _expire(self) -> None:
        if not self._exited and not self._inner.expired():
            self._inner.reschedule(asyncio.get_running_loop().time())

    async def __aexit__(self, *exc: object) -> bool | None:
        self._exited = True
        return await self._inner.__aexit__(*exc)  # type: ignore[arg-type]


class ManualClock:
    """A clock for tests: time moves only when `advance()` (or `run_until`) moves it.

    Sleepers wake in deadline order as time passes them; timeouts expire the same way.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._timers: list[tuple[float, int, object]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def _add_timer(self, deadline: float, callback: object) -> None:
        heapq.heappush(self._timers, (deadline, next(self._seq), callback))

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        self._add_timer(self._now + seconds, wake)
        await future

    def timeout(self, seconds: float | None) -> _ManualTimeout:
        return _ManualTimeout(self, seconds)

    async def advance(self, seconds: float) -> None:
        """Move time forward, firing timers in order and letting woken tasks run at each step."""
        target = self._now + seconds
        while self._timers and self._timers[0][0] <= target:
            deadline, _, callback = heapq.heappop(self._timers)
            self._now = max(self._now, deadline)
            callback()  # type: ignore[operator]
            for _ in range(5):
                await asyncio.sleep(0)
        self._now = target
        for _ in range(5):
            await asyncio.sleep(0)
