"""Readings: the raw values drivers deliver, kept so any window can be recomputed (HJ 75 audits).

They are the bulk of the file: 60 points at 1 Hz is 5.2 million rows a day. Each row is therefore compact: the
(device, factor, unit) triple is interned once in `series`, the time is an integer of microseconds, and the
table is WITHOUT ROWID keyed by (series, time), so the key is the only index. Two readings of one series at
the same microsecond are one sample: the first is kept and the duplicate counted, never silently merged.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import datetime

from sqlite_utils import Database

from agent.model import FLAGS, Reading
from buffer._times import from_micros, to_micros
from buffer.errors import BadValueError


class SeriesCache:
    """Maps (device, factor, unit) to its series id; ids never change, so the cache is per connection."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str, str], int] = {}

    def clear(self) -> None:
        self._ids.clear()

    def id_for(self, db: Database, device: str, factor: str, unit: str, create: bool) -> int | None:
        key = (device, factor, unit)
        found = self._ids.get(key)
        if found is not None:
            return found
        row = db.conn.execute(
            "SELECT id FROM series WHERE device = ? AND factor = ? AND unit = ?", (device, factor, unit)
        ).fetchone()
        if row is None:
            if not create:
                return None
            row = (db.conn.execute("INSERT INTO series (device, factor, unit) VALUES (?, ?, ?)", key).lastrowid,)
        self._ids[key] = int(row[0])
        return self._ids[key]


def _row(db: Database, cache: SeriesCache, reading: Reading) -> tuple[int, int, float | None, str, int | None, str]:
    if not reading.device or not reading.factor:
        raise BadValueError(f"reading needs a device and a factor code, got {reading.device!r}/{reading.factor!r}")
    if reading.flag not in FLAGS:
        raise BadValueError(f"reading {reading.device}/{reading.factor}: unknown flag {reading.flag!r}")
    value = reading.value
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadValueError(f"reading {reading.device}/{reading.factor}: value {value!r} is not a number")
        if not math.isfinite(value):
            raise BadValueError(f"reading {reading.device}/{reading.factor}: {value!r} is not finite; use None")
    series = cache.id_for(db, reading.device, reading.factor, reading.unit or "", create=True)
    assert series is not None
    device_t = None if reading.device_time is None else to_micros(reading.device_time, "reading device_time")
    raw = json.dumps(list(reading.raw), separators=(",", ":")) if reading.raw else None
    return (series, to_micros(reading.time, "reading time"), value, reading.flag, device_t, raw)


def add(db: Database, cache: SeriesCache, readings: Iterable[Reading]) -> int:
    """Insert inside the caller's transaction; return how many were new (duplicates are not counted)."""
    rows = [_row(db, cache, r) for r in readings]
    before = db.conn.total_changes
    db.conn.executemany(
        "INSERT OR IGNORE INTO reading (series_id, t, value, flag, device_t, raw) VALUES (?, ?, ?, ?, ?, ?)", rows
    )
    return db.conn.total_changes - before


def query(db: Database, cache: SeriesCache, device: str, factor: str, begin: datetime, end: datetime) -> list[Reading]:
    """Readings of one device and factor with begin <= time < end, in time order (all units)."""
    rows = db.conn.execute(
        "SELECT s.unit, r.t, r.value, r.flag, r.device_t, r.raw FROM series AS s"
        " JOIN reading AS r ON r.series_id = s.id"
        " WHERE s.device = ? AND s.factor = ? AND r.t >= ? AND r.t < ? ORDER BY r.t",
        (device, factor, to_micros(begin, "begin"), to_micros(end, "end")),
    )
    return [
        Reading(
            device=device,
            factor=factor,
            time=from_micros(t),
            value=value,
            unit=unit,
            flag=flag,
            device_time=None if device_t is None else from_micros(device_t),
            raw=tuple(json.loads(raw)) if raw else (),
        )
        for unit, t, value, flag, device_t, raw in rows
    ]
