"""Statistics windows on the agent clock: a window is [start, end) and its record carries `start` (HJ 212 DataTime)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def __contains__(self, t: datetime) -> bool:
        return self.start <= t < self.end


def day_start(t: datetime) -> datetime:
    return t.replace(hour=0, minute=0, second=0, microsecond=0)


def minute_window(t: datetime, min_interval: int) -> Window:
    """The MinInterval window holding `t`; windows are aligned to midnight (60 is a multiple of every MinInterval)."""
    base = t.replace(second=0, microsecond=0)
    start = base.replace(minute=base.minute - base.minute % min_interval)
    return Window(start, start + timedelta(minutes=min_interval))


def hour_window(t: datetime) -> Window:
    start = t.replace(minute=0, second=0, microsecond=0)
    return Window(start, start + timedelta(hours=1))


def day_window(t: datetime) -> Window:
    start = day_start(t)
    return Window(start, start + timedelta(days=1))


def rtd_tick_after(t: datetime, rtd_interval: int) -> datetime:
    """The first real-time tick strictly after `t`; ticks are multiples of RtdInterval seconds from midnight."""
    midnight = day_start(t)
    elapsed = (t - midnight).total_seconds()
    n = int(elapsed // rtd_interval) + 1
    return midnight + timedelta(seconds=n * rtd_interval)


def split(window: Window, step: timedelta) -> list[Window]:
    out: list[Window] = []
    t = window.start
    while t < window.end:
        out.append(Window(t, min(t + step, window.end)))
        t += step
    return out
