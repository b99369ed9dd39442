"""The watchdog's `alive()` check: has the agent's work moved lately (docs/operations.md, "The service").

A stuck event loop stops the WATCHDOG=1 pings by itself; this catches the other failure, a loop that runs while
its work has stopped (every poll loop and statistics tick blocked on something that never comes back). Progress
is a fingerprint of counters that move when a poll completes or a statistics tick stores a record; the agent is
alive while the fingerprint changed within `limit_s` real seconds, or while a site is still starting (before its
first poll cycle, for at most `start_grace_s`). Real seconds: the limit is N poll intervals of the agent clock
divided by its speed, and a platform's 1012 moving the agent clock must not make the agent look dead.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from drivers.clock import Clock, MonotonicClock

__all__ = ["Liveness", "site_progress"]


class Liveness:
    def __init__(
        self,
        progress: Callable[[], Hashable],
        limit_s: Callable[[], float],
        *,
        starting: Callable[[], bool] = lambda: False,
        start_grace_s: float = 120.0,
        clock: Clock | None = None,
    ) -> None:
        self._progress = progress
        self._limit_s = limit_s
        self._starting = starting
        self.start_grace_s = start_grace_s
        self._clock = clock or MonotonicClock()
        self._last: Hashable = object()
        self._moved_at = self._clock.now()
        self._start_seen: float | None = None

    def __call__(self) -> bool:
        now = self._clock.now()
        mark = self._progress()
        if mark != self._last:
            self._last, self._moved_at = mark, now
        if self._starting():
            # TimeoutStartSec (120 s) bounds the first start; a reloaded site's start is bounded here.
            self._start_seen = now if self._start_seen is None else self._start_seen
            if now - self._start_seen <= self.start_grace_s:
                return True
        else:
            self._start_seen = None
        return now - self._moved_at <= self._limit_s()


def site_progress(site: object | None) -> Hashable:
    """(which site, polls completed, records stored): moves with every poll and every real-time window closed."""
    if site is None:
        return None
    acquisition = getattr(site, "acquisition", None)
    polls = sum(s.polls for s in acquisition.state.values()) if acquisition is not None else 0
    records = sum(p.records_stored for p in getattr(site, "pipelines", {}).values())
    return id(site), polls, records
