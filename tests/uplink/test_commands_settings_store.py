"""The store's `settings` table (schema v3): what a platform changes by command survives a reopen (issue 5)."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from buffer import BadValueError, Store
from buffer.schema import MIGRATIONS, migrate, user_version

T = "national/outlet1"


def test_settings_survive_a_reopen_with_their_types(tmp_path: Path) -> None:
    path = tmp_path / "das.sqlite"
    with Store(path, clock=lambda: datetime(2026, 1, 5, 8, 0)) as store:
        store.set_setting(T, "pw", "012345")
        store.set_setting(T, "rtd_interval", 60)
        store.set_setting(T, "rtd_enabled", False)
        store.set_setting(T, "rtd_interval", 120)  # the latest change wins
        store.set_setting("province/outlet1", "pw", "abcdef")
    with Store(path) as store:
        assert store.get_settings(T) == {"pw": "012345", "rtd_enabled": False, "rtd_interval": 120}
        assert store.get_settings("province/outlet1") == {"pw": "abcdef"}
        assert store.get_settings("nobody") == {}
    conn = sqlite3.connect(path)
    row = conn.execute("SELECT value, updated_at FROM settings WHERE target = ? AND key = 'pw'", (T,)).fetchone()
    assert row == ('"012345"', "2026-01-05 08:00:00.000000")


@pytest.mark.parametrize("value", [float("nan"), None, [1], b"x"])
def test_a_bad_value_is_refused_and_nothing_is_stored(tmp_path: Path, value: object) -> None:
    with Store(tmp_path / "das.sqlite") as store:
        with pytest.raises(BadValueError):
            store.set_setting(T, "pw", value)  # type: ignore[arg-type]
        with pytest.raises(BadValueError):
            store.set_setting("", "pw", "123456")
        assert store.get_settings(T) == {}


def test_a_version_2_file_gains_the_settings_table_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, MIGRATIONS, upto=2)
    conn.execute("INSERT INTO layout (spec) VALUES ('[]')")
    conn.close()
    with Store(path) as store:
        assert store.schema_version == len(MIGRATIONS) >= 3
        store.set_setting(T, "mn", "010000A8900016F000169DC0")
        assert store.get_settings(T) == {"mn": "010000A8900016F000169DC0"}
        assert store.db.execute("SELECT count(*) FROM layout").fetchone()[0] == 1
    conn = sqlite3.connect(path)
    assert user_version(conn) == len(MIGRATIONS)
