"""Time encodings of the store.

The agent clock gives naive local datetimes (HJ 212 DataTime has no zone). Records, alarms and outboxes keep
them as fixed-width ISO text (`YYYY-MM-DD HH:MM:SS.ffffff`): it sorts as text, reads well in the sqlite3 shell
and indexes for range queries. Readings, the bulk of the file (60 points at 1 Hz is 5 million rows a day), keep
an integer count of microseconds since 1970-01-01 00:00 on the same naive clock: 8 bytes instead of 26.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from buffer.errors import BadValueError

_EPOCH = datetime(1970, 1, 1)
_MICRO = timedelta(microseconds=1)


def _naive(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise BadValueError(f"{what}: expected a datetime, got {type(value).__name__} {value!r}")
    if value.tzinfo is not None:
        raise BadValueError(f"{what}: expected a naive local datetime (agent clock), got {value.isoformat()}")
    return value


def to_text(value: datetime, what: str = "time") -> str:
    """Fixed-width ISO text, so text order is time order."""
    return _naive(value, what).isoformat(sep=" ", timespec="microseconds")


def from_text(text: str) -> datetime:
    return datetime.fromisoformat(text)


def opt_to_text(value: datetime | None, what: str = "time") -> str | None:
    return None if value is None else to_text(value, what)


def opt_from_text(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def to_micros(value: datetime, what: str = "time") -> int:
    return (_naive(value, what) - _EPOCH) // _MICRO


def from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)
