"""The backup commands of docs/operations.md, run against a store another process keeps writing.

The doc's claim: `VACUUM INTO` gives a consistent copy while the agent writes, does not stop the writer, and
holds everything committed before it started; the copy restores into a working store.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from buffer import Store

REPO = Path(__file__).resolve().parents[2]
WRITER = REPO / "tests" / "buffer" / "store_kill_writer.py"  # writes records in a loop, prints each after commit
OPERATIONS = REPO / "docs" / "operations.md"


def _doc_python_backup() -> str:
    """The Python one-liner exactly as the doc shows it."""
    found = re.search(r'-c \\\n\s+"(import sqlite3.*?)" \\', OPERATIONS.read_text())
    assert found, "docs/operations.md: the Python backup command is missing"
    return found.group(1)


class Writer:
    def __init__(self, db: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(WRITER), str(db), "1"], stdout=subprocess.PIPE, text=True, cwd=REPO
        )
        assert self.proc.stdout is not None
        self.lines = iter(self.proc.stdout)
        self.records: list[int] = []
        assert next(self.lines).strip() == "ready"

    def committed(self, at_least: int) -> list[int]:
        """Read the writer's reports until `at_least` more records are committed; all ids reported so far."""
        target = len(self.records) + at_least
        while len(self.records) < target:
            line = next(self.lines)
            if line.startswith("R "):
                self.records.append(int(line.split()[2]))
        return list(self.records)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[Writer]:
    w = Writer(tmp_path / "das.sqlite")
    yield w
    w.stop()


def _check_copy(copy: Path, must_hold: list[int], version: int) -> None:
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA user_version").fetchone() == (version,)
        ids = {row[0] for row in conn.execute("SELECT id FROM record")}
    assert set(must_hold) <= ids
    conn.close()


def test_vacuum_into_while_the_agent_writes(writer: Writer, tmp_path: Path) -> None:
    db = tmp_path / "das.sqlite"
    before = writer.committed(200)
    with sqlite3.connect(db) as probe:
        version = probe.execute("PRAGMA user_version").fetchone()[0]
    probe.close()

    copy = tmp_path / "backup-py.sqlite"
    subprocess.run([sys.executable, "-c", _doc_python_backup(), str(db), str(copy)], check=True, timeout=120)
    writer.committed(50)  # the writer went on during and after the backup
    _check_copy(copy, before, version)

    if shutil.which("sqlite3"):  # the doc's first form, where the tool is installed
        copy_cli = tmp_path / "backup-cli.sqlite"
        before = writer.committed(50)
        subprocess.run(["sqlite3", str(db), f"VACUUM INTO '{copy_cli}'"], check=True, timeout=120)
        _check_copy(copy_cli, before, version)

    # Restore: the copy alone (no -wal beside it) opens as a working store.
    restored = tmp_path / "restored" / "das.sqlite"
    restored.parent.mkdir()
    shutil.copyfile(copy, restored)
    store = Store(restored)
    try:
        assert store.db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.db.conn.execute("SELECT count(*) FROM record").fetchone()[0] >= 200
    finally:
        store.close()
