"""One HJ 212 platform session: one (platform, outlet) pair, one TCP connection, one outbox target.

The session owns all I/O (style.md §1; the codec in `uplink.hj212` is pure): the socket, the stream decoder, QN
generation, the OverTime/ReCount timers, reconnects, the 9015 heartbeat and the outbox. Rules it follows:

- An outbox item is done only when the platform answered every packet of it with a 9014 carrying that packet's
  QN (a record longer than `split_limit` goes as PNUM/PNO parts, each acked on its own). For a platform
  configured without answers (`want_answer = false`) an item is done once written and the connection stayed
  healthy (no close, no error) for `no_answer_grace_s` after it.
- HJ 212-2017 §6.2 / Table 1: a packet with no answer within OverTime is resent (same QN, so a late 9014 of
  the first copy still counts), up to ReCount times; then "视为通讯不可用，通讯结束": the connection is closed,
  the item stays pending, and the session reconnects with backoff.
- A 9014 must match a QN in flight; a stray or late one is counted and ignored. A corrupted answer (bad CRC)
  is not an answer: the packet times out and is resent.
- What is sent next: live items (data newer than `live_age_s`) first, the backlog oldest first, interleaved by
  `backlog_share` (scheduler.py). In 2025 an item goes with RF=1 (§8.1.2 补传) when its on-time upload
  failed (`is_resend`): sent before without an ack, due while no link was usable and the link came up
  more than OverTime × (1 + ReCount) later, or backlog that waited in the outbox longer than `live_age_s`.
  A fresh start that connects promptly sends RF=0; an hour or day record sent on time is not a resend.
- Requests from the platform (anything that is not 9011-9014) go to the command handler with a
  `SessionContext`; without a handler they are refused with 9011 QnRtn=2.
- Logs record transitions: one WARNING when the platform goes down, one INFO when it is back.
- Time (`time_sync`, turned on by `das run`): a DAS sees its clock's drift only against a reference, and the
  reference here is the platform's 1012. The session asks for one with a 1013 on every connection (HJ 212-2017
  §6.7: the time is set first when a link starts) and again whenever the clock may have drifted past
  `clock_drift_limit_s` since the last request: at HJ 477's ±0.5 ‰ that is `clock_drift_limit_s / 0.0005`
  seconds (30 s → 16 h 40 min), at most a day. Off by default, so a bare session (`das uplink test`, protocol
  tests) sends only what it is given.
- Identity (HJ 212-2025 §4, hj212-2025.md): with the DAS's identity (`identity`, from `[site] das_id`) a 2025
  session sends 1001 (i23005-i23008) on connect while its MN is empty (not assigned yet) or, with
  `send_identity = "on_connect"`, on every connection; the platform answers 9013 and assigns the MN with a 1002
  (answered by the command handler). While the MN is empty nothing is uploaded: the items wait for the MN.
- SM4 key (HJ 212-2025 §6.4.3: keys rotate every 90 days, the DAS asks for the next one ahead of time): an
  encrypting 2025 session sends 1014 `SKCreateTime` once `key_request_lead_days` are left of the key's
  `key_rotation_days`, and again a day later while no new key came; the platform's 1014 set stores the key with
  its creation time (settings table). A key of unknown age is counted from its first use, recorded then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module

from agent.logs import Flood
from agent.model import RecordKind
from buffer import DEFAULT_PRIORITY, OutboxItem, Store
from buffer.outbox import PAYLOAD_PRIORITY
from drivers.clock import Clock, MonotonicClock
from uplink.commands import DasIdentity, log_undecodable
from uplink.commands.identity import request_new_key, send_hardware_sn
from uplink.commands.systemtime import request_time_calibration
from uplink.connect import Backoff, ConnectError, Connector
from uplink.context import RequestHandler, SessionContext
from uplink.cp_build import is_power_record, is_process_record, parse_payload, record_cn, record_st, record_to_cp
from uplink.hj212 import (
    CN,
    REPLY_CNS,
    Cp,
    Decoded,
    Frame,
    Hj212Error,
    QnRtn,
    StreamDecoder,
    encode,
    new_qn,
    reply_9011,
    split,
)
from uplink.scheduler import Interleave
from uplink.services import AgentClock, Services
from uplink.settings import PlatformSettings, SettingKey, apply_setting

log = logging.getLogger(__name__)

_BACKLOG_BATCH = 256  # backlog items fetched at once (a refill counts the outbox: O(n))
_CLOCK_RATE = 0.5e-3  # HJ 477: DAS clock error ≤ ±0.5 ‰ (regs.md §1)
_TIME_SYNC_MAX_S = 86400.0  # ask for a time set at least once a day
_WINDOW = {
    RecordKind.HOUR.value: timedelta(hours=1),
    RecordKind.DAY.value: timedelta(days=1),
    RecordKind.RUNTIME_DAY.value: timedelta(days=1),
}  # a record's window length (the minute window is the session's MinInterval)
_REJECTED_SUMMARY_S = 600.0  # a platform that keeps refusing uploads: one summary line per 10 min at most
_BAD_FRAME_SUMMARY_S = 600.0  # undecodable frames: one WARNING, then one line per 10 min at most
_KEY_RETRY = timedelta(days=1)  # a 1014 request that brought no key is repeated after a day
_QN_RTN_TEXT = {
    2: "请求被拒绝 / request refused",
    3: "密码错误 / wrong password (PW)",
    4: "MN 错误 / MN unknown to the platform",
    5: "ST 错误 / wrong system code (ST)",
    6: "Flag 错误 / Flag (protocol version?) rejected",
    7: "QN 错误 / QN rejected",
    8: "CN 错误 / CN rejected",
    9: "CRC 错误 / platform reports a CRC error",
    100: "未知错误 / unknown error",
}


def qn_rtn_text(qn_rtn: int) -> str:
    return _QN_RTN_TEXT.get(qn_rtn, f"QnRtn={qn_rtn}")


class LinkDown(Exception):
    """The link is unusable (closed, ReCount exhausted, refused by the platform): reconnect."""


class Rejected(LinkDown):
    """The platform answered an upload with 9011 QnRtn ≠ 1 (wrong PW, unknown MN …)."""

    def __init__(self, qn_rtn: int, qn: str) -> None:
        self.qn_rtn = qn_rtn
        super().__init__(f"平台拒绝 QN={qn}: {qn_rtn_text(qn_rtn)} (QnRtn={qn_rtn})")


@dataclass(frozen=True, slots=True)
class SessionStatus:
    """What the status page and `das uplink status` show per session."""

    target: str
    platform: str
    outlet: str
    mn: str
    state: str  # starting / up / down / stopped
    connected: bool  # a TCP connection is open now
    since: datetime | None  # when `state` last changed (agent clock)
    last_ack: datetime | None
    backlog: int
    oldest_data_time: datetime | None
    oldest_age: timedelta | None  # how long the oldest pending item has waited in the outbox
    rtt_s: float | None  # last round trip (send → 9014), timer seconds
    rtt_avg_s: float | None
    sent: int
    acked: int
    timeouts: int
    reconnects: int
    stray_answers: int
    bad_frames: int
    last_error: str | None


@dataclass(eq=False)
class _Link:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    down: asyncio.Event
    reason: str | None = None
    answered: bool = False  # at least one answer (or a confirmed no-answer send) on this link
    rejected: bool = False

    def fail(self, reason: str) -> None:
        if self.down.is_set():
            return
        self.reason = reason
        self.down.set()
        with contextlib.suppress(Exception):
            self.writer.close()


def default_handler() -> RequestHandler | None:
    """`uplink.commands.CommandHandler()` when that package is there (it is built in parallel), else None."""
    try:
        module = import_module("uplink.commands")
        handler = module.CommandHandler()
    except (ImportError, AttributeError, TypeError):
        return None
    return handler if isinstance(handler, RequestHandler) else None


def _persist_hook() -> Callable[[PlatformSettings, Store, str, str, str], PlatformSettings] | None:
    """`uplink.overrides.persist_setting` (checks, stores durably, returns the applied settings) when present."""
    try:
        return import_module("uplink.overrides").persist_setting  # type: ignore[no-any-return]
    except (ImportError, AttributeError):
        return None


class PlatformSession:
    """The session of one outlet on one platform. `start()`, `wake()` after enqueueing, `stop()`, `status()`."""

    def __init__(
        self,
        settings: PlatformSettings,
        outlet: str,
        store: Store,
        *,
        clock: AgentClock,
        timer: Clock | None = None,
        services: Services | None = None,
        handler: RequestHandler | None = None,
        decimals: Mapping[str, int] | None = None,
        idle_poll_s: float = 1.0,
        rng: Callable[[], float] | None = None,
    ) -> None:
        if outlet not in settings.mns:
            raise ValueError(f"platform {settings.name} has no MN for outlet {outlet!r}")
        self._settings = settings
        self.outlet = outlet
        self.target = settings.target(outlet)
        self.store = store
        self.clock = clock
        self.timer: Clock = timer or MonotonicClock()
        self.services = services or Services(clock=clock)
        self.handler = handler
        self.idle_poll_s = idle_poll_s
        backoff = Backoff(settings.backoff_min_s, settings.backoff_max_s, **({"rng": rng} if rng else {}))
        self._connector = Connector(
            settings.host, settings.port, self.timer, timeout=settings.connect_timeout_s, backoff=backoff
        )
        self._interleave = Interleave(settings.backlog_share)
        self.context = SessionContext(
            target=self.target,
            outlet=outlet,
            settings=lambda: self._settings,
            store=store,
            now=clock.now,
            new_qn=self._new_qn,
            sender=self._ctx_send,
            setting_updater=self._update_setting,
            services=self.services,
            decimals=decimals,
        )
        self.time_sync = False  # 1013 on each link and after the drift budget (module docstring)
        self.identity: DasIdentity | None = None  # 2025 1001 on connect (module docstring)
        self.key_check_s = 3600.0  # timer seconds between looks at the SM4 key's age
        self._key_asked: datetime | None = None  # agent time of the last 1014 request
        self._task: asyncio.Task[None] | None = None
        self._link: _Link | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._waiting: dict[str, asyncio.Future[Frame]] = {}
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._commands: set[asyncio.Task[None]] = set()
        self._backlog: deque[OutboxItem] = deque()
        self._skip: set[int] = set()  # items that cannot be sent now (bad value, kind off): logged once
        self._unconfirmed: deque[tuple[int, float]] = deque()  # no-answer platforms: (item id, written at)
        self._held: set[int] = set()  # ids in _unconfirmed
        # priority classes seen in this outbox (the store's defaults, plus any met in backlog_stats)
        self._classes: set[int] = {*DEFAULT_PRIORITY.values(), PAYLOAD_PRIORITY}
        self._last_qn = datetime.min
        self._link_since = datetime.min  # agent time the current link opened
        self._last_write = 0.0
        self._decoder: StreamDecoder | None = None
        # status
        self._state = "starting"
        self._since: datetime | None = None
        self._last_ack: datetime | None = None
        self._rtt: float | None = None
        self._rtt_avg: float | None = None
        self._sent = self._acked = self._timeouts = self._reconnects = self._stray = self._bad = 0
        self._last_error: str | None = None
        self._bad_logged_at: float | None = None  # timer time of the last undecodable-frame WARNING
        self._bad_unlogged = 0
        self._rejections = Flood(log, summary_s=_REJECTED_SUMMARY_S, monotonic=self.timer.now)

    # --- settings -------------------------------------------------------------------------------------------
    @property
    def settings(self) -> PlatformSettings:
        return self._settings

    @property
    def mn(self) -> str:
        return self._settings.mns[self.outlet]

    @property
    def link_state(self) -> str:
        """`starting`, `up`, `down` or `stopped`, as `status().state` but without its store query."""
        return self._state

    @property
    def connected(self) -> bool:
        """A TCP connection is open now."""
        link = self._link
        return link is not None and not link.down.is_set()

    async def _update_setting(self, key: str, value: str) -> None:
        """Check, persist (before the platform hears ExeRtn 1) and apply an override; ValueError if it does not fit."""
        hook = _persist_hook()
        if hook is not None:
            new = hook(self._settings, self.store, self.outlet, key, value)
        else:
            new = apply_setting(self._settings, self.outlet, key, value)
        self._settings = new
        if key == SettingKey.SM4_KEY and self._decoder is not None:
            self._decoder.dialect = new.dialect
        if key == SettingKey.MN:
            self._wake.set()  # items that waited for an MN go now
        shown = "***" if key in (SettingKey.PW, SettingKey.SM4_KEY) else value
        log.info("%s: 平台修改设置 / platform set %s = %s", self.target, key, shown)

    def adopt(self, settings: PlatformSettings) -> None:
        """Settings changed (and persisted) outside this session's commands: a system-wide value such as the
        MinInterval another platform set (`UplinkManager.share_setting`)."""
        self._settings = settings
        if self._decoder is not None:
            self._decoder.dialect = settings.dialect

    # --- lifecycle ------------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"uplink-session-{self.target}")

    def wake(self) -> None:
        """Something was enqueued for this target: look at the outbox now instead of at the next poll."""
        self._wake.set()

    async def stop(self, budget: float = 5.0) -> None:
        """Staged shutdown: stop picking items, wait for in-flight answers up to `budget` s, then close.

        Whatever is not acked by then stays pending in the outbox and goes first after the next start.
        """
        self._stopping = True
        self._wake.set()
        if self._inflight:
            with contextlib.suppress(TimeoutError):
                async with self.timer.timeout(budget):
                    while self._inflight:
                        await asyncio.gather(*list(self._inflight.values()), return_exceptions=True)
        if self._inflight:
            log.warning(
                "%s: %d 个包未获应答, 保留待发 / unanswered at stop, kept pending", self.target, len(self._inflight)
            )
        if self._link is not None:
            self._link.fail("stopped")
        await self._connector.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._state = "stopped"

    async def _run(self) -> None:
        while not self._stopping:
            try:
                reader, writer = await self._connector.connect()
            except ConnectError as err:
                self._went_down(str(err))
                continue
            link = _Link(reader, writer, asyncio.Event())
            self._link = link
            self._reconnects += 1
            try:
                await self._serve(link)
            finally:
                self._link = None
            if link.answered and not link.rejected:
                self._connector.succeeded()
            else:
                self._connector.failed()  # no answer at all on that link: back off as for a failed connect
            if not self._stopping:
                self._went_down(link.reason or "closed")

    def _went_down(self, reason: str) -> None:
        self._last_error = reason
        if self._state != "down":
            if self._state == "up":
                log.warning("%s: 平台断开 / platform down: %s", self.target, reason)
            else:
                log.warning("%s: 平台不可用 / platform unavailable: %s", self.target, reason)
            self._state = "down"
            self._since = self.clock.now()
        else:
            log.debug("%s: 仍不可用 / still down: %s", self.target, reason)

    def _went_up(self) -> None:
        if self._state != "up":
            was = self._since
            self._since = self.clock.now()
            if self._state == "down" and was is not None:
                log.info("%s: 平台恢复 / platform back after %s", self.target, self._since - was)
            else:
                log.info("%s: 已连接 / connected to %s:%d", self.target, self._settings.host, self._settings.port)
            self._state = "up"

    async def _serve(self, link: _Link) -> None:
        self._backlog.clear()  # items that failed on the last link come back in order
        self._unconfirmed.clear()
        self._held.clear()
        self._link_since = self.clock.now()
        settings = self._settings
        tasks = [
            asyncio.create_task(self._read(link), name=f"uplink-read-{self.target}"),
            asyncio.create_task(self._send_loop(link), name=f"uplink-send-{self.target}"),
        ]
        if settings.heartbeat is not None:
            tasks.append(asyncio.create_task(self._heartbeat(link), name=f"uplink-heartbeat-{self.target}"))
        if not settings.want_answer:
            tasks.append(asyncio.create_task(self._confirm(link), name=f"uplink-confirm-{self.target}"))
        if self.time_sync:
            tasks.append(asyncio.create_task(self._time_sync(link), name=f"uplink-timesync-{self.target}"))
        if settings.version == 2025 and settings.encrypt:
            tasks.append(asyncio.create_task(self._key_rotation(link), name=f"uplink-sm4key-{self.target}"))
        if self.wants_identity():
            tasks.append(asyncio.create_task(self._announce(link), name=f"uplink-identity-{self.target}"))
        elif not self.mn:
            log.warning("%s: MN 未分配, 上传等待平台 1002 / no MN yet: uploads wait for a 1002", self.target)
        for task in tasks:
            task.add_done_callback(lambda t, link=link: self._task_ended(t, link))
        try:
            await link.down.wait()
        finally:
            link.fail(link.reason or "closed")
            rest = [*tasks, *self._inflight.values(), *self._commands]
            for task in rest:
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)
            for fut in self._waiting.values():
                fut.cancel()
            self._waiting.clear()

    def _task_ended(self, task: asyncio.Task[None], link: _Link) -> None:
        if task.cancelled():
            return
        err = task.exception()
        if err is not None:
            log.error("%s: %s 出错 / %s failed: %r", self.target, task.get_name(), task.get_name(), err, exc_info=err)
            link.fail(f"internal error in {task.get_name()}: {err!r}")

    # --- reading --------------------------------------------------------------------------------------------
    async def _read(self, link: _Link) -> None:
        self._decoder = decoder = StreamDecoder(self._settings.dialect, strict=False)
        try:
            while not link.down.is_set():
                chunk = await link.reader.read(65536)
                if not chunk:
                    link.fail("平台关闭连接 / connection closed by the platform")
                    return
                for item in decoder.feed(chunk):
                    self._dispatch(link, item)
        except (ConnectionError, OSError) as err:
            link.fail(f"读取错误 / read error: {err}")

    def _dispatch(self, link: _Link, item: Decoded | Hj212Error) -> None:
        if isinstance(item, Hj212Error):
            self._bad += 1
            self._last_error = f"平台报文无法解析 / bad frame from platform: {item}"
            self._log_bad_frame(item)
            return
        frame = item.frame
        if frame.cn in REPLY_CNS:
            fut = self._waiting.get(frame.qn or "")
            if fut is not None and not fut.done():
                fut.set_result(frame)
            else:
                self._stray += 1
                log.debug(
                    "%s: 多余或迟到的应答, 忽略 / stray or late CN=%s QN=%s ignored", self.target, frame.cn, frame.qn
                )
            return
        self._request(link, frame)

    def _log_bad_frame(self, err: Hj212Error) -> None:
        """A bad CRC or broken framing: one WARNING (`log_undecodable`), then at most one per summary period with
        the count in between; a line noise burst or a platform with a wrong SM4 key cannot flood the log."""
        now = self.timer.now()
        if self._bad_logged_at is None or now - self._bad_logged_at >= _BAD_FRAME_SUMMARY_S:
            log_undecodable(err, self.context, err.raw or b"", repeated=self._bad_unlogged)
            self._bad_logged_at = now
            self._bad_unlogged = 0
        else:
            self._bad_unlogged += 1
            log.debug("%s: 坏帧, 忽略 / bad frame ignored: %s", self.target, err)

    def _request(self, link: _Link, frame: Frame) -> None:
        handler = self.handler
        if handler is None:
            if frame.wants_answer and frame.qn is not None:
                with contextlib.suppress(Hj212Error):
                    self._write_now(
                        link, encode(reply_9011(frame, QnRtn.REJECTED, self._settings.dialect), self._settings.dialect)
                    )
            return

        async def handle() -> None:
            try:
                await handler.handle(frame, self.context)
            except asyncio.CancelledError:
                raise
            except Exception as err:  # a handler bug must not take the session down
                log.error("%s: 命令处理失败 / handler failed on CN=%s: %r", self.target, frame.cn, err, exc_info=err)

        task = asyncio.create_task(handle(), name=f"uplink-command-{self.target}-{frame.cn}-{frame.qn}")
        self._commands.add(task)
        task.add_done_callback(self._commands.discard)

    # --- writing and exchanges ------------------------------------------------------------------------------
    def _write_now(self, link: _Link, data: bytes) -> None:
        if link.down.is_set():
            raise LinkDown(link.reason or "closed")
        link.writer.write(data)
        self._last_write = self.timer.now()

    async def _write(self, link: _Link, data: bytes) -> None:
        self._write_now(link, data)
        try:
            await link.writer.drain()
        except (ConnectionError, OSError) as err:
            raise LinkDown(f"写入错误 / write error: {err}") from err

    def _new_qn(self) -> str:
        """17-digit agent time, unique per session: a collision within one millisecond bumps it by 1 ms."""
        now = self.clock.now()
        t = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if t <= self._last_qn:
            t = self._last_qn + timedelta(milliseconds=1)
        self._last_qn = t
        return new_qn(t)

    async def _exchange(self, link: _Link, frame: Frame, data: bytes) -> Frame:
        """Send and wait for the answer with this QN: OverTime per try, ReCount resends (Table 1)."""
        qn = frame.qn or ""
        fut: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._waiting[qn] = fut
        settings = self._settings
        try:
            for _ in range(1 + settings.re_count):
                sent_at = self.timer.now()
                await self._write(link, data)
                self._sent += 1
                try:
                    async with self.timer.timeout(settings.over_time):
                        answer = await asyncio.shield(fut)
                except TimeoutError:
                    self._timeouts += 1
                    continue
                self._note_rtt(self.timer.now() - sent_at)
                link.answered = True
                if answer.cn == CN.REQUEST_ANSWER:
                    try:
                        qn_rtn = int(answer.cp.get("QnRtn") or 100)
                    except ValueError:
                        qn_rtn = 100
                    if qn_rtn != QnRtn.READY:
                        link.rejected = True
                        raise Rejected(qn_rtn, qn)
                self._went_up()
                self._rejections.ok(
                    "rejected", "upload_accepted", f"{self.target}: 平台已接受上传 / uploads accepted again"
                )
                return answer
            raise LinkDown(
                f"QN={qn}: {1 + settings.re_count} 次发送均无应答 / no answer to {1 + settings.re_count} sends "
                f"(OverTime {settings.over_time:g} s, ReCount {settings.re_count})"
            )
        finally:
            self._waiting.pop(qn, None)
            if not fut.done():
                fut.cancel()

    def _note_rtt(self, rtt: float) -> None:
        self._rtt = rtt
        self._rtt_avg = rtt if self._rtt_avg is None else 0.8 * self._rtt_avg + 0.2 * rtt

    async def _ctx_send(self, frame: Frame, await_answer: bool) -> bool:
        """The command handler's way out: split when needed, same timers and link as uploads."""
        link = self._link
        if link is None or link.down.is_set():
            return False
        dialect = self._settings.dialect
        try:
            parts = [frame] if frame.pnum is not None else split(frame, dialect.split_limit, self._new_qn)
            for part in parts:
                data = encode(part, dialect)
                if await_answer:
                    await self._exchange(link, part, data)
                else:
                    await self._write(link, data)
        except LinkDown as err:
            link.fail(str(err))
            return False
        except Hj212Error as err:
            log.error("%s: 无法编码应答 / cannot encode CN=%s: %s", self.target, frame.cn, err)
            return False
        return True

    # --- choosing and sending items -------------------------------------------------------------------------
    def _kind_allowed(self, kind: str) -> bool:
        up = self._settings.upload
        v2025 = self._settings.version == 2025
        allowed = {
            RecordKind.RTD.value: up.rtd,
            RecordKind.MINUTE.value: up.minute,
            RecordKind.HOUR.value: up.hour,
            RecordKind.DAY.value: up.day,
            RecordKind.RUNTIME_DAY.value: up.runtime,
            RecordKind.STATE.value: up.state,
            CN.RESTART_TIME.value: up.restart,
            CN.GET_INSTRUMENT_SN.value: up.instrument_sn,
            CN.SITE_INFO.value: up.site_info,
            CN.STANDARD_CHECK_DATA.value: up.standard_check and v2025,
        }
        return allowed.get(kind, True)

    def _live_since(self) -> datetime:
        return self.clock.now() - timedelta(seconds=self._settings.live_age_s)

    def _next_live(self, live_since: datetime) -> OutboxItem | None:
        """One query per priority class: equality on the class keeps it an index seek on a large backlog."""
        busy = len(self._inflight) + len(self._skip) + len(self._unconfirmed) + 4
        for priority in sorted(self._classes):
            for item in self.store.pending(self.target, busy, priority=priority, since=live_since):
                if self._busy(item.id):
                    continue
                if not self._kind_allowed(item.kind):
                    self._skip.add(item.id)
                    continue
                return item
        return None

    def _busy(self, item_id: int) -> bool:
        """In flight, written and waiting out the no-answer grace, or not sendable this run."""
        return item_id in self._inflight or item_id in self._held or item_id in self._skip

    def _refill_backlog(self, live_since: datetime) -> None:
        """The oldest backlog items over all priority classes ("oldest first", issue 5.3)."""
        stats = self.store.backlog_stats(self.target)
        self._classes.update(stats.by_priority)
        if stats.oldest_data_time is None or stats.oldest_data_time >= live_since:
            return
        items: list[OutboxItem] = []
        for priority in stats.by_priority:
            items += self.store.pending(self.target, _BACKLOG_BATCH, priority=priority, before=live_since)
        items.sort(key=lambda i: (i.data_time, i.priority, i.id))
        self._backlog.extend(i for i in items[:_BACKLOG_BATCH] if not self._busy(i.id))

    def _next_backlog(self, live_since: datetime) -> OutboxItem | None:
        for _ in range(2):
            while self._backlog:
                item = self._backlog[0]
                if self._busy(item.id):
                    self._backlog.popleft()
                    continue
                if not self._kind_allowed(item.kind):
                    self._skip.add(item.id)
                    self._backlog.popleft()
                    continue
                return item
            self._refill_backlog(live_since)
        return None

    def _pick(self) -> tuple[OutboxItem, bool] | None:
        if not self.mn:
            return None  # HJ 212-2025 §4: no MN assigned yet (1001 sent, 1002 awaited); a packet without one is void
        live_since = self._live_since()
        live = self._next_live(live_since)
        backlog = self._next_backlog(live_since)
        choice = self._interleave.choose(live is not None, backlog is not None)
        if choice == "live" and live is not None:
            return live, False
        if choice == "backlog" and backlog is not None:
            self._backlog.popleft()
            return backlog, True
        return None

    async def _send_loop(self, link: _Link) -> None:
        slots = asyncio.Semaphore(self._settings.window)
        while not link.down.is_set() and not self._stopping:
            await slots.acquire()
            self._wake.clear()
            picked = None if self._stopping else self._pick()
            if picked is None:
                slots.release()
                with contextlib.suppress(TimeoutError):
                    async with self.timer.timeout(self.idle_poll_s):
                        await self._wake.wait()
                continue
            item, backlog = picked
            task = asyncio.create_task(
                self._deliver(link, item, backlog, slots), name=f"uplink-item-{self.target}-{item.id}"
            )
            self._inflight[item.id] = task
            task.add_done_callback(lambda _t, i=item.id: self._inflight.pop(i, None))

    def _frames(self, item: OutboxItem, resend: bool) -> list[tuple[Frame, bytes]] | None:
        """The packets of one item, encoded; None (logged once, item skipped this run) when it cannot be sent."""
        settings = self._settings
        try:
            if item.record_id is not None:
                record = self.store.get_record(item.record_id)
                if record is None:
                    raise ValueError(f"record {item.record_id} is gone")
                special = is_power_record(record) or is_process_record(record)
                if special and (settings.version != 2025 or not settings.upload.power):
                    self._skip.add(item.id)  # ST 44/45 exist only in HJ 212-2025
                    return None
                cn, st = record_cn(record).value, record_st(record, settings.st)
                cp = record_to_cp(record, self.context.decimals)
            else:
                payload = parse_payload(item.payload or "")
                cn, st, cp = payload.cn, payload.st or settings.st, payload.cp
            frame = self.context.data_frame(cn, cp, answer=settings.want_answer, st=st, rf=resend)
            dialect = settings.dialect
            return [(part, encode(part, dialect)) for part in split(frame, dialect.split_limit, self._new_qn)]
        except (Hj212Error, ValueError) as err:
            self._skip.add(item.id)
            log.error("%s: 无法发送 / cannot send outbox item %d (%s): %s", self.target, item.id, item.kind, err)
            with contextlib.suppress(Exception):
                self.store.mark_sent(item.id, at=self.clock.now(), error=f"cannot encode: {err}")
            return None

    def unusable_grace(self) -> timedelta:
        """How long a link may take to (re)open before the items due meanwhile count as failed: one packet's whole
        try, OverTime × (1 + ReCount), after which HJ 212-2017 §6.2 / Table 1 deems the communication unavailable."""
        settings = self._settings
        return timedelta(seconds=settings.over_time * (1 + settings.re_count))

    def is_resend(self, item: OutboxItem, backlog: bool) -> bool:
        """补传 (RF=1, HJ 212-2025 §8): the item's on-time upload failed. That is: it was sent before without an
        ack; or it was due (`due_at`) while this target had no usable link, and the link came up more than
        `unusable_grace` after it; or it is backlog that waited in the outbox longer than `live_age_s`.

        A fresh start whose link comes up promptly sends its first items with RF=0; an old DataTime alone is no
        resend (an hour or day record is a window start, older than `live_age_s` when made, yet sent on time)."""
        if item.attempts > 0:
            return True
        if self._link_since - self.due_at(item) > self.unusable_grace():
            return True
        return backlog and item.enqueued_at < self._live_since()

    def due_at(self, item: OutboxItem) -> datetime:
        """When the item was due for upload: when it was enqueued, or the end of its window if that came first
        (a record made late, say of a week spent without power, was due at its window's end, not at its
        making). A record's window starts at its DataTime; an event (2081, 3019 …) is due at its DataTime."""
        window = _WINDOW.get(item.kind)
        if window is None:
            window = timedelta(minutes=self._settings.min_interval) if item.kind == RecordKind.MINUTE else timedelta()
        return min(item.enqueued_at, item.data_time + window)

    async def _deliver(self, link: _Link, item: OutboxItem, backlog: bool, slots: asyncio.Semaphore) -> None:
        try:
            resend = self.is_resend(item, backlog)
            frames = self._frames(item, resend)
            if frames is None:
                return
            self.store.mark_sent(item.id, at=self.clock.now(), qn=frames[0][0].qn)
            if not self._settings.want_answer:
                for _, data in frames:
                    await self._write(link, data)
                    self._sent += 1
                self._unconfirmed.append((item.id, self.timer.now()))
                self._held.add(item.id)
                return
            for frame, data in frames:
                await self._exchange(link, frame, data)
            self._ack(item.id)
        except Rejected as err:
            self._last_error = str(err)
            # a wrong PW or MN is refused on every reconnect: one ERROR, repeats at DEBUG and a periodic summary
            if not self._rejections.fail(
                "rejected", "upload_rejected", f"{self.target}: 上传被拒 / upload rejected: {err}", qn_rtn=err.qn_rtn
            ):
                log.debug("%s: 上传仍被拒 / upload rejected again: %s", self.target, err)
            with contextlib.suppress(Exception):
                self.store.mark_sent(item.id, at=self.clock.now(), error=str(err))
            link.fail(str(err))
        except LinkDown as err:
            link.fail(str(err))
        finally:
            slots.release()

    def _ack(self, item_id: int) -> None:
        now = self.clock.now()
        self.store.ack(item_id, at=now)
        self._acked += 1
        self._last_ack = now

    async def _confirm(self, link: _Link) -> None:
        """No-answer platforms: an item is done once written and the link stayed healthy for the grace period."""
        grace = self._settings.no_answer_grace_s
        while not link.down.is_set():
            if not self._unconfirmed:
                await self.timer.sleep(min(grace, self.idle_poll_s) or self.idle_poll_s)
                continue
            due = self._unconfirmed[0][1] + grace - self.timer.now()
            if due > 0:
                await self.timer.sleep(due)
                continue
            if link.down.is_set():
                return
            item_id, _ = self._unconfirmed.popleft()
            self._held.discard(item_id)
            self._ack(item_id)
            link.answered = True
            self._went_up()

    async def _heartbeat(self, link: _Link) -> None:
        """HJ 212-2025 9015 when nothing was written for `heartbeat_s`; a missing 9013 counts like any timeout."""
        interval = self._settings.heartbeat
        assert interval is not None
        while not link.down.is_set():
            idle = self.timer.now() - self._last_write
            if not self.mn:  # a 9015 needs an MN (only 1001/9013 may go without one); the 1002 is awaited
                await self.timer.sleep(self.idle_poll_s)
                continue
            if idle < interval:
                await self.timer.sleep(interval - idle)
                continue
            settings = self._settings
            frame = self.context.data_frame(CN.HEARTBEAT.value, Cp(), answer=settings.want_answer)
            data = encode(frame, settings.dialect)
            try:
                if settings.want_answer:
                    await self._exchange(link, frame, data)
                else:
                    await self._write(link, data)
            except LinkDown as err:
                link.fail(str(err))
                return

    def time_sync_period(self) -> float:
        """Timer seconds between 1013 requests on one link: how long a clock within HJ 477's ±0.5 ‰ takes to
        drift by `clock_drift_limit_s`, at most a day."""
        return min(_TIME_SYNC_MAX_S, self._settings.clock_drift_limit_s / _CLOCK_RATE)

    async def _time_sync(self, link: _Link) -> None:
        """1013 at once on a new link, then every `time_sync_period`; the platform answers with a 1012."""
        while not link.down.is_set() and not self._stopping:
            if not self.mn:  # as the heartbeat: a 1013 needs an MN, so the first one waits for the 1002
                await self.timer.sleep(self.idle_poll_s)
                continue
            await request_time_calibration(self.context)
            await self.timer.sleep(self.time_sync_period())

    def wants_identity(self) -> bool:
        """Send 1001 on this connection: 2025, an identity, and an empty MN (`auto`) or `send_identity = on_connect`."""
        settings = self._settings
        if settings.version != 2025 or self.identity is None or settings.send_identity == "never":
            return False
        return settings.send_identity == "on_connect" or not self.mn

    async def _announce(self, link: _Link) -> None:
        """1001 once per connection; the platform answers 9013 and assigns the MN with a 1002 (a request)."""
        assert self.identity is not None
        if await send_hardware_sn(self.context, self.identity):
            log.info("%s: 1001 已应答 / hardware serial answered by the platform", self.target)
        elif not link.down.is_set():
            log.warning("%s: 1001 无应答 / hardware serial not answered", self.target)

    def key_request_due(self) -> datetime | None:
        """When this session asks for the next SM4 key; a key of unknown age is dated from its first use, which is
        persisted now (the settings table), so the count survives restarts."""
        settings = self._settings
        if settings.version != 2025 or not settings.encrypt:
            return None
        if settings.sm4_key_created is None:
            now = self.clock.now().replace(microsecond=0)
            hook = _persist_hook()
            key, value = SettingKey.SM4_KEY_CREATED.value, now.isoformat(sep=" ")
            if hook is not None:
                self._settings = hook(settings, self.store, self.outlet, key, value)
            else:
                self._settings = apply_setting(settings, self.outlet, key, value)
            log.warning(
                "%s: 密钥创建时间未知, 以首次使用时间 %s 计 / SM4 key age unknown: counted from now", self.target, now
            )
        return self._settings.key_request_due()

    async def _key_rotation(self, link: _Link) -> None:
        """1014 request when the key is due for rotation, repeated daily until the platform's 1014 set came."""
        while not link.down.is_set() and not self._stopping:
            due = self.key_request_due()
            now = self.clock.now()
            asked = self._key_asked
            if due is not None and now >= due and self.mn and (asked is None or now - asked >= _KEY_RETRY):
                self._key_asked = now
                log.info("%s: 密钥将到期, 请求新密钥 / SM4 key due for rotation (since %s): 1014", self.target, due)
                if not await request_new_key(self.context) and not link.down.is_set():
                    log.warning("%s: 1014 无应答 / key request not answered", self.target)
            await self.timer.sleep(self.key_check_s)

    # --- status ---------------------------------------------------------------------------------------------
    def status(self) -> SessionStatus:
        stats = self.store.backlog_stats(self.target)
        link = self._link
        return SessionStatus(
            target=self.target,
            platform=self._settings.name,
            outlet=self.outlet,
            mn=self.mn,
            state=self._state,
            connected=link is not None and not link.down.is_set(),
            since=self._since,
            last_ack=self._last_ack,
            backlog=stats.pending,
            oldest_data_time=stats.oldest_data_time,
            oldest_age=stats.oldest_age,
            rtt_s=self._rtt,
            rtt_avg_s=self._rtt_avg,
            sent=self._sent,
            acked=self._acked,
            timeouts=self._timeouts,
            reconnects=max(0, self._reconnects - 1),
            stray_answers=self._stray,
            bad_frames=self._bad,
            last_error=self._last_error,
        )
