"""用电监控: the outlet's ST=44 real-time records (HJ 212-2025 §6, hj212-2025.md) from the meters' readings.

Every `interval_s` (ticks on multiples of it from midnight, like RtdInterval) one CN 2011 record carries each
configured point's latest reading of the interval as `<d-code>-Rtd=…,<d-code>-Flag=…`. A point whose read failed,
or that has no reading in the interval, goes as `Flag=B` without a value: a missing reading is never filled in.
The records are stored like any record (with their outbox targets), so they are backfilled after an outage and a
platform's ST=44 history fetch (2011 with BeginTime/EndTime, uplink/commands/history.py) finds them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from agent.model import FactorValues, Reading, Record, RecordKind
from agent.stats.windows import rtd_tick_after
from uplink.cp_build import power_stream

if TYPE_CHECKING:
    from agent.config.build import PowerPlan

__all__ = ["PowerRecorder"]

_MISSING = "B"  # HJ 212 Flag B: 通讯异常 / no data from the instrument


class PowerRecorder:
    """The ST=44 records of one outlet; fed the committed readings, asked for the records whose tick has passed."""

    def __init__(self, outlet: str, plan: PowerPlan, *, close_delay_s: float = 10.0) -> None:
        """`plan`: agent.config.build.PowerPlan (interval_s, points as (device, code, decimals))."""
        self.outlet = outlet
        self.interval = timedelta(seconds=plan.interval_s)
        self.points = tuple((device, code) for device, code, _ in plan.points)
        self.devices = tuple(dict.fromkeys(device for device, _ in self.points))
        self.close_delay = timedelta(seconds=close_delay_s)
        self._wanted = set(self.points)
        self._buffer: list[Reading] = []
        self._next: datetime | None = None

    def add(self, readings: Iterable[Reading]) -> None:
        for reading in readings:
            if (reading.device, reading.factor) not in self._wanted:
                continue
            if self._next is None:  # ticks start after the first reading: no B for the time before the start
                self._next = rtd_tick_after(reading.time, int(self.interval.total_seconds()))
            if reading.time > self._next - self.interval:
                self._buffer.append(reading)

    def due(self, now: datetime) -> list[Record]:
        """Records of the ticks that are `close_delay` behind `now` (readings in flight have arrived)."""
        out: list[Record] = []
        while self._next is not None and self._next + self.close_delay <= now:
            tick = self._next
            inside = [r for r in self._buffer if tick - self.interval < r.time <= tick]
            self._buffer = [r for r in self._buffer if r.time > tick]
            out.append(self._record(inside, tick))
            self._next = tick + self.interval
        return out

    def _record(self, readings: list[Reading], tick: datetime) -> Record:
        latest: dict[tuple[str, str], Reading] = {}
        for r in readings:
            key = (r.device, r.factor)
            if key not in latest or r.time >= latest[key].time:
                latest[key] = r
        groups = []
        for key in self.points:
            r = latest.get(key)
            if r is None or r.value is None:
                groups.append(FactorValues(key[1], {"Flag": r.flag if r is not None else _MISSING}, 0))
            else:
                groups.append(FactorValues(key[1], {"Rtd": r.value, "Flag": r.flag}, 1))
        # Stored under the outlet's power stream: the outlet's own 2011 record may have the same DataTime.
        return Record(power_stream(self.outlet), RecordKind.RTD, tick, tuple(groups))
