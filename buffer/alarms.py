"""Alarms and self-check findings: opened with a start, closed with an end, queried active or by range."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from agent.model import Alarm
from buffer._times import from_text, opt_from_text, opt_to_text, to_text
from buffer.errors import BadValueError, UnknownItemError


@dataclass(frozen=True, slots=True)
class StoredAlarm:
    id: int
    alarm: Alarm


def _decode(row: Mapping[str, Any]) -> StoredAlarm:
    return StoredAlarm(
        id=row["id"],
        alarm=Alarm(
            kind=row["kind"],
            start=from_text(row["start_time"]),
            detail=row["detail"],
            outlet=row["outlet"],
            factor=row["factor"],
            device=row["device"],
            end=opt_from_text(row["end_time"]),
            level=row["level"],
        ),
    )


def open_(db: Database, alarm: Alarm) -> int:
    if not alarm.kind:
        raise BadValueError("alarm kind must be non-empty text")
    if alarm.end is not None and alarm.end < alarm.start:
        raise BadValueError(f"alarm {alarm.kind}: end {alarm.end} is before start {alarm.start}")
    cursor = db.conn.execute(
        "INSERT INTO alarm (kind, level, outlet, factor, device, start_time, end_time, detail)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            alarm.kind,
            alarm.level,
            alarm.outlet,
            alarm.factor,
            alarm.device,
            to_text(alarm.start, "alarm start"),
            opt_to_text(alarm.end, "alarm end"),
            alarm.detail,
        ),
    )
    return int(cursor.lastrowid or 0)


def close(db: Database, alarm_id: int, end: datetime, detail: str | None = None) -> None:
    row = db.conn.execute("SELECT start_time, end_time FROM alarm WHERE id = ?", (alarm_id,)).fetchone()
    if row is None:
        raise UnknownItemError(f"no alarm with id {alarm_id}")
    if row[1] is not None:
        return  # closing twice is harmless: the first end stands
    if end < from_text(row[0]):
        raise BadValueError(f"alarm {alarm_id}: end {end} is before its start {row[0]}")
    db.conn.execute(
        "UPDATE alarm SET end_time = ?, detail = coalesce(?, detail) WHERE id = ?",
        (to_text(end, "alarm end"), detail, alarm_id),
    )


_COLUMNS = "id, kind, level, outlet, factor, device, start_time, end_time, detail"


def get(db: Database, alarm_id: int) -> StoredAlarm | None:
    rows = list(db.query(f"SELECT {_COLUMNS} FROM alarm WHERE id = ?", (alarm_id,)))
    return _decode(rows[0]) if rows else None


def active(
    db: Database,
    kind: str | None = None,
    outlet: str | None = None,
    factor: str | None = None,
    device: str | None = None,
) -> list[StoredAlarm]:
    """Alarms without an end; each given filter must match exactly."""
    where = ["end_time IS NULL"]
    params: list[Any] = []
    for column, value in (("kind", kind), ("outlet", outlet), ("factor", factor), ("device", device)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    sql = f"SELECT {_COLUMNS} FROM alarm WHERE {' AND '.join(where)} ORDER BY start_time, id"
    return [_decode(row) for row in db.query(sql, params)]


def in_range(db: Database, begin: datetime, end: datetime, kind: str | None = None) -> list[StoredAlarm]:
    """Alarms active at any moment of [begin, end): started before end and not ended before begin."""
    sql = (
        f"SELECT {_COLUMNS} FROM alarm WHERE start_time < ? AND (end_time IS NULL OR end_time >= ?)"
        + (" AND kind = ?" if kind is not None else "")
        + " ORDER BY start_time, id"
    )
    params: list[Any] = [to_text(end, "end"), to_text(begin, "begin")]
    if kind is not None:
        params.append(kind)
    return [_decode(row) for row in db.query(sql, params)]
