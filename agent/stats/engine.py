"""The incremental statistics engine: readings go in as they come, closed windows come out as the clock passes.

It uses the same pure functions as `das recompute` (`minute_record`, `hour_record`, `day_record`, the alarm
detectors), so both give the same records for the same readings.

Clock changes (the platform may set the DAS clock, CN 1012): readings are bucketed by their timestamp; a window is
closed once, when the clock passes its end (+ `close_delay_s` for readings still in flight), and never reopened.
After a backward jump, readings stamped inside an already closed window are dropped and counted (`dropped_late`):
nothing is counted twice. After a forward jump, the skipped windows close without readings and carry the missing
flag: nothing is filled in.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from agent.model import Alarm, Reading, Record
from agent.stats.aggregate import BatchCarry, day_record, hour_record, update_carry
from agent.stats.alarms import CommWatch, HourChecks, RunTracker
from agent.stats.equipment import minute_runtime, runtime_day_record, state_record, treatment_stopped
from agent.stats.minute import minute_record, rtd_record
from agent.stats.params import OutletKind, OutletParams
from agent.stats.samples import batch_measurements
from agent.stats.windows import day_start, hour_window, minute_window, rtd_tick_after


@dataclass(slots=True)
class StatsOutput:
    records: list[Record] = field(default_factory=list)
    alarms: list[Alarm] = field(default_factory=list)

    def extend(self, other: StatsOutput) -> None:
        self.records += other.records
        self.alarms += other.alarms


class StatsEngine:
    """Statistics of one outlet. Call `add` for each reading and `advance(clock.now())` regularly."""

    def __init__(self, params: OutletParams, *, start: datetime | None = None, close_delay_s: float = 10.0) -> None:
        self.params = params
        self.close_delay = timedelta(seconds=close_delay_s)
        self._step = timedelta(minutes=params.min_interval)
        self._codes = {f.code for f in params.factors} | {eq.source for eq in params.equipment}
        self._batch = {f.code for f in params.factors if f.batch and params.kind is OutletKind.WATER}
        self._start: datetime | None = None
        self._next_min: datetime | None = None
        self._next_rtd: datetime | None = None
        self._buf: dict[datetime, list[Reading]] = defaultdict(list)
        self._rtd_buf: list[Reading] = []
        self._minutes: dict[datetime, list[Record]] = defaultdict(list)
        self._hours: dict[datetime, list[Record]] = defaultdict(list)
        self._runtime: dict[datetime, list[dict[str, float | None]]] = defaultdict(list)
        self._carry: dict[str, BatchCarry] = {}
        self._seen_batch: dict[str, object] = {}
        self._checks = HourChecks(params)
        self._comm = CommWatch(params)
        self._linkage = RunTracker(
            "treatment_stopped",
            outlet=params.outlet,
            min_steps=max(1, params.alarms.linkage_minutes // params.min_interval),
        )
        self._pending_alarms: list[Alarm] = []
        self._switch: tuple[datetime, OutletParams] | None = None  # (hour boundary, params from then on)
        self.dropped_late = 0
        self.ignored = 0
        if start is not None:
            self._begin(start)

    @property
    def start(self) -> datetime | None:
        return self._start

    @property
    def min_interval(self) -> int:
        """The MinInterval in force now, or the one scheduled by `change_min_interval`."""
        return (self._switch[1] if self._switch else self.params).min_interval

    def change_min_interval(self, minutes: int, at: datetime) -> datetime:
        """Make minute records of `minutes` from the first hour boundary at or after `at`; returns that boundary.

        MinInterval is one value per system (HJ 212-2017 Table 4, 1064) and an hour record is made of the minute
        records of its hour (`hour_record` expects 60/MinInterval of them), so the change waits for an hour to
        end: no hour mixes two intervals.
        """
        # Validated like the file's value (MinInterval divides an hour); a bad one raises ValueError.
        params = OutletParams.model_validate({**self.params.model_dump(), "min_interval": minutes})
        if self._next_min is not None and self._next_min > at:
            at = self._next_min  # windows already closed keep the interval they were made with
        hour = hour_window(at)
        boundary = hour.start if at == hour.start else hour.end
        self._switch = (boundary, params)
        if self._next_min is not None and self._next_min == boundary:
            self._apply_switch()
        return boundary

    def _apply_switch(self) -> None:
        assert self._switch is not None
        _, params = self._switch
        self._switch = None
        self.params = params
        self._step = timedelta(minutes=params.min_interval)
        self._linkage.min_steps = max(1, params.alarms.linkage_minutes // params.min_interval)
        buffered, self._buf = self._buf, defaultdict(list)  # readings of open windows, bucketed anew
        for readings in buffered.values():
            for reading in readings:
                self._buf[minute_window(reading.time, params.min_interval).start].append(reading)

    def _begin(self, t: datetime) -> None:
        if self._switch is not None and t >= self._switch[0]:
            self._apply_switch()
        self._start = minute_window(t, self.params.min_interval).start
        self._next_min = self._start
        self._next_rtd = rtd_tick_after(self._start, self.params.rtd_interval)

    def add(self, reading: Reading) -> None:
        """Take one reading (stamped by the agent clock)."""
        if reading.factor not in self._codes:
            self.ignored += 1
            return
        if self._start is None:
            self._begin(reading.time)
        self._pending_alarms += self._comm.reading(reading)
        assert self._next_min is not None and self._next_rtd is not None
        if reading.time < self._next_min:
            self.dropped_late += 1
            return
        if reading.time > self._next_rtd - timedelta(seconds=self.params.rtd_interval):
            self._rtd_buf.append(reading)
        if reading.factor in self._batch and not batch_measurements([reading], self._seen_batch):
            return
        self._buf[minute_window(reading.time, self.params.min_interval).start].append(reading)

    def advance(self, now: datetime) -> StatsOutput:
        """Close every window that ended before `now − close_delay_s`; return the new records and alarm updates."""
        if self._start is None:
            self._begin(now)
        out = self._close_until(now - self.close_delay)
        out.alarms = self._comm.tick(now) + out.alarms
        return out

    def flush(self, until: datetime) -> StatsOutput:
        """Close every window ending at or before `until` (end of a recompute range, or shutdown)."""
        if self._start is None:
            self._begin(until)
        return self._close_until(until)

    def _close_until(self, limit: datetime) -> StatsOutput:
        out = StatsOutput(alarms=self._pending_alarms)
        self._pending_alarms = []
        assert self._next_min is not None and self._next_rtd is not None
        p = self.params
        while self._next_rtd <= limit:
            tick = self._next_rtd
            lo = tick - timedelta(seconds=p.rtd_interval)
            snap = [r for r in self._rtd_buf if lo < r.time <= tick]
            self._rtd_buf = [r for r in self._rtd_buf if r.time > tick]
            if p.factors:
                out.records.append(rtd_record(snap, tick, p))
            state = state_record(snap, tick, p) if p.equipment else None
            if state is not None:
                out.records.append(state)
            self._next_rtd = tick + timedelta(seconds=p.rtd_interval)
        while True:
            if self._switch is not None and self._next_min >= self._switch[0]:
                self._apply_switch()
            if self._next_min + self._step > limit:
                break
            self._close_minute(self._next_min, out)
            self._next_min += self._step
        return out

    def _close_minute(self, start: datetime, out: StatsOutput) -> None:
        p = self.params
        end = start + self._step
        readings = self._buf.pop(start, [])
        minute = minute_record(readings, start, end, p)
        out.records.append(minute)
        out.alarms += self._checks.feed_minute(minute)
        hour_start = hour_window(start).start
        self._minutes[hour_start].append(minute)
        if p.equipment:
            runtime = minute_runtime(readings, self._step.total_seconds(), p)
            self._runtime[day_start(start)].append(runtime)
            fractions = {k: (None if v is None else v / self._step.total_seconds()) for k, v in runtime.items()}
            active, detail = treatment_stopped(fractions, p)
            alarm = self._linkage.step(active, start, end, detail)
            if alarm is not None:
                out.alarms.append(alarm)
        if end == hour_window(start).end:
            minutes = self._minutes.pop(hour_start)
            if self._start is not None and hour_start >= self._start:
                hour = hour_record(minutes, hour_start, p, self._carry)
                out.records.append(hour)
                out.alarms += self._checks.feed(hour)
                self._hours[day_start(hour_start)].append(hour)
            if end == day_start(end):
                self._close_day(day_start(start), out)
        update_carry(self._carry, minute, p)

    def _close_day(self, start: datetime, out: StatsOutput) -> None:
        hours = self._hours.pop(start, [])
        runtime = self._runtime.pop(start, [])
        if self._start is None or start < self._start:
            return
        out.records.append(day_record(hours, start, self.params))
        if self.params.equipment:
            out.records.append(runtime_day_record(runtime, start, self.params))
