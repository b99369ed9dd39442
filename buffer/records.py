"""Statistics records: one row per (outlet, kind, window).

The factor groups are split in two: their layout (factor codes with their suffixes in order, the same for
every minute of an outlet) is interned once in `layout`, and the row keeps only a JSON array of the numbers
and flags. That stays generic (a new HJ 212 suffix such as ZsAvg or EFlag is a new layout, no migration)
and halves the file against a JSON object per row: a year of minute data for 20 factors is one of the
largest things the store keeps. A stored recompute bumps `revision` and `updated_at`; the outbox points at
the row, so the uplink always sends the version stored at send time.
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


Layout = tuple[tuple[str, tuple[str, ...]], ...]


class LayoutCache:
    """Layout spec text <-> id, per connection; cleared when a transaction that may have added one rolls back."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._specs: dict[int, Layout] = {}

    def clear(self) -> None:
        self._ids.clear()
        self._specs.clear()

    def id_for(self, db: Database, spec: str) -> int:
        found = self._ids.get(spec)
        if found is None:
            row = db.conn.execute("SELECT id FROM layout WHERE spec = ?", (spec,)).fetchone()
            found = (
                int(row[0])
                if row
                else int(db.conn.execute("INSERT INTO layout (spec) VALUES (?)", (spec,)).lastrowid or 0)
            )
            self._ids[spec] = found
        return found

    def layout(self, db: Database, layout_id: int) -> Layout:
        found = self._specs.get(layout_id)
        if found is None:
            (spec,) = db.conn.execute("SELECT spec FROM layout WHERE id = ?", (layout_id,)).fetchone()
            found = tuple((factor, tuple(suffixes)) for factor, suffixes in json.loads(spec))
            self._specs[layout_id] = found
        return found


def encode_factors(record: Record) -> tuple[str, str]:
    """Return (layout spec, values): `[[factor, [suffix, ...]], ...]` and `[count, v, v, ..., count, ...]`."""
    spec: list[Any] = []
    vals: list[Any] = []
    seen: set[str] = set()
    for group in record.factors:
        if not isinstance(group.factor, str) or not group.factor:
            raise BadValueError(f"record {record.outlet}/{record.kind}: factor code must be non-empty text")
        if group.factor in seen:
            raise BadValueError(f"record {record.outlet}/{record.kind}: factor {group.factor} appears twice")
        seen.add(group.factor)
        spec.append([group.factor, [str(suffix) for suffix in group.values]])
        vals.append(int(group.count))
        vals.extend(
            _check_value(f"{record.outlet}/{record.kind} {group.factor}-{suffix}", v)
            for suffix, v in group.values.items()
        )
    dump = {"ensure_ascii": False, "separators": (",", ":"), "allow_nan": False}
    return json.dumps(spec, **dump), json.dumps(vals, **dump)  # type: ignore[arg-type]


def encode_extra(extra: Mapping[str, str]) -> str:
    return json.dumps({str(k): str(v) for k, v in extra.items()}, ensure_ascii=False, separators=(",", ":"))


def decode(row: Mapping[str, Any], layout: Layout) -> Record:
    vals = iter(json.loads(row["vals"]))
    factors = []
    for factor, suffixes in layout:
        count = next(vals)
        factors.append(FactorValues(factor=factor, values={suffix: next(vals) for suffix in suffixes}, count=count))
    return Record(
        outlet=row["outlet"],
        kind=RecordKind(row["kind"]),
        data_time=from_text(row["data_time"]),
        factors=tuple(factors),
        extra=json.loads(row["extra"]),
    )


def decode_stored(db: Database, layouts: LayoutCache, row: Mapping[str, Any]) -> StoredRecord:
    return StoredRecord(
        id=row["id"],
        revision=row["revision"],
        created_at=from_text(row["created_at"]),
        updated_at=from_text(row["updated_at"]),
        record=decode(row, layouts.layout(db, row["layout_id"])),
    )


@dataclass(frozen=True, slots=True)
class PutResult:
    id: int
    changed: bool  # False when an identical record was already stored


def put(db: Database, layouts: LayoutCache, record: Record, now: datetime, replace: bool) -> PutResult:
    """Insert, or replace an existing window when `replace`; runs inside the caller's transaction."""
    kind = kind_of(record.kind)
    if not isinstance(record.outlet, str) or not record.outlet:
        raise BadValueError(f"record outlet (MN) must be non-empty text, got {record.outlet!r}")
    data_time = to_text(record.data_time, "record data_time")
    spec, vals = encode_factors(record)
    layout_id = layouts.id_for(db, spec)
    extra = encode_extra(record.extra)
    stamp = to_text(now, "store clock")
    row = db.conn.execute(
        "SELECT id, layout_id, vals, extra FROM record WHERE outlet = ? AND kind = ? AND data_time = ?",
        (record.outlet, kind.value, data_time),
    ).fetchone()
    if row is None:
        cursor = db.conn.execute(
            "INSERT INTO record (outlet, kind, data_time, layout_id, vals, extra, revision, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)",
            (record.outlet, kind.value, data_time, layout_id, vals, extra, stamp, stamp),
        )
        return PutResult(id=int(cursor.lastrowid or 0), changed=True)
    record_id, old_layout, old_vals, old_extra = row
    if not replace:
        raise RecordExistsError(record_id, record.outlet, kind.value, data_time)
    if (old_layout, old_vals, old_extra) == (layout_id, vals, extra):
        return PutResult(id=record_id, changed=False)
    db.conn.execute(
        "UPDATE record SET layout_id = ?, vals = ?, extra = ?, revision = revision + 1, updated_at = ? WHERE id = ?",
        (layout_id, vals, extra, stamp, record_id),
    )
    return PutResult(id=record_id, changed=True)


_COLUMNS = "id, outlet, kind, data_time, layout_id, vals, extra, revision, created_at, updated_at"


def get(db: Database, layouts: LayoutCache, record_id: int) -> StoredRecord | None:
    rows = list(db.query(f"SELECT {_COLUMNS} FROM record WHERE id = ?", (record_id,)))
    return decode_stored(db, layouts, rows[0]) if rows else None


def query(
    db: Database, layouts: LayoutCache, outlet: str, kind: RecordKind | str, begin: datetime, end: datetime
) -> list[StoredRecord]:
    """Records with begin <= data_time < end, oldest first (a history request's BeginTime/EndTime window)."""
    rows = db.query(
        f"SELECT {_COLUMNS} FROM record WHERE outlet = ? AND kind = ? AND data_time >= ? AND data_time < ?"
        " ORDER BY data_time",
        (outlet, kind_of(kind).value, to_text(begin, "begin"), to_text(end, "end")),
    )
    return [decode_stored(db, layouts, row) for row in rows]
