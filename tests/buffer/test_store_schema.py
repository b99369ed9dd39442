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
