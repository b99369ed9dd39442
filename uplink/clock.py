"""Test clock for the uplink: a fast simulated agent clock and its matching timer, for tests and benchmarks.

The agent's production clock is `agent.daemon.clock.AgentClock` (the daemon's, also used by `das uplink test`):
it satisfies `uplink.services.AgentClock` (`now`, `set` for CN 1012 as an offset, never the system clock).

A session needs two views of time: a monotonic clock for timers (OverTime, backoff, heartbeat; a
`drivers.clock.Clock`) and the agent's wall clock for QN and DataTime (`uplink.services.AgentClock`). They are
different objects because both call their reading `now()`. `SimClock` gives both, tied together and running
`speed` times faster than real time, so a simulated week of timers passes in seconds.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from drivers.clock import ScaledClock

__all__ = ["SimClock"]


class SimClock:
    """Agent wall clock starting at `start` and running at `speed`; `timer` is its matching monotonic clock."""

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        self.timer = ScaledClock(speed)
        self._start = start
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.timer.now()) + self._offset

    def set(self, t: datetime) -> None:
        self._offset += t - self.now()

    def jump(self, seconds: float) -> None:
        """Move the wall clock (not the timers) forward, e.g. to put a simulated outage behind us."""
        self._offset += timedelta(seconds=seconds)
