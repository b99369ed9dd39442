"""`CommandHandler`: checks a platform request, answers a defect with its QnRtn, else runs the table's flow.

Check order (HJ 212-2017 §6.5, Table 4, as the codec's `validate`): MN 4, PW 3, ST 5, Flag 6, QN 7, CN 8.
A frame with a bad CRC never gets here: the session's decoder drops it, and the DAS stays silent, because the
standard says a wrong CRC ends the exchange ("CRC 错误…执行结束", hj212.md §1) and the header of a corrupted
frame cannot be trusted to address an answer (`log_undecodable`). A refused request changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from uplink.context import SessionContext
from uplink.hj212 import CN, ExeRtn, Frame, Hj212Error, QnRtn, validate

from ._flow import Command, DasIdentity, Exchange, Flow, log
from ._params import RequestError
from ._table import COMMANDS
from .redact import redact, shown

# Platform→DAS requests the standards define (hj212.md §3 Table 9; hj212-2025.md §4-§5). One of these that this
# DAS does not carry out is refused (QnRtn 2); any other CN is not a request at all (QnRtn 8).
STANDARD_REQUESTS = frozenset(
    {"1000", "1002", "1011", "1012", "1014", "1061", "1062", "1063", "1064", "1072"}
    | {"2011", "2012", "2013", "2021", "2022", "2031", "2041", "2051", "2061", "2062"}
    | {f"30{n:02d}" for n in range(11, 23)}
    | {"3024"}
)
# ST a request may carry besides the session's own: 91 系统交互; 2025 electricity (44) and production
# conditions (45) travel as CN 2011 (hj212-2025.md §6).
_SYSTEM_ST = "91"
_ST_2011_2025 = frozenset({"44", "45"})


class CommandHandler:
    """Answers every platform request of one or many sessions (stateless between requests)."""

    def __init__(self, commands: Iterable[Command] | None = None, *, identity: DasIdentity | None = None) -> None:
        """`identity` (2025 i23005-i23008) lets a 1002 assign this DAS a new MN; without it 1002 is refused."""
        self.identity = identity
        if commands is None:
            commands = COMMANDS
        table: dict[str, list[Command]] = {}
        for command in commands:
            table.setdefault(command.cn, []).append(command)
        self.table: Mapping[str, list[Command]] = table

    def lookup(self, cn: str, version: int) -> Command | None:
        return next((c for c in self.table.get(cn, ()) if version in c.versions), None)

    def check(self, req: Frame, ctx: SessionContext) -> tuple[int, str] | None:
        """The QnRtn and reason a request is refused with, or None when it may run."""
        settings = ctx.settings
        version = settings.version
        # 2025 1002 carries the new MN in its header; the CP's i23005 says whom it is for (its precheck).
        assigns_mn = version == 2025 and req.cn == CN.SET_MN
        try:
            validate(req, expect_mn=None if assigns_mn else ctx.mn, expect_pw=settings.pw, dialect=ctx.dialect)
        except Hj212Error as err:
            return err.qn_rtn, str(err)
        allowed_st = {settings.st, _SYSTEM_ST} | (_ST_2011_2025 if version == 2025 and req.cn == CN.RTD_DATA else set())
        if req.st not in allowed_st:
            return QnRtn.ST_ERROR, f"ST 错误 / ST={req.st} is not this station's {settings.st}"
        command = self.lookup(req.cn, version)
        if command is None:
            if req.cn in STANDARD_REQUESTS:
                return QnRtn.REJECTED, f"请求被拒绝 / CN={req.cn} is not carried out by this DAS (HJ 212-{version})"
            return QnRtn.CN_ERROR, f"CN 错误 / CN={req.cn} is not a platform request of HJ 212-{version}"
        if command.precheck is not None:
            refused = command.precheck(Exchange(req, ctx, self.identity))
            if refused is not None:
                return refused, f"请求被拒绝 / CN={req.cn} refused by its precheck"
        return None

    async def handle(self, request: Frame, ctx: SessionContext) -> None:
        """Answer one platform request (never raises for the request's faults; logs them)."""
        x = Exchange(request, ctx, self.identity)
        refused = self.check(request, ctx)
        if refused is not None:
            qn_rtn, reason = refused
            log.warning(
                "拒绝平台命令 / %s: CN=%s QN=%s refused, QnRtn=%d: %s",
                ctx.target,
                request.cn,
                request.qn,
                qn_rtn,
                reason,
            )
            if request.wants_answer:
                await x.reply(ctx.reply_9011(request, qn_rtn))
            return
        command = self.lookup(request.cn, ctx.settings.version)
        assert command is not None
        log.info("平台命令 / %s: CN=%s QN=%s CP=%s", ctx.target, request.cn, request.qn, redact(request.cp.text[:200]))
        if command.flow is Flow.NOTIFY:
            await self._run(command, x)
            if request.wants_answer:
                await x.reply(ctx.reply_9013(request))
            return
        if request.wants_answer and not await x.reply(ctx.reply_9011(request, QnRtn.READY)):
            return
        exe_rtn = await self._run(command, x)
        if request.wants_answer:
            await x.reply(ctx.reply_9012(request, exe_rtn))

    async def _run(self, command: Command, x: Exchange) -> int:
        try:
            result = await command.run(x)
        except RequestError as err:
            log.warning(
                "平台命令条件错误 / %s: CN=%s QN=%s ExeRtn=%d: %s", x.ctx.target, x.req.cn, x.req.qn, err.exe_rtn, err
            )
            return err.exe_rtn
        except Exception:  # a bug or a failing service must not take the session down: ExeRtn 2 (执行失败)
            log.exception("平台命令执行失败 / %s: CN=%s QN=%s failed", x.ctx.target, x.req.cn, x.req.qn)
            return int(ExeRtn.FAILED)
        return int(ExeRtn.SUCCESS) if result is None else int(result)


def log_undecodable(error: Hj212Error, ctx: SessionContext, raw: bytes = b"", *, repeated: int = 0) -> None:
    """A frame the session could not decode (CRC 9, framing, length): logged, never answered (hj212.md §1).

    The session calls it for the first such frame and then at most once per summary period; `repeated` counts
    the ones it dropped in between without a line."""
    log.warning(
        "平台报文无法解析, 不应答 / %s: frame dropped unanswered (QnRtn %d would apply): %s %s%s",
        ctx.target,
        error.qn_rtn,
        redact(str(error)),
        shown(raw[:120]),
        f" (另有 {repeated} 帧 / {repeated} more since the last line)" if repeated else "",
    )
