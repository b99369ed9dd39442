"""Alarms and self-checks as pure detectors: they turn records and readings into `Alarm`s with start, end, detail.

An alarm is identified by (kind, outlet, factor, device, start). A detector first emits an alarm with `end=None`
while it is active and later the same identity with its end; whoever stores alarms keeps the latest per identity
(`final` does exactly that for a list).

Self-checks of regs.md §8 (platform categories 数据异常/超标/缺失) and §1 (clock), §9 (用电 linkage).

Thresholds are settings (`AlarmSettings`): no national duration for 恒值/零值 was found (regs.md §8). The checks never
change data; they only report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from agent.model import Alarm, Reading, Record
from agent.stats.flags import is_valid_flag
from agent.stats.outputs import Method, outputs
from agent.stats.params import OutletParams

# Kind names (stable: stored and queried by them).
KINDS = {
    "over_limit": "小时折算均值超标 / converted hour mean over the limit",
    "zero": "小时零值 / hour value zero",
    "negative": "小时负值 / hour value negative",
    "constant": "恒值 / constant values",
    "over_range": "超量程 / over the measuring range",
    "missing": "小时数据缺失 / hour missing",
    "incomplete": "小时数据不完整 / hour incomplete",
    "comm_lost": "通讯中断 / device communication lost",
    "treatment_stopped": "治理设施停运 / treatment facility stopped while production runs",
    "clock_drift": "时钟偏差 / DAS clock drift",
    "disk_budget": "存储空间达到上限 / disk budget reached (raised by the store)",
}


def identity(a: Alarm) -> tuple[str, str | None, str | None, str | None, datetime]:
    return (a.kind, a.outlet, a.factor, a.device, a.start)


def final(alarms: Iterable[Alarm]) -> list[Alarm]:
    """The latest state per alarm identity, in order of first appearance."""
    latest: dict[tuple[str, str | None, str | None, str | None, datetime], Alarm] = {}
    for a in alarms:
        latest[identity(a)] = a
    return list(latest.values())


class RunTracker:
    """A condition checked step by step becomes one alarm per run of ≥ `min_steps` consecutive true steps."""

    def __init__(
        self,
        kind: str,
        *,
        outlet: str | None = None,
        factor: str | None = None,
        device: str | None = None,
        min_steps: int = 1,
        level: str = "warning",
    ) -> None:
        self.kind, self.outlet, self.factor, self.device = kind, outlet, factor, device
        self.min_steps, self.level = min_steps, level
        self._start: datetime | None = None
        self._end: datetime | None = None
        self._count = 0
        self._open: Alarm | None = None

    def step(self, active: bool, start: datetime, end: datetime, detail: str = "") -> Alarm | None:
        if active:
            if self._start is None:
                self._start, self._count = start, 0
            self._count += 1
            self._end = end
            if self._open is None and self._count >= self.min_steps:
                self._open = Alarm(
                    self.kind, self._start, detail, self.outlet, self.factor, self.device, None, self.level
                )
                return self._open
            return None
        return self.stop()

    def stop(self) -> Alarm | None:
        """End the current run (at the end of its last true step)."""
        closed = replace(self._open, end=self._end) if self._open is not None else None
        self._start = self._end = self._open = None
        self._count = 0
        return closed


def _num(values: dict[str, float | str], key: str) -> float | None:
    v = values.get(key)
    return v if isinstance(v, float | int) and not isinstance(v, bool) else None


def shown(value: float, places: int) -> float:
    """The value as the platform receives it: rounded to the factor's decimals the way the HJ 212 text is written
    (`uplink.hj212` formats `Decimal(str(value))`, half to even). The platform judges that number, so a check that
    compared the unrounded mean would report 180.00 as over a limit of 180 (raw 180.004)."""
    return float(f"{Decimal(str(value)):.{places}f}")


class ConstantWatch:
    """恒值: `count` consecutive records with flag N and the same value at the factor's decimals."""

    def __init__(self, params: OutletParams, count: int) -> None:
        self.params = params
        self.count = count
        self._state: dict[str, tuple[float, datetime, int, Alarm | None]] = {}

    def feed(self, record: Record) -> list[Alarm]:
        if self.count <= 0:
            return []
        out: list[Alarm] = []
        watched = {o.code: o for o in outputs(self.params) if o.method is not Method.BATCH}
        for g in record.factors:
            o = watched.get(g.factor)
            if o is None:
                continue
            avg = _num(g.values, "Avg")
            value = shown(avg, o.decimals) if avg is not None and g.values.get("Flag") == "N" else None
            prev = self._state.get(g.factor)
            if prev is not None and value is not None and value == prev[0]:
                _, start, n, alarm = prev
                n += 1
                if alarm is None and n >= self.count:
                    detail = _constant_detail(g.factor, value, n)
                    alarm = Alarm("constant", start, detail, self.params.outlet, g.factor)
                    out.append(alarm)
                self._state[g.factor] = (value, start, n, alarm)
                continue
            if prev is not None and prev[3] is not None:
                out.append(replace(prev[3], end=record.data_time))
            if value is None:
                self._state.pop(g.factor, None)
            else:
                self._state[g.factor] = (value, record.data_time, 1, None)
                if self.count == 1:
                    detail = _constant_detail(g.factor, value, 1)
                    alarm = Alarm("constant", record.data_time, detail, self.params.outlet, g.factor)
                    self._state[g.factor] = (value, record.data_time, 1, alarm)
                    out.append(alarm)
        return out


def _constant_detail(factor: str, value: float, n: int) -> str:
    return f"{KINDS['constant']}: {factor} = {value} 连续 {n} 条记录 / for {n} records"


# over_limit on a factor without Zs compares the plain hour mean.
_OVER_LIMIT_AVG = "小时均值超标 / hour mean over the limit"


class HourChecks:
    """Per hour record: over_limit, zero, negative, over_range per factor; missing/incomplete per outlet;
    constant per factor (hour level unless `constant_level = "minute"`)."""

    def __init__(self, params: OutletParams) -> None:
        self.params = params
        self._trackers: dict[tuple[str, str | None], RunTracker] = {}
        s = params.alarms
        self.constant = ConstantWatch(params, s.constant_count)

    def _tracker(self, kind: str, factor: str | None) -> RunTracker:
        key = (kind, factor)
        if key not in self._trackers:
            self._trackers[key] = RunTracker(kind, outlet=self.params.outlet, factor=factor)
        return self._trackers[key]

    def feed(self, hour: Record) -> list[Alarm]:
        out: list[Alarm] = []
        start, end = hour.data_time, hour.data_time + timedelta(hours=1)

        def step(kind: str, factor: str | None, active: bool, detail: str) -> None:
            a = self._tracker(kind, factor).step(active, start, end, detail)
            if a is not None:
                out.append(a)

        groups = {g.factor: g for g in hour.factors}
        without: list[str] = []
        for o in outputs(self.params):
            g = groups.get(o.code)
            values = g.values if g is not None else {}
            avg = _num(values, "Avg")
            flag = values.get("Flag")
            if avg is None:
                without.append(o.code)
            valid = avg is not None and is_valid_flag(flag)
            # Every comparison is on the reported value (the factor's decimals), never the unrounded mean.
            avg_shown = shown(avg, o.decimals) if avg is not None else None
            zs = _num(values, "ZsAvg")
            suffix, compared = ("ZsAvg", shown(zs, o.decimals)) if zs is not None else ("Avg", avg_shown)
            over = valid and o.limit is not None and compared is not None and compared > o.limit
            text = f"{compared:.{o.decimals}f}" if compared is not None else "-"
            name = KINDS["over_limit"] if suffix == "ZsAvg" else _OVER_LIMIT_AVG
            limit = f"{o.limit:g}" if o.limit is not None else "-"
            step("over_limit", o.code, over, f"{name}: {o.code} {suffix}={text} > {limit}")
            avg_text = f"{avg_shown:.{o.decimals}f}" if avg_shown is not None else "-"
            step("zero", o.code, o.checked and valid and avg_shown == 0, f"{KINDS['zero']}: {o.code} Avg={avg_text}")
            negative = o.checked and valid and avg_shown is not None and avg_shown < 0
            step("negative", o.code, negative, f"{KINDS['negative']}: {o.code} Avg={avg_text}")
            high = o.range[1] if o.range is not None else None
            over_range = flag == "T" or (high is not None and avg_shown is not None and avg_shown > high)
            span = f"{o.range[0]:g}-{o.range[1]:g}" if o.range is not None else "-"
            detail = f"{KINDS['over_range']}: {o.code} Avg={avg_text} Flag={flag} 量程 / range {span}"
            step("over_range", o.code, over_range, detail)
        total = len(outputs(self.params))
        nothing = f"{KINDS['missing']}: 无任何因子的小时值 / no factor has an hour value"
        step("missing", None, total > 0 and len(without) == total, nothing)
        step(
            "incomplete",
            None,
            0 < len(without) < total,
            f"{KINDS['incomplete']}: {', '.join(without)}",
        )
        if self.params.alarms.constant_level == "hour":
            out += self.constant.feed(hour)
        return out

    def feed_minute(self, minute: Record) -> list[Alarm]:
        if self.params.alarms.constant_level != "minute":
            return []
        return self.constant.feed(minute)


def detect_hour_alarms(hours: Sequence[Record], params: OutletParams, minutes: Sequence[Record] = ()) -> list[Alarm]:
    """All hour self-checks over a run of hour records, in their final state (the engine emits the same)."""
    checks = HourChecks(params)
    out: list[Alarm] = []
    for m in sorted(minutes, key=lambda r: r.data_time):
        out += checks.feed_minute(m)
    for h in sorted(hours, key=lambda r: r.data_time):
        out += checks.feed(h)
    return final(out)


class CommWatch:
    """Device communication lost: readings flagged B (the driver's mark for no/garbled reply, devices.md §3), or no
    reading at all for `comm_timeout_s`. The alarm starts at the first B reading (or the last contact) and ends at
    the next good reading."""

    def __init__(self, params: OutletParams) -> None:
        self.params = params
        self.timeout = timedelta(seconds=params.alarms.comm_timeout_s)
        self._last: dict[str, datetime] = {}
        self._open: dict[str, Alarm] = {}

    def reading(self, r: Reading) -> list[Alarm]:
        out: list[Alarm] = []
        last = self._last.get(r.device)
        if r.device not in self._open and last is not None and r.time - last > self.timeout:
            out.append(self._raise(r.device, last, self._silent()))
        self._last[r.device] = max(r.time, last) if last is not None else r.time
        if r.flag == "B":
            if r.device not in self._open:
                out.append(self._raise(r.device, r.time, f"{r.factor} 标记 B / flag B from {r.factor}"))
        elif r.device in self._open:
            out.append(replace(self._open.pop(r.device), end=r.time))
        return out

    def tick(self, now: datetime) -> list[Alarm]:
        out = []
        for device, last in self._last.items():
            if device not in self._open and now - last > self.timeout:
                out.append(self._raise(device, last, self._silent()))
        return out

    def _silent(self) -> str:
        seconds = f"{self.timeout.total_seconds():.0f} s"
        return f"超过 {seconds} 无读数 / no reading for more than {seconds}"

    def _raise(self, device: str, start: datetime, why: str) -> Alarm:
        a = Alarm("comm_lost", start, f"{KINDS['comm_lost']}: {device}: {why}", self.params.outlet, None, device)
        self._open[device] = a
        return a


def detect_comm(readings: Iterable[Reading], params: OutletParams) -> list[Alarm]:
    watch = CommWatch(params)
    out: list[Alarm] = []
    for r in readings:
        out += watch.reading(r)
    return final(out)


def clock_drift(
    das_time: datetime, reference_time: datetime, threshold_s: float, source: str, outlet: str | None = None
) -> Alarm | None:
    """DAS clock against a reference (platform SystemTime of CN 1012/1011, NTP): HJ 477 ≤ ±0.5 ‰, ≤ 30 s to
    Beijing time (regs.md §1). Returns an alarm when the difference exceeds `threshold_s`."""
    drift = (das_time - reference_time).total_seconds()
    if abs(drift) <= threshold_s:
        return None
    detail = f"{KINDS['clock_drift']}: {drift:+.1f} s, 参照 / against {source} (阈值 / threshold {threshold_s:g} s)"
    return Alarm("clock_drift", das_time, detail, outlet, end=das_time)
