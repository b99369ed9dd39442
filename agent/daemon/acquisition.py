"""Poll loops: each device is read on its schedule, through its link owner, on the agent clock.

Polls are aligned to multiples of the interval since midnight, so two devices with the same interval are read
at the same moments and a minute gets the nominal number of samples. A poll that overruns the next tick skips
it (counted, not queued: a late sample would only crowd the next window). Each cycle's readings and changed
device info are committed in one transaction, then handed to the outlets that use the device. A 3020 value
(i12xxx state, i13xxx parameter) that differs from the stored history is enqueued as a 3020 upload for the
outlets' platforms in that same transaction (`ReadingConsumer.info_changed`).

A device that does not answer gives flag-B readings (`drivers.reader`), which are stored and counted like any
other: the statistics flag its windows and the engine raises `comm_lost`; the log gets one line when it fails
and one when it is back (`agent.logs.Flood`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from agent.daemon.clock import AgentClock
from agent.logs import Flood, get_logger
from agent.model import Reading
from buffer import Store
from drivers.reader import PointReading, ProfiledDevice

__all__ = ["Acquisition", "DeviceState", "next_tick"]

log = get_logger("acquisition")

InfoValue = float | int | str  # a 3020 value as the store keeps it (buffer.device_info)


def next_tick(now: datetime, interval_s: float) -> datetime:
    """The first multiple of `interval_s` since midnight strictly after `now`."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = (now - midnight).total_seconds()
    return midnight + timedelta(seconds=(math.floor(elapsed / interval_s) + 1) * interval_s)


class ReadingConsumer:
    """What a poll hands its committed readings to (an `OutletPipeline`)."""

    devices: Sequence[str]

    def add(self, readings: Sequence[Reading]) -> None: ...

    def info_changed(self, device: str, info: Mapping[str, InfoValue], t: datetime) -> None:
        """Called inside the poll's transaction with the device's 3020 values that differ from the store's."""


@dataclass(slots=True)
class DeviceState:
    """What the status snapshot and the uplink services know about one device."""

    name: str
    link: str
    interval_s: float
    polls: int = 0
    failures: int = 0
    overruns: int = 0
    last_poll: datetime | None = None
    last_ok: datetime | None = None
    last_error: str | None = None
    points: list[PointReading] = field(default_factory=list)
    info: dict[str, object] = field(default_factory=dict)

    def snapshot(self) -> dict[str, object]:
        return {
            "name": self.name,
            "link": self.link,
            "interval_s": self.interval_s,
            "state": "never polled" if self.last_poll is None else ("failing" if self.last_error else "ok"),
            "polls": self.polls,
            "failures": self.failures,
            "overruns": self.overruns,
            "last_poll": self.last_poll.isoformat(sep=" ") if self.last_poll else None,
            "last_ok": self.last_ok.isoformat(sep=" ") if self.last_ok else None,
            "last_error": self.last_error,
            "values": {
                p.point: {"factor": p.factor, "value": p.value, "unit": p.unit, "flag": p.flag, "note": p.note or None}
                for p in self.points
            },
        }


class Acquisition:
    def __init__(
        self,
        devices: Mapping[str, ProfiledDevice],
        store: Store,
        clock: AgentClock,
        *,
        intervals: Mapping[str, float],
        links: Mapping[str, str] | None = None,
        consumers: Sequence[ReadingConsumer] = (),
        point_codes: Mapping[tuple[str, str], str] | None = None,
        on_first_cycle: Callable[[], None] | None = None,
    ) -> None:
        self.devices = dict(devices)
        self.store = store
        self.clock = clock
        self.consumers = list(consumers)
        self.point_codes = dict(point_codes or {})
        self.state = {
            name: DeviceState(name=name, link=(links or {}).get(name, "?"), interval_s=intervals[name])
            for name in self.devices
        }
        self._on_first_cycle = on_first_cycle
        self._first_done: set[str] = set()
        self._flood = Flood(log)
        self.stopping = False
        self.in_flight: dict[str, datetime] = {}

    def _consumers_of(self, device: str) -> list[ReadingConsumer]:
        return [c for c in self.consumers if device in c.devices]

    async def poll_loop(self, name: str) -> None:
        """Poll `name` on its schedule until `stopping` (run as a supervised task)."""
        interval = self.state[name].interval_s
        due = next_tick(self.clock.now(), interval)
        while not self.stopping:
            await self.clock.sleep_until(due)
            if self.stopping:
                return
            await self.poll_once(name)
            now = self.clock.now()
            due += timedelta(seconds=interval)
            if due <= now:
                skipped = math.floor((now - due).total_seconds() / interval) + 1
                self.state[name].overruns += skipped
                self._flood.fail(
                    f"overrun:{name}",
                    "poll_overrun",
                    "采集跟不上周期, 跳过 / polling cannot keep up, ticks skipped",
                    level=logging.WARNING,
                    device=name,
                    interval_s=interval,
                    skipped=skipped,
                )
                due = next_tick(now, interval)

    async def poll_once(self, name: str) -> list[Reading]:
        """One poll: read, commit readings and changed info in one transaction, then feed the outlets.

        While it runs, its start time is in `in_flight`: its readings carry that time, so the statistics hold
        the windows after it open until they arrive (`oldest_in_flight`) instead of dropping them as late."""
        t = self.clock.now()
        self.in_flight[name] = t
        try:
            return await self._poll(name, t)
        finally:
            self.in_flight.pop(name, None)

    def oldest_in_flight(self, devices: Iterable[str]) -> datetime | None:
        """Start time of the oldest poll of one of `devices` that has not delivered its readings yet."""
        times = [self.in_flight[d] for d in devices if d in self.in_flight]
        return min(times) if times else None

    async def _poll(self, name: str, t: datetime) -> list[Reading]:
        device = self.devices[name]
        state = self.state[name]
        points = await device.read()
        readings = [r for p in points if (r := self._reading(name, p, t)) is not None]
        info = dict(points[0].info) if points else {}
        changed = {k: v for k, v in info.items() if state.info.get(k) != v}
        with self.store.transaction():
            self.store.add_readings(readings)
            # The store compares with the newest stored value, so a restart does not report everything again.
            stored = {
                code: value
                for code, value in changed.items()
                if isinstance(value, int | float | str) and self.store.add_device_info(name, code, value, t) is not None
            }
            if stored:  # 3020 on change (HJ 212-2017 C.40): enqueued in the same transaction as the history
                for consumer in self._consumers_of(name):
                    if hasattr(consumer, "info_changed"):
                        consumer.info_changed(name, stored, t)
        state.info.update(changed)
        state.polls += 1
        state.last_poll = t
        state.points = points
        failed = bool(points) and all(p.flag == "B" for p in points)
        if failed:
            state.failures += 1
            state.last_error = next((p.note for p in points if p.note), "no answer")
            self._flood.fail(
                f"device:{name}",
                "device_failed",
                "设备通讯失败 / device not answering",
                device=name,
                link=state.link,
                error=state.last_error,
            )
        else:
            state.last_ok = t
            state.last_error = None
            self._flood.ok(f"device:{name}", "device_recovered", "设备恢复 / device answering again", device=name)
        for consumer in self._consumers_of(name):
            consumer.add(readings)
        if name not in self._first_done:
            self._first_done.add(name)
            if len(self._first_done) == len(self.devices) and self._on_first_cycle is not None:
                self._on_first_cycle()
        return readings

    def _reading(self, device: str, point: PointReading, t: datetime) -> Reading | None:
        """A point without a factor code of its own (a power meter's P feeding an equipment) is stored under the
        code the site config gives it; other points without a code are read for the status page only."""
        if point.factor is None:
            code = self.point_codes.get((device, point.point))
            if code is None:
                return None
            point = replace(point, factor=code)
        return point.to_reading(t)

    def snapshot(self) -> list[dict[str, object]]:
        return [s.snapshot() for s in self.state.values()]
