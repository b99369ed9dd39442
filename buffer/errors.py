"""Typed store errors; anything else escaping the store is a bug."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every error the store raises on purpose."""


class SchemaError(StoreError):
    """The file's schema version is one this agent cannot use (too new, or read-only and not migrated)."""


class RecordExistsError(StoreError):
    """A record for this outlet, kind and window is already stored and replacing it was not asked for."""

    def __init__(self, record_id: int, outlet: str, kind: str, data_time: str) -> None:
        super().__init__(
            f"record already stored (id {record_id}): outlet {outlet}, kind {kind}, window {data_time}; "
            "pass replace=True to store a recompute"
        )
        self.record_id = record_id


class BadValueError(StoreError, ValueError):
    """A value the store refuses to keep (NaN, a zoned datetime, an unknown kind, ...)."""


class UnknownItemError(StoreError, KeyError):
    """An outbox item or alarm id that does not exist."""
