"""The platform's record: every frame both ways, the commands it sent, and the control tables.

One SQLite file (WAL) holds it all, so a second process (`das platform command|fault|report`) can steer a
running platform and read what it saw without any extra port. End-to-end tests compare the agent's buffer
against these records, hence the query API (`frames`, `commands`) beside the writers.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from uplink.hj212 import Cp

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS connections (
    id INTEGER PRIMARY KEY,
    peer TEXT NOT NULL,
    opened TEXT NOT NULL,
    closed TEXT,
    mn TEXT,
    reason TEXT
);
CREATE TABLE IF NOT EXISTS commands (
    id INTEGER PRIMARY KEY,
    created TEXT NOT NULL,
    source TEXT NOT NULL,             -- api | cli | scenario | auto
    mn TEXT NOT NULL,
    cn TEXT NOT NULL,
    cp TEXT NOT NULL,                 -- plaintext CP data area of the request
    kind TEXT,                        -- command name (commands.py); rebuilt when sent, so set-time is current
    args TEXT,                        -- its arguments, JSON
    status TEXT NOT NULL,             -- queued | sent | accepted | refused | done | failed | timeout | no-connection
    qn TEXT,
    qn_rtn INTEGER,
    exe_rtn INTEGER,
    sent_at TEXT,
    finished_at TEXT,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS commands_status ON commands(status);
CREATE TABLE IF NOT EXISTS frames (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,                 -- platform wall time, ISO
    conn INTEGER,
    peer TEXT,
    direction TEXT NOT NULL,          -- in | out
    verdict TEXT NOT NULL,            -- in: accepted | rejected; out: sent | withheld
    reason TEXT,                      -- why rejected, or which fault changed an answer
    qn_rtn INTEGER,                   -- QnRtn that fits the rejection (HJ 212 §8)
    mn TEXT, cn TEXT, qn TEXT, st TEXT, pw TEXT, flag INTEGER,
    pnum INTEGER, pno INTEGER, rf INTEGER,
    data_time TEXT,                   -- CP DataTime, as sent (YYYYMMDDhhmmss)
    cp TEXT,                          -- decoded plaintext CP data area (after SM4, when encrypted)
    warnings TEXT,                    -- decoder warnings, JSON list
    raw BLOB NOT NULL,
    command_id INTEGER REFERENCES commands(id)
);
CREATE INDEX IF NOT EXISTS frames_mn_cn ON frames(mn, cn);
CREATE INDEX IF NOT EXISTS frames_qn ON frames(qn);
CREATE TABLE IF NOT EXISTS faults (name TEXT PRIMARY KEY, value TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS actions (
    id INTEGER PRIMARY KEY,
    action TEXT NOT NULL,             -- drop | garbage
    mn TEXT,
    done INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS scenario (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    step INTEGER NOT NULL,
    what TEXT NOT NULL,
    ok INTEGER NOT NULL,
    detail TEXT
);
"""


@dataclass(frozen=True, slots=True)
class FrameRow:
    """One recorded frame. `cp_text` is the plaintext CP; `cp` parses it (None when there was none)."""

    id: int
    at: datetime
    conn: int | None
    peer: str | None
    direction: str
    verdict: str
    reason: str | None
    qn_rtn: int | None
    mn: str | None
    cn: str | None
    qn: str | None
    st: str | None
    pw: str | None
    flag: int | None
    pnum: int | None
    pno: int | None
    rf: bool
    data_time: str | None
    cp_text: str | None
    warnings: tuple[str, ...]
    raw: bytes
    command_id: int | None

    @property
    def cp(self) -> Cp | None:
        return None if self.cp_text is None else Cp.parse(self.cp_text)


@dataclass(frozen=True, slots=True)
class CommandRow:
    """A command the platform sent (or was asked to send) and how the DAS answered it (HJ 212 §8)."""

    id: int
    created: datetime
    source: str
    mn: str
    cn: str
    cp_text: str
    status: str
    qn: str | None
    qn_rtn: int | None
    exe_rtn: int | None
    sent_at: datetime | None
    finished_at: datetime | None
    detail: str | None

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES


FINAL_STATUSES = frozenset({"refused", "done", "failed", "timeout", "no-connection"})

_FRAME_COLUMNS = (
    "id, at, conn, peer, direction, verdict, reason, qn_rtn, mn, cn, qn, st, pw, flag, pnum, pno, rf, "
    "data_time, cp, warnings, raw, command_id"
)
_COMMAND_COLUMNS = "id, created, source, mn, cn, cp, status, qn, qn_rtn, exe_rtn, sent_at, finished_at, detail"


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _frame(row: tuple[Any, ...]) -> FrameRow:
    values = list(row)
    values[1] = datetime.fromisoformat(values[1])
    values[16] = bool(values[16])
    values[19] = tuple(json.loads(values[19])) if values[19] else ()
    values[20] = bytes(values[20])
    return FrameRow(*values)


def _command(row: tuple[Any, ...]) -> CommandRow:
    values = list(row)
    values[1] = datetime.fromisoformat(values[1])
    values[10] = _time(values[10])
    values[11] = _time(values[11])
    return CommandRow(*values)


class PlatformStore:
    """The SQLite record. The server writes through one instance; other processes open their own."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._db = sqlite3.connect(str(self.path), timeout=10.0, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL: a crash loses at most the last frames, never the file
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> PlatformStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- meta -------------------------------------------------------------------------------------------

    def set_meta(self, key: str, value: object) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    def meta(self, key: str, default: object = None) -> Any:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    # --- connections ------------------------------------------------------------------------------------

    def open_connection(self, peer: str, at: datetime) -> int:
        cur = self._db.execute("INSERT INTO connections (peer, opened) VALUES (?, ?)", (peer, at.isoformat()))
        return int(cur.lastrowid or 0)

    def connection_mn(self, conn: int, mn: str) -> None:
        self._db.execute("UPDATE connections SET mn = ? WHERE id = ? AND mn IS NULL", (mn, conn))

    def close_connection(self, conn: int, at: datetime, reason: str) -> None:
        self._db.execute(
            "UPDATE connections SET closed = ?, reason = ? WHERE id = ? AND closed IS NULL",
            (at.isoformat(), reason, conn),
        )

    def connections(self) -> list[dict[str, Any]]:
        cur = self._db.execute("SELECT id, peer, opened, closed, mn, reason FROM connections ORDER BY id")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    # --- frames -----------------------------------------------------------------------------------------

    def add_frame(self, **fields: Any) -> int:
        """Insert one frame; keys are the `frames` columns (`at` a datetime, `warnings` a sequence)."""
        fields = dict(fields)
        fields["at"] = fields["at"].isoformat()
        if "warnings" in fields:
            fields["warnings"] = json.dumps(list(fields["warnings"]), ensure_ascii=False)
        if "rf" in fields:
            fields["rf"] = int(bool(fields["rf"]))
        names = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)
        cur = self._db.execute(f"INSERT INTO frames ({names}) VALUES ({marks})", tuple(fields.values()))
        return int(cur.lastrowid or 0)

    def link_frame(self, frame_id: int, command_id: int) -> None:
        self._db.execute("UPDATE frames SET command_id = ? WHERE id = ?", (command_id, frame_id))

    def frames(
        self,
        *,
        mn: str | None = None,
        cn: str | None = None,
        direction: str | None = None,
        verdict: str | None = None,
        command_id: int | None = None,
        after_id: int = 0,
    ) -> list[FrameRow]:
        """Recorded frames in arrival order, filtered by any of the given fields."""
        where, args = ["id > ?"], [after_id]
        for column, value in (
            ("mn", mn),
            ("cn", cn),
            ("direction", direction),
            ("verdict", verdict),
            ("command_id", command_id),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        sql = f"SELECT {_FRAME_COLUMNS} FROM frames WHERE {' AND '.join(where)} ORDER BY id"
        return [_frame(row) for row in self._db.execute(sql, args).fetchall()]

    def iter_frames(self, *, direction: str | None = None) -> Iterator[FrameRow]:
        sql = f"SELECT {_FRAME_COLUMNS} FROM frames"
        args: list[Any] = []
        if direction is not None:
            sql += " WHERE direction = ?"
            args.append(direction)
        for row in self._db.execute(sql + " ORDER BY id", args):
            yield _frame(row)

    # --- commands ---------------------------------------------------------------------------------------

    def queue_command(
        self,
        *,
        mn: str,
        cn: str,
        cp: str,
        source: str,
        at: datetime,
        kind: str | None = None,
        args: Mapping[str, object] | None = None,
    ) -> int:
        """Queue a command for the running platform (it polls `queued` rows and sends them).

        With `kind`, the platform rebuilds the CP from `args` when it sends, so `set-time` carries its own clock.
        """
        cur = self._db.execute(
            "INSERT INTO commands (created, source, mn, cn, cp, kind, args, status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'queued')",
            (at.isoformat(), source, mn, cn, cp, kind, None if kind is None else json.dumps(dict(args or {}))),
        )
        return int(cur.lastrowid or 0)

    def queued_commands(self) -> list[tuple[CommandRow, str | None, dict[str, object]]]:
        """Queued commands with the name and arguments they were queued with."""
        sql = f"SELECT {_COMMAND_COLUMNS}, kind, args FROM commands WHERE status = 'queued' ORDER BY id"
        return [
            (_command(row[:-2]), row[-2], json.loads(row[-1]) if row[-1] else {})
            for row in self._db.execute(sql).fetchall()
        ]

    def update_command(self, command_id: int, **fields: Any) -> None:
        fields = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in fields.items()}
        sets = ", ".join(f"{k} = ?" for k in fields)
        self._db.execute(f"UPDATE commands SET {sets} WHERE id = ?", (*fields.values(), command_id))

    def command(self, command_id: int) -> CommandRow | None:
        row = self._db.execute(f"SELECT {_COMMAND_COLUMNS} FROM commands WHERE id = ?", (command_id,)).fetchone()
        return None if row is None else _command(row)

    def commands(self, *, mn: str | None = None) -> list[CommandRow]:
        sql = f"SELECT {_COMMAND_COLUMNS} FROM commands"
        args: tuple[str, ...] = ()
        if mn is not None:
            sql += " WHERE mn = ?"
            args = (mn,)
        return [_command(row) for row in self._db.execute(sql + " ORDER BY id", args).fetchall()]

    # --- faults and one-shot actions --------------------------------------------------------------------

    def set_fault(self, name: str, value: str) -> None:
        """Persist a fault mode; `seq` grows so the server notices a change even to the same value."""
        self._db.execute(
            "INSERT INTO faults (name, value, seq) VALUES (?, ?, 1) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value, seq = seq + 1",
            (name, value),
        )

    def faults(self) -> Mapping[str, str]:
        return dict(self._db.execute("SELECT name, value FROM faults").fetchall())

    def queue_action(self, action: str, mn: str | None = None) -> int:
        cur = self._db.execute("INSERT INTO actions (action, mn) VALUES (?, ?)", (action, mn))
        return int(cur.lastrowid or 0)

    def take_actions(self) -> list[tuple[str, str | None]]:
        """Pending one-shot actions, marked done as they are taken (only the server calls this)."""
        rows = self._db.execute("SELECT id, action, mn FROM actions WHERE done = 0 ORDER BY id").fetchall()
        if rows:
            self._db.executemany("UPDATE actions SET done = 1 WHERE id = ?", [(r[0],) for r in rows])
        return [(r[1], r[2]) for r in rows]

    # --- scenario log -----------------------------------------------------------------------------------

    def log_step(self, *, at: datetime, step: int, what: str, ok: bool, detail: str = "") -> None:
        self._db.execute(
            "INSERT INTO scenario (at, step, what, ok, detail) VALUES (?, ?, ?, ?, ?)",
            (at.isoformat(), step, what, int(ok), detail),
        )
