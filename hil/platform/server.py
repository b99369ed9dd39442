"""The reference platform: an asyncio TCP server that behaves like a regulator's HJ 212 platform.

The DAS is the TCP client and the platform the server; commands go down the same socket (hj212.md §8). Every
frame both ways is recorded (store.py). Frames are decoded strictly with the dialect configured for their MN
(never guessed); a rejected frame is recorded with its reason and, when it wants an answer and its header can be
read, answered with 9011 carrying the QnRtn of the defect. A frame with a bad CRC is never answered: its QN
cannot be trusted, and real platforms stay silent so the DAS times out and resends (docs/platform.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from uplink.hj212 import (
    CN,
    Cp,
    CrcError,
    Decoded,
    Dialect,
    Frame,
    Hj212Error,
    QnRtn,
    StreamDecoder,
    decode,
    encode,
    make_flag,
    new_qn,
    reply_9011,
    reply_9013,
    reply_9014,
    validate,
)

from .clock import Clock, SystemClock
from .commands import CommandError, build_command
from .config import MnConfig, PlatformConfig
from .faults import ACTION_NAMES, GARBAGE, FaultError, Faults
from .store import CommandRow, FrameRow, PlatformStore

log = logging.getLogger(__name__)

REPLY_CNS = frozenset({"9011", "9012", "9013", "9014"})
# Answered with 9013 (HJ 212-2017 §8 notify: 1013; 2025: 9015 heartbeat, 1001 hardware serial, 1014 key request).
NOTIFY_CNS = frozenset({"1013", "9015", "1001", "1014"})
_MN_IN_HEADER = re.compile(rb"[#;0-9]MN=([^;]{0,40});")


class PlatformError(RuntimeError):
    """A request to the platform that cannot be carried out (no such command, not running)."""


@dataclass(eq=False)
class _Conn:
    id: int
    peer: str
    writer: asyncio.StreamWriter
    decoder: StreamDecoder
    mns: set[str] = field(default_factory=set)
    closed: bool = False


@dataclass(eq=False)
class _Pending:
    """A command in flight: sent, waiting for 9011, then data and 9012 (HJ 212-2017 §6.5 command flow)."""

    command_id: int
    mn: str
    cn: str
    qn: str
    deadline: float
    new_pw: str | None = None  # for 1072: the PW the DAS will use once it succeeds
    accepted: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Platform:
    """The server. Use as `async with Platform(config, db) as p:`; `p.port` is the bound port.

    Python API for tests: `send_command` / `command`, `set_fault`, `drop`, `wait_connected`, `wait_frames`;
    `store` answers queries on what was recorded.
    """

    def __init__(
        self,
        config: PlatformConfig,
        store: PlatformStore | Path | str,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.store = store if isinstance(store, PlatformStore) else PlatformStore(store)
        self._owns_store = not isinstance(store, PlatformStore)
        self.clock: Clock = clock or SystemClock()
        self.faults = Faults()
        self.port = config.port
        self._server: asyncio.Server | None = None
        self._conns: dict[int, _Conn] = {}
        self._mn_conn: dict[str, _Conn] = {}
        self._mn_seen: dict[str, tuple[str, str]] = {}  # MN → (ST, PW) last seen, for commands to unknown MNs
        self._pending: dict[str, _Pending] = {}  # by QN
        self._passwords: dict[str, str] = {}  # MN → PW set by a successful 1072 during this run
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_qn_time = datetime.min
        self._fault_seen: Mapping[str, str] = {}
        self._change = asyncio.Event()  # set and replaced whenever something was recorded
        self._poller: asyncio.Task[None] | None = None

    # --- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        self.store.set_meta("config", self.config.model_dump(mode="json", by_alias=True))
        self.store.set_meta("started", self.clock.wall().isoformat())
        for name in list(self.store.faults()):
            self.store.set_fault(name, "off" if name != "delay" else "0")
        self._fault_seen = self.store.faults()
        self.store.take_actions()  # actions queued before this run are stale
        await self._listen()
        self._poller = asyncio.create_task(self._poll(), name="platform-control-poll")
        log.info("平台监听 / platform listening on %s:%d", self.config.host, self.port)

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        if self._server is not None:
            self._server.close()
            self._server = None
        for conn in list(self._conns.values()):
            self._close(conn, "platform stopped")
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for pending in list(self._pending.values()):
            self._finish(pending, "timeout", detail="platform stopped")
        if self._owns_store:
            self.store.close()

    async def __aenter__(self) -> Platform:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.config.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    # --- connections ------------------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[object, object, None], name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)  # type: ignore[arg-type]
        peername = writer.get_extra_info("peername")
        peer = f"{peername[0]}:{peername[1]}" if isinstance(peername, tuple) else str(peername)
        conn_id = self.store.open_connection(peer, self.clock.wall())
        conn = _Conn(conn_id, peer, writer, StreamDecoder(None, strict=False))
        self._conns[conn_id] = conn
        reason = "peer closed"
        try:
            while not conn.closed:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                for item in conn.decoder.feed(chunk):
                    try:
                        await self._receive(conn, item)
                    except (Hj212Error, sqlite3.Error) as err:
                        # One frame we cannot answer or record must not end the connection (nor the platform).
                        log.error("处理报文失败 / could not handle a frame from %s: %s", conn.peer, err)
        except (ConnectionError, OSError) as err:
            reason = f"connection error: {err}"
        except asyncio.CancelledError:
            reason = "platform stopped"
        finally:
            self._close(conn, reason)
            if task is not None:
                self._tasks.discard(task)  # type: ignore[arg-type]

    def _close(self, conn: _Conn, reason: str) -> None:
        if conn.closed and conn.id not in self._conns:
            return
        conn.closed = True
        self._conns.pop(conn.id, None)
        for mn in conn.mns:
            if self._mn_conn.get(mn) is conn:
                del self._mn_conn[mn]
        with contextlib.suppress(Exception):
            conn.writer.close()
        self.store.close_connection(conn.id, self.clock.wall(), reason)
        self._notify()

    def connected_mns(self) -> set[str]:
        return set(self._mn_conn)

    async def wait_connected(self, mn: str, timeout: float = 10.0) -> None:
        """Wait until a connection has sent a frame from `mn` (the platform learns a DAS by its frames)."""
        await self._wait_for(lambda: mn in self._mn_conn, timeout, f"MN {mn} never connected")

    async def wait_frames(
        self,
        *,
        mn: str | None = None,
        cn: str | None = None,
        direction: str = "in",
        verdict: str | None = None,
        count: int = 1,
        timeout: float = 10.0,
    ) -> list[FrameRow]:
        """Wait until at least `count` matching frames are recorded, then return all of them."""
        found: list[FrameRow] = []

        def ready() -> bool:
            nonlocal found
            found = self.store.frames(mn=mn, cn=cn, direction=direction, verdict=verdict)
            return len(found) >= count

        await self._wait_for(ready, timeout, f"fewer than {count} frames mn={mn} cn={cn} {direction}")
        return found

    async def _wait_for(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        async def wait() -> None:
            while not predicate():
                await self._change.wait()

        try:
            await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"{what} within {timeout} s") from None

    def _notify(self) -> None:
        self._change.set()
        self._change = asyncio.Event()

    # --- receiving --------------------------------------------------------------------------------------

    def _mn_config(self, mn: str | None) -> MnConfig | None:
        return None if mn is None else self.config.for_mn(mn)

    def dialect_for(self, mn: str | None) -> Dialect:
        cfg = self._mn_config(mn)
        return (cfg or self.config.dialect).dialect()

    async def _receive(self, conn: _Conn, item: Decoded | Hj212Error) -> None:
        now = self.clock.wall()
        raw = item.raw if isinstance(item, Decoded) else getattr(item, "raw", b"") or b""
        match = _MN_IN_HEADER.search(raw[:120])
        mn_hint = match[1].decode("ascii", "replace") if match else None
        dialect = self.dialect_for(mn_hint)
        record = {"at": now, "conn": conn.id, "peer": conn.peer, "direction": "in", "raw": raw, "mn": mn_hint}

        try:
            if not raw:
                raise item if isinstance(item, Hj212Error) else Hj212Error("empty frame")
            decoded = decode(raw, dialect, strict=True)
        except Hj212Error as err:
            header = self._header_of(raw, dialect)
            self._reject(conn, record, header, err, dialect)
            return
        frame = decoded.frame
        record |= _fields(frame, decoded.warnings)

        cfg = self._mn_config(frame.mn)
        try:
            if cfg is None and self.config.unknown_mn == "reject":
                raise Hj212Error(f"unknown MN {frame.mn!r} (not in the platform's list)", qn_rtn=QnRtn.MN_ERROR)
            validate(frame, expect_mn=cfg.mn if cfg else None, expect_pw=self._expected_pw(frame), dialect=dialect)
        except Hj212Error as err:
            self._reject(conn, record, frame, err, dialect)
            return

        frame_id = self.store.add_frame(verdict="accepted", **record)
        self._learn(conn, frame)
        self._match_command(frame, frame_id)
        self._notify()
        await self._answer(conn, frame, dialect)

    def _expected_pw(self, frame: Frame) -> str | None:
        """The MN's PW: configured, or the one a successful 1072 set. None (not checked) for unknown MNs.

        The answers to a 1072 in flight may carry the old PW or already the new one; both are accepted.
        """
        cfg = self._mn_config(frame.mn)
        if cfg is None:
            return None
        current = self._passwords.get(frame.mn, cfg.pw)
        pending = self._pending.get(frame.qn or "")
        if pending is not None and frame.cn in REPLY_CNS and frame.pw == pending.new_pw:
            return frame.pw
        return current

    def _header_of(self, raw: bytes, dialect: Dialect) -> Frame | None:
        """The frame as far as a lenient decode can read it, to address a 9011; None when it cannot."""
        for attempt in (dialect, None):
            try:
                return decode(raw, attempt, strict=False).frame
            except Hj212Error:
                continue
        return None

    def _reject(
        self, conn: _Conn, record: dict[str, object], header: Frame | None, err: Hj212Error, dialect: Dialect
    ) -> None:
        if header is not None and "cn" not in record:
            record |= _fields(header, ())
        self.store.add_frame(verdict="rejected", reason=str(err), qn_rtn=err.qn_rtn, **record)
        self._notify()
        if header is None or not header.wants_answer or header.cn in REPLY_CNS or isinstance(err, CrcError):
            return
        try:
            reply = reply_9011(header, err.qn_rtn, dialect)
        except Hj212Error:
            return  # a header too broken to echo (no QN): nothing sensible to answer
        self._send_answer(conn, reply, dialect)

    def _learn(self, conn: _Conn, frame: Frame) -> None:
        if frame.mn not in conn.mns:
            conn.mns.add(frame.mn)
            self.store.connection_mn(conn.id, frame.mn)
        self._mn_conn[frame.mn] = conn
        if frame.cn not in REPLY_CNS:
            self._mn_seen[frame.mn] = (frame.st, frame.pw)

    async def _answer(self, conn: _Conn, frame: Frame, dialect: Dialect) -> None:
        if frame.cn in REPLY_CNS:
            return
        if frame.wants_answer:
            if self.faults.drop_next:
                self.faults = replace(self.faults, drop_next=False)
                self.store.set_fault("drop-next", "off")
                self._fault_seen = self.store.faults()
                self._close(conn, "fault drop-next")
                return
            reply = reply_9013(frame, dialect) if frame.cn in NOTIFY_CNS else reply_9014(frame, dialect)
            self._send_answer(conn, reply, dialect)
        if frame.cn == CN.TIME_CALIBRATION_REQUEST and self.config.sync_time_on_1013:
            # HJ 212-2017 §8: after answering the DAS's 1013, the platform sets the time with 1012.
            await self.send_command(frame.mn, "set-time", source="auto")

    # --- sending ----------------------------------------------------------------------------------------

    def _send_answer(self, conn: _Conn, reply: Frame, dialect: Dialect) -> None:
        """Answers go through the withhold and delay faults; other frames do not.

        An answer that cannot be encoded (it would echo a malformed QN or PW) is not sent: the rejection is
        already recorded, and a platform never sends a frame that breaks the standard.
        """
        try:
            encode(reply, dialect)
        except Hj212Error as err:
            log.warning("无法应答 / no answer to QN=%s from %s: %s", reply.qn, conn.peer, err)
            return
        if self.faults.withhold:
            self._record_out(conn, reply, encode(reply, dialect), verdict="withheld", reason="fault withhold")
            return
        if self.faults.delay > 0:
            delay = self.faults.delay

            async def later() -> None:
                await self.clock.sleep(delay)
                if not conn.closed:
                    self._write(conn, reply, dialect, reason=f"fault delay {delay:g}s")

            self._spawn(later(), f"platform-delayed-answer-{reply.qn}")
            return
        self._write(conn, reply, dialect)

    def _write(self, conn: _Conn, frame: Frame, dialect: Dialect, reason: str | None = None) -> int:
        data = encode(frame, dialect)
        notes = [reason] if reason else []
        if self.faults.bad_crc:
            crc = int(data[-6:-2], 16) ^ 0xFFFF
            data = data[:-6] + f"{crc:04X}".encode() + data[-2:]
            notes.append("fault bad-crc")
        if self.faults.garbage:
            data = GARBAGE + data
            notes.append("fault garbage")
        with contextlib.suppress(Exception):
            conn.writer.write(data)
        return self._record_out(conn, frame, data, verdict="sent", reason="; ".join(notes) or None)

    def _record_out(self, conn: _Conn, frame: Frame, data: bytes, *, verdict: str, reason: str | None) -> int:
        return self.store.add_frame(
            at=self.clock.wall(),
            conn=conn.id,
            peer=conn.peer,
            direction="out",
            verdict=verdict,
            reason=reason,
            raw=data,
            **_fields(frame, ()),
        )

    def _new_qn(self) -> str:
        """QNs are milliseconds; two commands in one millisecond get consecutive ones so each stays unique."""
        t = max(self.clock.wall(), self._last_qn_time + timedelta(milliseconds=1))
        self._last_qn_time = t
        return new_qn(t)

    async def send_command(
        self,
        mn: str,
        kind: str,
        args: Mapping[str, object] | None = None,
        *,
        source: str = "api",
        command_id: int | None = None,
    ) -> int:
        """Send a named command (commands.py) to the DAS `mn`; returns its id in the `commands` table.

        The request carries the answer bit; the DAS should answer 9011, then data, then 9012 (hj212.md §8).
        """
        cn, cp = build_command(kind, args or {}, now=self.clock.wall())
        return self._send_request(mn, cn, cp, source=source, command_id=command_id)

    def _send_request(self, mn: str, cn: str, cp: Cp, *, source: str, command_id: int | None) -> int:
        now = self.clock.wall()
        if command_id is None:
            command_id = self.store.queue_command(mn=mn, cn=cn, cp=str(cp), source=source, at=now)
        conn = self._mn_conn.get(mn)
        if conn is None:
            self.store.update_command(
                command_id, status="no-connection", finished_at=now, detail="数采仪未连接 / DAS not connected"
            )
            self._notify()
            return command_id
        cfg = self._mn_config(mn)
        dialect = self.dialect_for(mn)
        seen_st, seen_pw = self._mn_seen.get(mn, ("32", "123456"))
        frame = Frame(
            qn=self._new_qn(),
            st=seen_st,
            cn=cn,
            pw=self._passwords.get(mn) or (cfg.pw if cfg else seen_pw),
            mn=mn,
            flag=make_flag(dialect.version, answer=True, split=False),
            cp=cp,
        )
        assert frame.qn is not None
        frame_id = self._write(conn, frame, dialect)
        self.store.link_frame(frame_id, command_id)
        self.store.update_command(command_id, status="sent", qn=frame.qn, sent_at=now)
        self._pending[frame.qn] = _Pending(
            command_id,
            mn,
            cn,
            frame.qn,
            deadline=self.clock.now() + self.config.command_timeout,
            new_pw=cp.get("NewPW") if cn == CN.SET_PASSWORD else None,
        )
        self._notify()
        return command_id

    async def wait_command(self, command_id: int, timeout: float = 30.0) -> CommandRow:
        """Wait until the command is finished (done, failed, refused, timeout, no-connection)."""
        row: CommandRow | None = None

        def finished() -> bool:
            nonlocal row
            row = self.store.command(command_id)
            return row is not None and row.finished

        await self._wait_for(finished, timeout, f"command {command_id} not finished")
        assert row is not None
        return row

    async def command(
        self, mn: str, kind: str, args: Mapping[str, object] | None = None, *, timeout: float = 30.0
    ) -> CommandRow:
        """Send a command and wait for its outcome."""
        return await self.wait_command(await self.send_command(mn, kind, args), timeout)

    # --- command answers --------------------------------------------------------------------------------

    def _match_command(self, frame: Frame, frame_id: int) -> _Pending | None:
        """Link a DAS frame to the command it answers: replies by QN, data by MN and CN after a 9011."""
        pending = self._pending.get(frame.qn or "") if frame.cn in REPLY_CNS else None
        if pending is None and frame.cn not in REPLY_CNS:
            pending = next(
                (p for p in self._pending.values() if p.accepted and p.mn == frame.mn and p.cn == frame.cn), None
            )
            if pending is not None:
                pending.deadline = self.clock.now() + self.config.command_timeout
        if pending is None:
            return None
        self.store.link_frame(frame_id, pending.command_id)
        if frame.cn == CN.REQUEST_ANSWER:
            qn_rtn = _int_or_none(frame.cp.get("QnRtn"))
            if qn_rtn == QnRtn.READY:
                pending.accepted = True
                pending.deadline = self.clock.now() + self.config.command_timeout
                self.store.update_command(pending.command_id, status="accepted", qn_rtn=qn_rtn)
            else:
                self.store.update_command(pending.command_id, qn_rtn=qn_rtn)
                self._finish(pending, "refused", detail=f"QnRtn={frame.cp.get('QnRtn')}")
        elif frame.cn == CN.EXECUTION_RESULT:
            exe_rtn = _int_or_none(frame.cp.get("ExeRtn"))
            self.store.update_command(pending.command_id, exe_rtn=exe_rtn)
            self._finish(pending, "done" if exe_rtn == 1 else "failed", detail=f"ExeRtn={frame.cp.get('ExeRtn')}")
        elif frame.cn == CN.NOTIFY_ANSWER:
            self._finish(pending, "done", detail="9013")
        return pending

    def _finish(self, pending: _Pending, status: str, *, detail: str) -> None:
        self._pending.pop(pending.qn, None)
        if status == "done" and pending.new_pw is not None:
            self._passwords[pending.mn] = pending.new_pw  # the DAS now signs with it (HJ 212-2017 1072)
        self.store.update_command(pending.command_id, status=status, finished_at=self.clock.wall(), detail=detail)
        pending.done.set()
        self._notify()

    # --- faults and control -----------------------------------------------------------------------------

    async def set_fault(self, name: str, value: str | bool | float) -> None:
        """Switch a fault mode (faults.py), the same way `das platform fault` does through the store."""
        text = {True: "on", False: "off"}.get(value, str(value)) if isinstance(value, bool) else str(value)
        new = self.faults.with_value(name, text)
        self.store.set_fault(name, text)
        self._fault_seen = self.store.faults()
        await self._apply_faults(new)

    async def _apply_faults(self, new: Faults) -> None:
        old, self.faults = self.faults, new
        if new.refuse and not old.refuse and self._server is not None:
            self._server.close()  # new connects get ECONNREFUSED; open ones stay (use `drop` for those)
            self._server = None
        elif not new.refuse and old.refuse:
            await self._listen()
        if new != old:
            log.warning("故障模式 / fault modes: %s", new.describe())

    def drop(self, mn: str | None = None) -> int:
        """Close the connections of `mn` (all when None) now; returns how many were closed."""
        victims = [c for c in self._conns.values() if mn is None or mn in c.mns]
        for conn in victims:
            self._close(conn, "fault drop")
        return len(victims)

    async def _poll(self) -> None:
        """Control from other processes: queued commands, fault modes and actions in the SQLite file."""
        while True:
            try:
                await self._poll_once()
            except (FaultError, Hj212Error, ValueError, sqlite3.Error) as err:
                log.error("控制表错误 / bad control entry: %s", err)
            await self.clock.sleep(self.config.poll_interval)

    async def _poll_once(self) -> None:
        for row, kind, args in self.store.queued_commands():
            try:
                cn, cp = build_command(kind, args, now=self.clock.wall()) if kind else (row.cn, Cp.parse(row.cp_text))
                if kind:
                    self.store.update_command(row.id, cp=str(cp))
                self._send_request(row.mn, cn, cp, source=row.source, command_id=row.id)
            except (Hj212Error, CommandError) as err:
                self.store.update_command(row.id, status="failed", finished_at=self.clock.wall(), detail=str(err))
        faults = self.store.faults()
        if faults != self._fault_seen:
            self._fault_seen = faults
            new = Faults()
            for name, value in faults.items():
                new = new.with_value(name, value)
            await self._apply_faults(new)
        for action, mn in self.store.take_actions():
            if action in ACTION_NAMES:
                self.drop(mn)
        now = self.clock.now()
        for pending in [p for p in self._pending.values() if p.deadline <= now]:
            waited = "9012" if pending.accepted else "9011"
            self._finish(pending, "timeout", detail=f"{waited} 超时 / no {waited} in time")


def _int_or_none(text: str | None) -> int | None:
    try:
        return None if text is None else int(text)
    except ValueError:
        return None


def _fields(frame: Frame, warnings: tuple[str, ...]) -> dict[str, object]:
    return {
        "mn": frame.mn,
        "cn": frame.cn,
        "qn": frame.qn,
        "st": frame.st,
        "pw": frame.pw,
        "flag": frame.flag,
        "pnum": frame.pnum,
        "pno": frame.pno,
        "rf": frame.rf,
        "data_time": frame.cp.get("DataTime"),
        "cp": str(frame.cp),
        "warnings": warnings,
    }
