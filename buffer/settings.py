"""Runtime settings a platform changed by command, per upload target (issue 5: they survive a restart).

HJ 212 lets a platform change the DAS's password (1072), intervals (1062/1064), timeouts (1000), MN (2025 1002)
and SM4 key (2025 1014). Those changes must outlive the process, so they live in the store beside the data,
keyed by (target, key), and `uplink/overrides.py` lays them over the configuration file at start-up.
Values are JSON scalars, so an interval stays a number and a password stays text ("012345" is not 12345).
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from buffer._times import from_text, to_text
from buffer.errors import BadValueError

SettingValue = str | int | float | bool


def _encode(target: str, key: str, value: object) -> str:
    where = f"setting {target!r}/{key!r}"
    if not isinstance(target, str) or not target or not isinstance(key, str) or not key:
        raise BadValueError(f"{where}: target and key must be non-empty text")
    if not isinstance(value, str | int | float | bool):
        raise BadValueError(f"{where}: expected text, a number or a bool, got {type(value).__name__} {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise BadValueError(f"{where}: {value!r} is not a finite number")
    return json.dumps(value, ensure_ascii=False)


def get_all(db: Database, target: str) -> dict[str, Any]:
    """Every setting stored for `target`, key → value."""
    rows = db.execute("SELECT key, value FROM settings WHERE target = ? ORDER BY key", (target,)).fetchall()
    return {key: json.loads(value) for key, value in rows}


def put(db: Database, target: str, key: str, value: SettingValue, at: datetime) -> None:
    """Insert or replace one setting (the latest change wins; its time is kept in `updated_at`)."""
    encoded = _encode(target, key, value)
    db.execute(
        "INSERT INTO settings (target, key, value, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (target, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        (target, key, encoded, to_text(at, "setting time")),
    )


def changes(db: Database, key: str) -> list[tuple[str, Any, datetime]]:
    """(target, value, updated_at) of `key` over every target, oldest change first (a system-wide value such as
    MinInterval follows the latest platform that set it)."""
    rows = db.execute(
        "SELECT target, value, updated_at FROM settings WHERE key = ? ORDER BY updated_at, target", (key,)
    ).fetchall()
    return [(target, json.loads(value), from_text(at)) for target, value, at in rows]
