"""The SQLite store: readings, records, alarms, device info, per-target outboxes and retention.

Other packages import from here only; docs/store.md describes the schema and the durability argument.
"""

from buffer.alarms import StoredAlarm
from buffer.device_info import InfoEntry
from buffer.errors import BadValueError, RecordExistsError, SchemaError, StoreError, UnknownItemError
from buffer.outbox import DEFAULT_PRIORITY, BacklogStats, OutboxItem
from buffer.records import StoredRecord
from buffer.retention import DEFAULT_AGES, DISK_BUDGET_ALARM, PruneReport, RetentionPolicy
from buffer.schema import LATEST as SCHEMA_VERSION
from buffer.store import Store

__all__ = [
    "DEFAULT_AGES",
    "DEFAULT_PRIORITY",
    "DISK_BUDGET_ALARM",
    "SCHEMA_VERSION",
    "BacklogStats",
    "BadValueError",
    "InfoEntry",
    "OutboxItem",
    "PruneReport",
    "RecordExistsError",
    "RetentionPolicy",
    "SchemaError",
    "Store",
    "StoreError",
    "StoredAlarm",
    "StoredRecord",
    "UnknownItemError",
]
