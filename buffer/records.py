"""Statistics records: one row per (outlet, kind, window); the factor groups are one JSON column.

JSON keeps the schema generic: a new HJ 212 suffix (ZsAvg, EFlag, a 2025 field) needs no migration. A stored
recompute bumps `revision` and `updated_at`; the outbox points at the row, so the uplink always sends the
version stored at send time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from agent.model import FactorValues, Record, RecordKind
from buffer._times import from_text, to_text
from buffer.errors import BadValueError, RecordExistsError


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A record with its row id and bookkeeping (for the uplink and audits)."""

    id: int
    revision: int
    created_at: datetime
    updated_at: datetime
    record: Record


def kind_of(value: object) -> RecordKind:
    try:
        return RecordKind(value)
    except ValueError:
        choices = ", ".join(k.value for k in RecordKind)
        raise BadValueError(f"unknown record kind {value!r}; expected one of {choices}") from None


def _check_value(where: str, value: object) -> float | str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if math.isfinite(value):
            return value
        raise BadValueError(f"{where}: {value!r} is not a finite number; store no value rather than NaN/inf")
    raise BadValueError(f"{where}: expected a number or text, got {type(value).__name__} {value!r}")


def encode_factors(record: Record) -> str:
    groups: list[list[Any]] = []
    seen: set[str] = set()
    for group in record.factors:
        if not isinstance(group.factor, str) or not group.factor:
            raise BadValueError(f"record {record.outlet}/{record.kind}: factor code must be non-empty text")
        if group.factor in seen:
            raise BadValueError(f"record {record.outlet}/{record.kind}: factor {group.factor} appears twice")
        seen.add(group.factor)
        values = {
            str(suffix): _check_value(f"{record.outlet}/{record.kind} {group.factor}-{suffix}", v)
            for suffix, v in group.values.items()
        }
        groups.append([group.factor, int(group.count), values])
    return json.dumps(groups, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def encode_extra(extra: Mapping[str, str]) -> str:
    return json.dumps({str(k): str(v) for k, v in extra.items()}, ensure_ascii=False, separators=(",", ":"))


def decode(row: Mapping[str, Any]) -> Record:
    factors = tuple(FactorValues(factor=f, values=v, count=c) for f, c, v in json.loads(row["factors"]))
    return Record(
        outlet=row["outlet"],
        kind=RecordKind(row["kind"]),
        data_time=from_text(row["data_time"]),
        factors=factors,
        extra=json.loads(row["extra"]),
    )


def decode_stored(row: Mapping[str, Any]) -> StoredRecord:
    return StoredRecord(
        id=row["id"],
        revision=row["revision"],
        created_at=from_text(row["created_at"]),
        updated_at=from_text(row["updated_at"]),
        record=decode(row),
    )


@dataclass(frozen=True, slots=True)
class PutResult:
    id: int
    changed: bool  # False when an identical record was already stored


def put(db: Database, record: Record, now: datetime, replace: bool) -> PutResult:
    """Insert, or replace an existing window when `replace`; runs inside the caller's transaction."""
    kind = kind_of(record.kind)
    if not isinstance(record.outlet, str) or not record.outlet:
        raise BadValueError(f"record outlet (MN) must be non-empty text, got {record.outlet!r}")
    data_time = to_text(record.data_time, "record data_time")
    factors = encode_factors(record)
    extra = encode_extra(record.extra)
    stamp = to_text(now, "store clock")
    row = db.conn.execute(
        "SELECT id, factors, extra FROM record WHERE outlet = ? AND kind = ? AND data_time = ?",
        (record.outlet, kind.value, data_time),
    ).fetchone()
    if row is None:
        cursor = db.conn.execute(
            "INSERT INTO record (outlet, kind, data_time, factors, extra, revision, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
            (record.outlet, kind.value, data_time, factors, extra, stamp, stamp),
        )
        return PutResult(id=int(cursor.lastrowid or 0), changed=True)
    record_id, old_factors, old_extra = row
    if not replace:
        raise RecordExistsError(record_id, record.outlet, kind.value, data_time)
    if old_factors == factors and old_extra == extra:
        return PutResult(id=record_id, changed=False)
    db.conn.execute(
        "UPDATE record SET factors = ?, extra = ?, revision = revision + 1, updated_at = ? WHERE id = ?",
        (factors, extra, stamp, record_id),
    )
    return PutResult(id=record_id, changed=True)


_COLUMNS = "id, outlet, kind, data_time, factors, extra, revision, created_at, updated_at"


def get(db: Database, record_id: int) -> StoredRecord | None:
    rows = list(db.query(f"SELECT {_COLUMNS} FROM record WHERE id = ?", (record_id,)))
    return decode_stored(rows[0]) if rows else None


def query(db: Database, outlet: str, kind: RecordKind | str, begin: datetime, end: datetime) -> list[StoredRecord]:
    """Records with begin <= data_time < end, oldest first (a history request's BeginTime/EndTime window)."""
    rows = db.query(
        f"SELECT {_COLUMNS} FROM record WHERE outlet = ? AND kind = ? AND data_time >= ? AND data_time < ?"
        " ORDER BY data_time",
        (outlet, kind_of(kind).value, to_text(begin, "begin"), to_text(end, "end")),
    )
    return [decode_stored(row) for row in rows]
