"""Recompute records from stored readings: the auditor's and installer's view of how a value was made.

`recompute` drives the same `StatsEngine` the daemon runs, with the readings in arrival order and the clock at
each reading's own time (readings are stamped by the agent clock), so clock jumps are handled as they were live.
`compute_windows` is the plain functional path (group by window, then aggregate) used to check the engine.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

from agent.model import Reading, Record
from agent.stats.aggregate import BatchCarry, day_record, hour_record, update_carry
from agent.stats.engine import StatsEngine, StatsOutput
from agent.stats.minute import minute_record
from agent.stats.params import OutletKind, OutletParams
from agent.stats.samples import batch_measurements
from agent.stats.windows import day_start, hour_window, minute_window


class ReadingsFileError(ValueError):
    """A readings CSV that cannot be read; the message names the file, line and column."""


def parse_time(text: str) -> datetime:
    """`YYYYMMDDhhmmss` (HJ 212) or ISO 8601 (`2024-05-01 10:00:05`, `2024-05-01T10:00:05`)."""
    text = text.strip()
    if len(text) == 14 and text.isdigit():
        return datetime.strptime(text, "%Y%m%d%H%M%S")
    return datetime.fromisoformat(text)


_COLUMNS = ("time", "device", "factor", "value", "flag", "unit", "device_time")
_NEEDED = ("time", "device", "factor", "value")


def read_readings_csv(path: Path) -> Iterator[Reading]:
    """Readings from a CSV with a header: time, device, factor, value, flag [, unit, device_time].

    An empty value is None (nothing read); rows are kept in file order, which is their arrival order. A cell that
    cannot be read stops the file with a `ReadingsFileError` naming file, line and column, in Chinese and English:
    an installer checking a value must not get Python's own words ("could not convert string to float").
    """
    with path.open(newline="", encoding="utf-8") as fh:
        rows = csv.DictReader(fh)
        header = list(rows.fieldnames or ())
        missing = [c for c in _NEEDED if c not in header]
        if missing:
            raise ReadingsFileError(
                f"{path}: 表头缺少 / header lacks the column {', '.join(missing)} "
                f"(需要 / needs {', '.join(_NEEDED)}, flag; 可选 / optional unit, device_time)"
            )
        position = {name: header.index(name) + 1 for name in _COLUMNS if name in header}
        for n, row in enumerate(rows, start=2):
            yield _CsvRow(path, n, row, position).reading()


class _CsvRow:
    """One data row of a readings CSV; every error names the file, line and column."""

    def __init__(self, path: Path, line: int, row: dict[str, str | None], position: dict[str, int]) -> None:
        self.path, self.line, self.row, self.position = path, line, row, position

    def fail(self, column: str, why: str) -> ReadingsFileError:
        i = self.position[column]
        return ReadingsFileError(f"{self.path}:{self.line}: 列 {i} {column} / column {i} ({column}): {why}")

    def cell(self, column: str) -> str:
        return (self.row.get(column) or "").strip()

    def text(self, column: str) -> str:
        value = self.cell(column)
        if not value:
            raise self.fail(column, "为空 / empty")
        return value

    def time(self, column: str) -> datetime:
        value = self.text(column)
        try:
            return parse_time(value)
        except ValueError as err:
            raise self.fail(column, f"时间格式错误 / not a time (YYYYMMDDhhmmss or ISO): {value!r}") from err

    def number(self, column: str) -> float | None:
        value = self.cell(column)
        if not value:
            return None  # nothing was read
        try:
            number = float(value)
        except ValueError as err:
            raise self.fail(column, f"不是数字 / not a number: {value!r}") from err
        return number if math.isfinite(number) else None  # nan/inf is no measurement

    def reading(self) -> Reading:
        return Reading(
            device=self.text("device"),
            factor=self.text("factor"),
            time=self.time("time"),
            value=self.number("value"),
            unit=self.cell("unit"),
            flag=self.cell("flag") or "N",
            device_time=self.time("device_time") if self.cell("device_time") else None,
        )


def recompute(
    readings: Iterable[Reading],
    params: OutletParams,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    close_delay_s: float = 10.0,
) -> StatsOutput:
    """Run the engine over readings in arrival order; `start` defaults to the first reading's hour, `end` to the
    end of the last reading's hour."""
    readings = list(readings)
    if start is None:
        if not readings:
            return StatsOutput()
        start = hour_window(min(r.time for r in readings)).start
    if end is None:
        end = hour_window(max(r.time for r in readings)).end if readings else start
    engine = StatsEngine(params, start=start, close_delay_s=close_delay_s)
    out = StatsOutput()
    for r in readings:
        if r.time >= end:
            continue
        out.extend(engine.advance(r.time))
        engine.add(r)
    out.extend(engine.flush(end))
    return out


def compute_windows(readings: Iterable[Reading], params: OutletParams, start: datetime, end: datetime) -> list[Record]:
    """Minute, hour and day records of [start, end) by grouping readings by window (no arrival order)."""
    step = timedelta(minutes=params.min_interval)
    batch = {f.code for f in params.factors if f.batch and params.kind is OutletKind.WATER}
    seen: dict[str, object] = {}
    by_minute: dict[datetime, list[Reading]] = defaultdict(list)
    for r in sorted(readings, key=lambda r: r.time):
        if not start <= r.time < end or (r.factor in batch and not batch_measurements([r], seen)):
            continue
        by_minute[minute_window(r.time, params.min_interval).start].append(r)
    out: list[Record] = []
    minutes: list[Record] = []
    t = start
    while t + step <= end:
        minutes.append(minute_record(by_minute.get(t, []), t, t + step, params))
        t += step
    out += minutes
    hours: list[Record] = []
    carry: dict[str, BatchCarry] = {}
    by_hour: dict[datetime, list[Record]] = defaultdict(list)
    for m in minutes:
        by_hour[hour_window(m.data_time).start].append(m)
    for h, ms in sorted(by_hour.items()):
        if h >= start and h + timedelta(hours=1) <= end:
            hours.append(hour_record(ms, h, params, carry))
        for m in ms:
            update_carry(carry, m, params)
    out += hours
    by_day: dict[datetime, list[Record]] = defaultdict(list)
    for h in hours:
        by_day[day_start(h.data_time)].append(h)
    for d, hs in sorted(by_day.items()):
        if d >= start and d + timedelta(days=1) <= end:
            out.append(day_record(hs, d, params))
    return out
