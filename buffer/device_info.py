"""Device info and parameter history: HJ 212 3020 values (i12xxx state, i13xxx parameters) and 3019 SNs.

Append-only, so a platform's 3020 request with BeginTime/EndTime is answered from history and an
instrument swap (a new `SN`) stays on record. Values are JSON scalars: numbers stay numbers, text stays text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from buffer._times import from_text, to_text
from buffer.errors import BadValueError

InfoValue = float | int | str


@dataclass(frozen=True, slots=True)
class InfoEntry:
    id: int
    device: str
    factor: str  # PolId the value belongs to; "" when it is not tied to one factor
    code: str  # e.g. "i12001", "i13004", or "SN" for 3019
    value: InfoValue
    time: datetime


def _encode(value: object, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadValueError(f"{where}: expected a number or text, got {type(value).__name__} {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise BadValueError(f"{where}: {value!r} is not a finite number")
    return json.dumps(value, ensure_ascii=False)


def _decode(row: Mapping[str, Any]) -> InfoEntry:
    return InfoEntry(
        id=row["id"],
        device=row["device"],
        factor=row["factor"],
        code=row["code"],
        value=json.loads(row["value"]),
        time=from_text(row["time"]),
    )


_COLUMNS = "id, device, factor, code, value, time"


def latest_one(db: Database, device: str, factor: str, code: str) -> InfoEntry | None:
    rows = list(
        db.query(
            f"SELECT {_COLUMNS} FROM device_info WHERE device = ? AND factor = ? AND code = ?"
            " ORDER BY time DESC, id DESC LIMIT 1",
            (device, factor, code),
        )
    )
    return _decode(rows[0]) if rows else None


def add(
    db: Database, device: str, code: str, value: InfoValue, time: datetime, factor: str, only_if_changed: bool
) -> int | None:
    """Append a value; with `only_if_changed`, skip it (return None) when it equals the latest one.

    3020 is uploaded on change (hj212.md §7, C.40): polling i12001 every minute must not add 1440 rows a day.
    """
    if not device or not code:
        raise BadValueError(f"device info needs a device and a code, got {device!r}/{code!r}")
    encoded = _encode(value, f"{device} {factor} {code}")
    if only_if_changed:
        latest = latest_one(db, device, factor, code)
        if latest is not None and latest.time <= time and _encode(latest.value, "stored") == encoded:
            return None
    cursor = db.conn.execute(
        "INSERT INTO device_info (device, factor, code, value, time) VALUES (?, ?, ?, ?, ?)",
        (device, factor, code, encoded, to_text(time, "device info time")),
    )
    return int(cursor.lastrowid or 0)


def latest(db: Database, device: str | None = None, factor: str | None = None) -> list[InfoEntry]:
    """The latest value per (device, factor, code), optionally for one device and/or factor."""
    where, params = _filters(device, factor)
    sql = (
        f"SELECT {_COLUMNS} FROM device_info AS d WHERE {where} AND id = ("
        " SELECT id FROM device_info AS e WHERE e.device = d.device AND e.factor = d.factor AND e.code = d.code"
        " ORDER BY e.time DESC, e.id DESC LIMIT 1) ORDER BY device, factor, code"
    )
    return [_decode(row) for row in db.query(sql, params)]


def history(
    db: Database,
    begin: datetime,
    end: datetime,
    device: str | None = None,
    factor: str | None = None,
    code: str | None = None,
) -> list[InfoEntry]:
    """Values recorded in [begin, end), oldest first."""
    where, params = _filters(device, factor)
    where += " AND time >= ? AND time < ?"
    params += [to_text(begin, "begin"), to_text(end, "end")]
    if code is not None:
        where += " AND code = ?"
        params.append(code)
    sql = f"SELECT {_COLUMNS} FROM device_info WHERE {where} ORDER BY time, id"
    return [_decode(row) for row in db.query(sql, params)]


def _filters(device: str | None, factor: str | None) -> tuple[str, list[Any]]:
    clauses = ["1"]
    params: list[Any] = []
    if device is not None:
        clauses.append("device = ?")
        params.append(device)
    if factor is not None:
        clauses.append("factor = ?")
        params.append(factor)
    return " AND ".join(clauses), params
