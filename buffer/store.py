"""The store: one SQLite file in WAL mode, one connection per process, short synchronous transactions.

Durability: every write is one `BEGIN IMMEDIATE … COMMIT` with `synchronous=FULL`, so when a call returns its
data has been fsynced to the WAL. The daemon acknowledges nothing (to a driver, a platform or a log) before
that, hence "a record is durable before anything acknowledges it". Readings use the same setting: NORMAL
would lose the last commits on power loss, and issue 4 says nothing is lost; the cost is one WAL fsync per
poll round (bench/README.md, "Store").

The daemon is asyncio and calls the store directly from the event loop: each call is one short transaction
(milliseconds, bounded by the chunk size for pruning). Other processes (CLI tools) open the same file with
`readonly=True` and read while the daemon writes, which WAL allows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from agent.model import Alarm, Reading, Record, RecordKind
from buffer import alarms, device_info, outbox, readings, records, retention, settings
from buffer._times import to_text
from buffer.alarms import StoredAlarm
from buffer.device_info import InfoEntry, InfoValue
from buffer.errors import SchemaError, UnknownItemError
from buffer.outbox import BacklogStats, OutboxItem
from buffer.records import StoredRecord
from buffer.retention import PruneReport, RetentionPolicy
from buffer.schema import LATEST, migrate, user_version
from buffer.settings import SettingValue

BUSY_TIMEOUT_MS = 5000
# After a checkpoint the WAL is truncated back to this size, so a burst (a backfill, a prune) does not leave
# a large -wal file behind on a small flash card.
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024


class Store:
    """SQLite store of readings, records, alarms, device info and per-target outboxes (docs/store.md)."""

    def __init__(
        self,
        path: str | Path,
        *,
        readonly: bool = False,
        clock: Callable[[], datetime] = datetime.now,
        policy: RetentionPolicy | None = None,
    ) -> None:
        """Open (creating and migrating unless `readonly`) the store at `path`.

        `clock` gives the agent's wall time (naive local) for bookkeeping columns (created_at, enqueued_at).
        """
        self.path = Path(path)
        self.readonly = readonly
        self.clock = clock
        self.policy = policy or RetentionPolicy()
        self._series = readings.SeriesCache()
        self._layouts = records.LayoutCache()
        self._conn = self._connect()
        self.db = Database(self._conn, execute_plugins=False)

    def _connect(self) -> sqlite3.Connection:
        if self.readonly:
            if not self.path.exists():
                raise SchemaError(f"store {self.path} does not exist (read-only open never creates it)")
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
        else:
            conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            if self.readonly:
                version = user_version(conn)
                if version != LATEST:
                    raise SchemaError(
                        f"store {self.path} has schema version {version}, this agent reads {LATEST}; "
                        "let the daemon (or a writable open) migrate it first"
                    )
                return conn
            if user_version(conn) == 0 and not conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone():
                # Only possible before the first table exists: lets prune() hand freed pages back to the disk.
                conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise SchemaError(f"store {self.path}: could not switch to WAL journal mode (got {mode})")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
            migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    # lifecycle ---------------------------------------------------------------------------------------------
    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return user_version(self._conn)

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """One write transaction (nests as a savepoint); committed, and so durable, when the block exits."""
        if self.readonly:
            raise SchemaError(f"store {self.path} is open read-only")
        if self._conn.in_transaction:
            self._conn.execute("SAVEPOINT nested")
            try:
                yield self
            except BaseException:
                self._conn.execute("ROLLBACK TO nested")
                self._conn.execute("RELEASE nested")
                self._forget_caches()
                raise
            self._conn.execute("RELEASE nested")
            return
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            self._forget_caches()  # series created in the rolled-back transaction no longer exist
            raise
        try:
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            self._forget_caches()
            raise

    def _forget_caches(self) -> None:
        """Ids cached during a rolled-back transaction may no longer exist."""
        self._series.clear()
        self._layouts.clear()

    # readings ----------------------------------------------------------------------------------------------
    def add_readings(self, items: Iterable[Reading]) -> int:
        """Store a batch of readings in one transaction; return how many were new."""
        with self.transaction():
            return readings.add(self.db, self._series, items)

    def readings(self, device: str, factor: str, begin: datetime, end: datetime) -> list[Reading]:
        return readings.query(self.db, self._series, device, factor, begin, end)

    # records -----------------------------------------------------------------------------------------------
    def put_record(
        self,
        record: Record,
        targets: Sequence[str] = (),
        *,
        replace: bool = False,
        priority: int | None = None,
    ) -> int:
        """Store a record and enqueue it for `targets` in the same transaction; return its id.

        A second record for the same outlet, kind and window raises RecordExistsError unless `replace`; a
        replacement bumps the revision and is enqueued again for targets where it is not already pending.
        """
        with self.transaction():
            return self._put(record, targets, replace, priority)

    def put_records(self, items: Iterable[Record], targets: Sequence[str] = (), *, replace: bool = False) -> list[int]:
        """Many records in one transaction (a recompute, a bulk import): all stored or none."""
        with self.transaction():
            return [self._put(r, targets, replace, None) for r in items]

    def _put(self, record: Record, targets: Sequence[str], replace: bool, priority: int | None) -> int:
        now = self.clock()
        result = records.put(self.db, self._layouts, record, now, replace)
        if targets and result.changed:
            kind = records.kind_of(record.kind)
            outbox.enqueue_record(
                self.db,
                targets,
                result.id,
                kind.value,
                to_text(record.data_time),
                outbox.priority_of(kind) if priority is None else priority,
                now,
            )
        return result.id

    def get_record(self, record_id: int) -> Record | None:
        stored = records.get(self.db, self._layouts, record_id)
        return None if stored is None else stored.record

    def get_stored_record(self, record_id: int) -> StoredRecord | None:
        return records.get(self.db, self._layouts, record_id)

    def records(self, outlet: str, kind: RecordKind | str, begin: datetime, end: datetime) -> list[Record]:
        """Records of one outlet and kind with begin <= data_time < end, oldest first."""
        return [s.record for s in records.query(self.db, self._layouts, outlet, kind, begin, end)]

    def stored_records(self, outlet: str, kind: RecordKind | str, begin: datetime, end: datetime) -> list[StoredRecord]:
        return records.query(self.db, self._layouts, outlet, kind, begin, end)

    # alarms ------------------------------------------------------------------------------------------------
    def open_alarm(self, alarm: Alarm) -> int:
        with self.transaction():
            return alarms.open_(self.db, alarm)

    def close_alarm(self, alarm_id: int, end: datetime, detail: str | None = None) -> None:
        with self.transaction():
            alarms.close(self.db, alarm_id, end, detail)

    def get_alarm(self, alarm_id: int) -> StoredAlarm | None:
        return alarms.get(self.db, alarm_id)

    def active_alarms(
        self,
        kind: str | None = None,
        *,
        outlet: str | None = None,
        factor: str | None = None,
        device: str | None = None,
    ) -> list[StoredAlarm]:
        return alarms.active(self.db, kind, outlet, factor, device)

    def alarms(self, begin: datetime, end: datetime, kind: str | None = None) -> list[StoredAlarm]:
        """Alarms active at any moment of [begin, end)."""
        return alarms.in_range(self.db, begin, end, kind)

    # device info and parameter history --------------------------------------------------------------------
    def add_device_info(
        self,
        device: str,
        code: str,
        value: InfoValue,
        time: datetime,
        *,
        factor: str = "",
        only_if_changed: bool = True,
    ) -> int | None:
        """Append a 3020 info/parameter value or a 3019 SN (code "SN"); None when unchanged and skipped."""
        with self.transaction():
            return device_info.add(self.db, device, code, value, time, factor, only_if_changed)

    def latest_device_info(self, device: str | None = None, factor: str | None = None) -> list[InfoEntry]:
        return device_info.latest(self.db, device, factor)

    def device_info_history(
        self,
        begin: datetime,
        end: datetime,
        *,
        device: str | None = None,
        factor: str | None = None,
        code: str | None = None,
    ) -> list[InfoEntry]:
        return device_info.history(self.db, begin, end, device, factor, code)

    # settings changed by platform commands ------------------------------------------------------------------
    def get_settings(self, target: str) -> dict[str, Any]:
        """Settings stored for an upload target (buffer/settings.py), key → JSON scalar."""
        return settings.get_all(self.db, target)

    def setting_changes(self, key: str) -> list[tuple[str, Any, datetime]]:
        """(target, value, updated_at) of one key across targets, oldest first (buffer/settings.py)."""
        return settings.changes(self.db, key)

    def set_setting(self, target: str, key: str, value: SettingValue) -> None:
        """Persist one setting for `target`; durable when this returns (a platform is answered only after)."""
        with self.transaction():
            settings.put(self.db, target, key, value, self.clock())

    # outboxes ----------------------------------------------------------------------------------------------
    def enqueue(
        self,
        target: str,
        *,
        record_id: int | None = None,
        payload: str | None = None,
        kind: str | None = None,
        priority: int | None = None,
        data_time: datetime | None = None,
    ) -> int | None:
        """Add a stored record or a payload to one target's outbox; return the item id.

        For a record already pending for that target nothing is added and None is returned.
        """
        if (record_id is None) == (payload is None):
            raise ValueError("enqueue: give exactly one of record_id and payload")
        now = self.clock()
        with self.transaction():
            if record_id is not None:
                stored = records.get(self.db, self._layouts, record_id)
                if stored is None:
                    raise UnknownItemError(f"no record with id {record_id}")
                rkind = stored.record.kind
                ids = outbox.enqueue_record(
                    self.db,
                    [target],
                    record_id,
                    kind or rkind.value,
                    to_text(stored.record.data_time),
                    outbox.priority_of(rkind) if priority is None else priority,
                    now,
                )
                return ids[0] if ids else None
            assert payload is not None
            return outbox.enqueue_payload(
                self.db,
                target,
                payload,
                kind or "payload",
                outbox.PAYLOAD_PRIORITY if priority is None else priority,
                data_time or now,
                now,
            )

    def pending(
        self,
        target: str,
        limit: int = 100,
        *,
        priority: int | None = None,
        since: datetime | None = None,
        before: datetime | None = None,
        newest_first: bool = False,
        not_sent_since: datetime | None = None,
    ) -> list[OutboxItem]:
        return outbox.pending(
            self.db,
            target,
            limit,
            priority=priority,
            since=since,
            before=before,
            newest_first=newest_first,
            not_sent_since=not_sent_since,
        )

    def next_batch(
        self,
        target: str,
        limit: int = 100,
        *,
        live_since: datetime | None = None,
        not_sent_since: datetime | None = None,
    ) -> list[OutboxItem]:
        return outbox.next_batch(self.db, target, limit, live_since=live_since, not_sent_since=not_sent_since)

    def mark_sent(
        self, item_id: int, *, at: datetime | None = None, qn: str | None = None, error: str | None = None
    ) -> None:
        """Count a send attempt (QN, error); the item stays pending until `ack`."""
        with self.transaction():
            outbox.mark_sent(self.db, item_id, at or self.clock(), qn, error)

    def ack(self, item_id: int, *, at: datetime | None = None) -> bool:
        with self.transaction():
            return outbox.ack(self.db, item_id, at or self.clock())

    def get_outbox_item(self, item_id: int) -> OutboxItem | None:
        return outbox.get(self.db, item_id)

    def backlog_stats(self, target: str, now: datetime | None = None) -> BacklogStats:
        return outbox.backlog_stats(self.db, target, now or self.clock())

    def outbox_targets(self) -> list[str]:
        return outbox.targets(self.db)

    # retention ---------------------------------------------------------------------------------------------
    def prune(self, now: datetime | None = None, policy: RetentionPolicy | None = None) -> PruneReport:
        """Apply age limits and the disk budget; see buffer/retention.py for what is never dropped."""
        return retention.prune(self.db, self.transaction, policy or self.policy, now or self.clock())

    def used_bytes(self) -> int:
        return retention.used_bytes(self.db)

    def integrity_check(self) -> list[str]:
        """`PRAGMA integrity_check` and `foreign_key_check` findings; empty when the file is sound."""
        problems = [row[0] for row in self._conn.execute("PRAGMA integrity_check") if row[0] != "ok"]
        problems += [f"foreign key: {tuple(row)}" for row in self._conn.execute("PRAGMA foreign_key_check")]
        return problems
