"""Schema: versioned migrations applied at open, the connection settings durability rests on, read-only use."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from store_samples import minute_record

from buffer import SCHEMA_VERSION, SchemaError, Store
from buffer.schema import MIGRATIONS, Step, migrate, user_version


def test_new_store_has_the_settings_durability_rests_on(store: Store) -> None:
    pragma = lambda name: store.db.conn.execute(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
    assert pragma("journal_mode") == "wal"
    assert pragma("synchronous") == 2  # FULL
    assert pragma("foreign_keys") == 1
    assert pragma("auto_vacuum") == 2  # INCREMENTAL
    assert pragma("busy_timeout") >= 1000
    assert store.schema_version == SCHEMA_VERSION == len(MIGRATIONS)
    assert {"series", "reading", "record", "alarm", "outbox", "device_info"} <= set(store.db.table_names())


def test_a_v1_database_is_migrated_forward_with_its_data(db_path: Path) -> None:
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    assert migrate(conn, upto=1) == 1
    conn.execute('INSERT INTO layout (id, spec) VALUES (1, \'[["a21026",["Avg","Flag"]]]\')')
    conn.execute(
        "INSERT INTO record (outlet, kind, data_time, layout_id, vals, extra, created_at, updated_at) VALUES"
        " ('MN0001', 'minute', '2024-01-01 00:07:00.000000', 1, '[59,1.5,\"N\"]', '{}',"
        " '2024-01-01 00:08:00.000000', '2024-01-01 00:08:00.000000')"
    )
    conn.execute(
        "INSERT INTO outbox (target, kind, priority, record_id, data_time, enqueued_at) VALUES"
        " ('prov', 'minute', 1, 1, '2024-01-01 00:07:00.000000', '2024-01-01 00:08:00.000000')"
    )
    assert "device_info" not in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()

    with Store(db_path) as store:
        assert store.schema_version == SCHEMA_VERSION
        record = store.get_record(1)
        assert record is not None and record.factors[0].values == {"Avg": 1.5, "Flag": "N"}
        assert record.factors[0].count == 59
        assert [i.record_id for i in store.pending("prov")] == [1]
        assert store.add_device_info("cod1", "i13004", 168.0, datetime(2024, 1, 2)) is not None
        assert store.integrity_check() == []


def test_a_failing_step_leaves_the_old_schema_untouched(db_path: Path) -> None:
    conn = sqlite3.connect(db_path, isolation_level=None)
    migrate(conn, upto=1)

    def broken(c: sqlite3.Connection) -> None:
        c.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("step failed midway")

    steps = (*MIGRATIONS[:1], Step("broken", broken))
    with pytest.raises(RuntimeError, match="midway"):
        migrate(conn, steps)
    assert user_version(conn) == 1
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchone() is None


def test_a_file_from_a_newer_agent_is_refused(db_path: Path) -> None:
    Store(db_path).close()
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SchemaError, match="newer"):
        Store(db_path)


def test_read_only_open_reads_while_the_writer_holds_a_transaction(store: Store, db_path: Path) -> None:
    committed = store.put_record(minute_record(1))
    with Store(db_path, readonly=True) as reader, store.transaction():
        store.put_record(minute_record(2))
        assert reader.get_record(committed) == minute_record(1)  # WAL: readers are not blocked by the writer
        assert reader.get_record(committed + 1) is None  # and never see uncommitted data
        with pytest.raises(SchemaError, match="read-only"):
            reader.put_record(minute_record(3))
    with Store(db_path, readonly=True) as reader:
        assert reader.get_record(committed + 1) == minute_record(2)


def test_read_only_open_never_creates_or_migrates(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="does not exist"):
        Store(tmp_path / "missing.sqlite", readonly=True)
    old = tmp_path / "old.sqlite"
    conn = sqlite3.connect(old, isolation_level=None)
    migrate(conn, upto=1)
    conn.close()
    with pytest.raises(SchemaError, match="migrate"):
        Store(old, readonly=True)


def test_nested_transaction_rolls_back_to_its_savepoint(store: Store) -> None:
    with store.transaction():
        kept = store.put_record(minute_record(1))
        with pytest.raises(RuntimeError), store.transaction():
            store.put_record(minute_record(2))
            raise RuntimeError("inner fails")
    assert store.get_record(kept) == minute_record(1)
    assert store.db.conn.execute("SELECT count(*) FROM record").fetchone()[0] == 1


def test_v4_keeps_outbox_rows_and_never_reuses_an_id(db_path: Path) -> None:
    """An MQTT consumer dedupes on the outbox id: an acked and pruned id must not come back (schema v4)."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    assert migrate(conn, upto=3) == 3
    for n, acked in ((1, "'2024-01-01 00:09:00.000000'"), (2, "NULL"), (3, "'2024-01-01 00:09:00.000000'")):
        conn.execute(
            "INSERT INTO outbox (id, target, kind, priority, payload, data_time, enqueued_at, attempts, acked_at)"
            f" VALUES ({n}, 'mqtt:cloud', 'alarm', 0, '{{\"n\": {n}}}', '2024-01-01 00:07:00.000000',"
            f" '2024-01-01 00:08:00.000000', {n}, {acked})"
        )
    conn.close()

    with Store(db_path) as store:
        assert store.schema_version == SCHEMA_VERSION
        [pending] = store.pending("mqtt:cloud")
        assert (pending.id, pending.payload, pending.attempts) == (2, '{"n": 2}', 2)
        sql = store.db.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'outbox'").fetchone()[0]
        assert "AUTOINCREMENT" in sql
        names = {
            r[0] for r in store.db.conn.execute("SELECT name FROM sqlite_master WHERE tbl_name IN ('outbox', 'record')")
        }
        assert {"outbox_pending", "outbox_one_pending_per_record", "outbox_record", "outbox_acked"} <= names
        assert "record_kept_while_pending" in names
        # The newest item (3) is gone, as after pruning acked items: its id is not handed out again.
        store.db.conn.execute("DELETE FROM outbox WHERE id = 3")
        assert store.enqueue("mqtt:cloud", payload="{}", kind="alarm", data_time=datetime(2024, 1, 2)) == 4
        # The trigger still guards records an outbox waits for.
        record_id = store.put_record(minute_record(1), ["prov"])
        with pytest.raises(sqlite3.IntegrityError, match="pending outbox"):
            store.db.conn.execute("DELETE FROM record WHERE id = ?", (record_id,))
        assert store.integrity_check() == []
