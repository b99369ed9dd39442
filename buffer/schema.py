"""The store's schema as an ordered list of migration steps (docs/store.md has the table-by-table description).

`PRAGMA user_version` holds the number of steps applied. At open, every missing step runs in one
`BEGIN IMMEDIATE` transaction together with the new user_version, so a crash mid-migration leaves the old
schema and data untouched. Steps are append-only: a released step is never edited, a change is a new step.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from buffer.errors import SchemaError

# v1: readings (series + compact rows), records (one row per outlet/kind/window: the factor/suffix layout is
# interned in `layout`, the row keeps a JSON array of values), alarms, per-target outboxes. The trigger is
# the schema's own guard that no pruning code path can drop a record an outbox still waits for (issue 4).
_V1 = """
CREATE TABLE series (
    id INTEGER PRIMARY KEY,
    device TEXT NOT NULL,
    factor TEXT NOT NULL,
    unit TEXT NOT NULL,
    UNIQUE (device, factor, unit)
);
CREATE TABLE reading (
    series_id INTEGER NOT NULL REFERENCES series (id),
    t INTEGER NOT NULL,
    value REAL,
    flag TEXT NOT NULL,
    device_t INTEGER,
    raw TEXT,
    PRIMARY KEY (series_id, t)
) WITHOUT ROWID;
CREATE TABLE layout (
    id INTEGER PRIMARY KEY,
    spec TEXT NOT NULL UNIQUE
);
CREATE TABLE record (
    id INTEGER PRIMARY KEY,
    outlet TEXT NOT NULL,
    kind TEXT NOT NULL,
    data_time TEXT NOT NULL,
    layout_id INTEGER NOT NULL REFERENCES layout (id),
    vals TEXT NOT NULL,
    extra TEXT NOT NULL DEFAULT '{}',
    revision INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (outlet, kind, data_time)
);
CREATE INDEX record_kind_time ON record (kind, data_time);
CREATE TABLE alarm (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    level TEXT NOT NULL,
    outlet TEXT,
    factor TEXT,
    device TEXT,
    start_time TEXT NOT NULL,
    end_time TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX alarm_start ON alarm (start_time);
CREATE INDEX alarm_active ON alarm (kind) WHERE end_time IS NULL;
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    target TEXT NOT NULL,
    kind TEXT NOT NULL,
    priority INTEGER NOT NULL,
    record_id INTEGER REFERENCES record (id) ON DELETE CASCADE,
    payload TEXT,
    data_time TEXT NOT NULL,
    enqueued_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_sent_at TEXT,
    last_qn TEXT,
    last_error TEXT,
    acked_at TEXT,
    CHECK ((record_id IS NULL) <> (payload IS NULL))
);
CREATE INDEX outbox_pending ON outbox (target, priority, data_time, id) WHERE acked_at IS NULL;
CREATE UNIQUE INDEX outbox_one_pending_per_record ON outbox (target, record_id)
    WHERE acked_at IS NULL AND record_id IS NOT NULL;
CREATE INDEX outbox_record ON outbox (record_id);
CREATE INDEX outbox_acked ON outbox (acked_at) WHERE acked_at IS NOT NULL;
CREATE TRIGGER record_kept_while_pending BEFORE DELETE ON record
WHEN EXISTS (SELECT 1 FROM outbox WHERE record_id = OLD.id AND acked_at IS NULL)
BEGIN
    SELECT RAISE(ABORT, 'record has pending outbox items');
END;
"""

# v2: device info and parameter history (HJ 212 3020 i12xxx/i13xxx values, 3019 SN changes). Append-only;
# `value` is a JSON scalar so 168.0 stays a number and //清洗管路// stays text.
_V2 = """
CREATE TABLE device_info (
    id INTEGER PRIMARY KEY,
    device TEXT NOT NULL,
    factor TEXT NOT NULL DEFAULT '',
    code TEXT NOT NULL,
    value TEXT NOT NULL,
    time TEXT NOT NULL
);
CREATE INDEX device_info_key ON device_info (device, factor, code, time);
CREATE INDEX device_info_time ON device_info (time);
"""

# v3: settings a platform changed by command (1072 PW, 1062/1064 intervals, 1000, 2025 1002 MN and 1014 key),
# one row per (upload target, key), so they survive a restart (issue 5). `value` is a JSON scalar.
_V3 = """
CREATE TABLE settings (
    target TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (target, key)
) WITHOUT ROWID;
"""

# v4: outbox ids are never reused. v1's `INTEGER PRIMARY KEY` hands out max(id)+1, so after the newest items
# were acked and pruned a new item could get an id a consumer had already seen, and MQTT consumers dedupe on
# that id (docs/mqtt.md). AUTOINCREMENT keeps the high-water mark in sqlite_sequence. SQLite cannot add it to
# a table, so the table is rebuilt (the 12-step ALTER recipe): rows copied with their ids (the sequence then
# starts above the highest id kept), indexes and the record trigger made again as in v1. The trigger goes
# first: it names `outbox`, which does not exist between the DROP and the RENAME.
_OUTBOX_COLUMNS = (
    "id, target, kind, priority, record_id, payload, data_time, enqueued_at, attempts, last_sent_at, last_qn,"
    " last_error, acked_at"
)
_V4 = f"""
DROP TRIGGER record_kept_while_pending;
CREATE TABLE outbox_v4 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    target TEXT NOT NULL,
    kind TEXT NOT NULL,
    priority INTEGER NOT NULL,
    record_id INTEGER REFERENCES record (id) ON DELETE CASCADE,
    payload TEXT,
    data_time TEXT NOT NULL,
    enqueued_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_sent_at TEXT,
    last_qn TEXT,
    last_error TEXT,
    acked_at TEXT,
    CHECK ((record_id IS NULL) <> (payload IS NULL))
);
INSERT INTO outbox_v4 ({_OUTBOX_COLUMNS}) SELECT {_OUTBOX_COLUMNS} FROM outbox ORDER BY id;
DROP TABLE outbox;
ALTER TABLE outbox_v4 RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox (target, priority, data_time, id) WHERE acked_at IS NULL;
CREATE UNIQUE INDEX outbox_one_pending_per_record ON outbox (target, record_id)
    WHERE acked_at IS NULL AND record_id IS NOT NULL;
CREATE INDEX outbox_record ON outbox (record_id);
CREATE INDEX outbox_acked ON outbox (acked_at) WHERE acked_at IS NOT NULL;
CREATE TRIGGER record_kept_while_pending BEFORE DELETE ON record
WHEN EXISTS (SELECT 1 FROM outbox WHERE record_id = OLD.id AND acked_at IS NULL)
BEGIN
    SELECT RAISE(ABORT, 'record has pending outbox items');
END;
"""


@dataclass(frozen=True, slots=True)
class Step:
    """One migration: `apply` runs inside the migration transaction and must not commit."""

    description: str
    apply: Callable[[sqlite3.Connection], None]


def _script(sql: str) -> Callable[[sqlite3.Connection], None]:
    statements = [s.strip() for s in _split(sql) if s.strip()]

    def apply(conn: sqlite3.Connection) -> None:
        for statement in statements:
            conn.execute(statement)

    return apply


def _split(sql: str) -> list[str]:
    """Split on `;` at statement ends, keeping trigger bodies (`BEGIN ... END;`) whole."""
    out: list[str] = []
    current: list[str] = []
    for line in sql.splitlines():
        current.append(line)
        if line.rstrip().endswith(";") and sqlite3.complete_statement("\n".join(current)):
            out.append("\n".join(current))
            current = []
    if "".join(current).strip():
        raise SchemaError(f"incomplete SQL statement in migration: {' '.join(current)[:80]}")
    return out


MIGRATIONS: tuple[Step, ...] = (
    Step("readings, records, alarms, outboxes", _script(_V1)),
    Step("device info and parameter history (3019/3020)", _script(_V2)),
    Step("settings changed by platform commands", _script(_V3)),
    Step("outbox ids never reused (AUTOINCREMENT)", _script(_V4)),
)
LATEST = len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, steps: Sequence[Step] = MIGRATIONS, upto: int | None = None) -> int:
    """Apply the missing steps (up to `upto`, default all) in one transaction; return the new version.

    The connection must be in autocommit mode (isolation_level=None) so this function owns the transaction.
    """
    target = len(steps) if upto is None else upto
    current = user_version(conn)
    if current > len(steps):
        raise SchemaError(
            f"database schema version {current} is newer than this agent knows ({len(steps)}); "
            "upgrade the agent, do not open this file with an older one"
        )
    if current >= target:
        return current
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = user_version(conn)  # another process may have migrated while we waited for the lock
        for number in range(current + 1, target + 1):
            steps[number - 1].apply(conn)
        if current < target:
            conn.execute(f"PRAGMA user_version = {int(target)}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return max(current, target)
