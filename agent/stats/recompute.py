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


def read_readings_csv(path: Path) -> Iterator[Reading]:
    """Readings from a CSV with a header: time, device, factor, value, flag [, unit, device_time].

    An empty value is None (nothing read); rows are kept in file order, which is their arrival order.
    """
    with path.open(newline="", encoding="utf-8") as fh:
        rows = csv.DictReader(fh)
        need = {"time", "device", "factor", "value"}
        missing = need - set(rows.fieldnames or ())
        if missing:
            raise ReadingsFileError(f"{path}: header lacks {sorted(missing)} (needs time, device, factor, value, flag)")
        for n, row in enumerate(rows, start=2):
            try:
                value_text = (row.get("value") or "").strip()
                value = float(value_text) if value_text else None
                if value is not None and not math.isfinite(value):
                    value = None
                dt = (row.get("device_time") or "").strip()
                yield Reading(
                    device=row["device"].strip(),
                    factor=row["factor"].strip(),
                    time=parse_time(row["time"]),
                    value=value,
                    unit=(row.get("unit") or "").strip(),
                    flag=(row.get("flag") or "N").strip() or "N",
                    device_time=parse_time(dt) if dt else None,
                )
            except (ValueError, KeyError, AttributeError) as err:
                raise ReadingsFileError(f"{path}:{n}: {err}") from err


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
