"""The agent clock: the one wall clock every schedule of the daemon reads (polls, windows, DataTime, QN).

Times are naive site-local datetimes (HJ 212 DataTime has no zone). A platform's CN 1012 moves the agent clock
by an offset (`set`) and never the system clock: other software on the box, logs and the file system keep the
real time, and a bad 1012 is undone by a restart.

For tests and demos the clock runs `speed` times faster than real time from `start`. `anchor` is the real Unix
time at which the clock reads `start`: a restarted agent given the same start and anchor continues the same
simulated timeline (the end-to-end test kills and restarts the agent inside one simulated day), and simulators
in another process can follow the same mapping.

Physical timing (a Modbus reply timeout, TCP connect, OverTime) stays in real seconds: wire time does not speed
up with a simulation. `timer` is the agent-time monotonic view (a `drivers.clock.ScaledClock` when accelerated) for
things that are schedules; `real_timer` is the plain monotonic clock for I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from drivers.clock import Clock, MonotonicClock, ScaledClock

__all__ = ["AgentClock", "ClockStep", "parse_clock_start"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ClockStep:
    """The agent clock was set: what it read before (`old`) and the time it was set to (`new`), by whom.

    `old - new` is the DAS clock's drift against the reference that set it (a platform's 1012 SystemTime)."""

    old: datetime
    new: datetime
    source: str
    outlet: str | None = None


class AgentClock:
    """Site wall time for the daemon; satisfies `uplink.services.AgentClock` (`now`, `set`)."""

    def __init__(
        self,
        *,
        speed: float = 1.0,
        start: datetime | None = None,
        anchor: float | None = None,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"clock speed must be > 0, got {speed}")
        if start is not None and start.tzinfo is not None:
            raise ValueError("clock start must be a naive site-local time (HJ 212 times have no zone)")
        self.speed = float(speed)
        self._wall = wall
        self._simulated = speed != 1.0 or start is not None
        self._anchor = wall() if anchor is None else anchor
        self._start = start if start is not None else datetime.fromtimestamp(self._anchor)
        self._offset = timedelta(0)
        self._changed = asyncio.Event()
        self._listeners: list[Callable[[ClockStep], None]] = []
        self.timer: Clock = ScaledClock(self.speed, monotonic) if self.speed != 1.0 else MonotonicClock()
        self.real_timer: Clock = MonotonicClock()

    @property
    def simulated(self) -> bool:
        """True when the clock does not follow the system clock (accelerated, or started at a given time)."""
        return self._simulated

    @property
    def anchor(self) -> float:
        return self._anchor

    @property
    def start(self) -> datetime:
        return self._start

    @property
    def offset(self) -> timedelta:
        """What `set` (CN 1012) has added to the base time so far."""
        return self._offset

    def _base(self) -> datetime:
        if not self._simulated:
            return datetime.fromtimestamp(self._wall())
        return self._start + timedelta(seconds=(self._wall() - self._anchor) * self.speed)

    def now(self) -> datetime:
        return self._base() + self._offset

    def monotonic(self) -> float:
        """Agent seconds that never jump (for intervals measured on the agent clock)."""
        return self.timer.now()

    def set(self, t: datetime) -> None:
        """Make `now()` read `t` (CN 1012); wakes every `sleep_until` so schedules follow the new time."""
        if t.tzinfo is not None:
            raise ValueError("agent clock takes naive site-local times")
        self._offset += t - self.now()
        self._changed.set()
        self._changed = asyncio.Event()

    def set_by(self, t: datetime, *, source: str, outlet: str | None = None) -> None:
        """`set`, then tell the listeners who moved the clock and by how much (the daemon raises clock_drift)."""
        step = ClockStep(self.now(), t, source, outlet)
        self.set(t)
        for listener in list(self._listeners):
            try:
                listener(step)
            except Exception:  # the clock is set; a listener's failure must not undo or fail the 1012
                log.exception("clock listener failed on %s", step)

    def add_listener(self, listener: Callable[[ClockStep], None]) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[ClockStep], None]) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def real_seconds(self, agent_seconds: float) -> float:
        """How long `agent_seconds` of agent time take in real time."""
        return agent_seconds / self.speed

    async def sleep(self, seconds: float) -> None:
        """Sleep `seconds` of agent time."""
        await asyncio.sleep(max(0.0, seconds) / self.speed)

    async def sleep_until(self, t: datetime) -> None:
        """Sleep until the agent clock reads `t` (returns at once if it already does); follows `set`."""
        while True:
            remaining = (t - self.now()).total_seconds()
            if remaining <= 0:
                return
            changed = self._changed
            # Re-read the clock at least once a real minute: the system clock itself may be stepped (NTP).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=min(remaining / self.speed, 60.0))


def parse_clock_start(text: str) -> datetime:
    """`--clock-start`: ISO (`2026-01-05T08:00:00`, `2026-01-05 08:00`) or HJ 212 `YYYYMMDDhhmmss`."""
    text = text.strip()
    if len(text) == 14 and text.isdigit():
        return datetime.strptime(text, "%Y%m%d%H%M%S")
    value = datetime.fromisoformat(text)
    if value.tzinfo is not None:
        raise ValueError(f"{text}: give a site-local time without a zone (HJ 212 times have none)")
    return value
