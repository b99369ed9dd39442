"""The command flows of HJ 212-2017 §8 (Appendix C; 2025 unchanged, hj212-2025.md §1) and the command table row.

- request: 9011 QnRtn=1 → data packets, if the command returns any → 9012 ExeRtn.
- notify (2012, 2022): act → 9013.

A request without the answer bit (Flag A=0, "命令不需要应答") is carried out without 9011/9012/9013; its
data packets still go out, since they are what it asked for.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from enum import Enum

from uplink.context import SessionContext
from uplink.hj212 import Cp, ExeRtn, Frame, Hj212Error, SplitError, split

log = logging.getLogger("uplink.commands")


@dataclass(frozen=True, slots=True)
class DasIdentity:
    """Who this DAS is in HJ 212-2025 (hj212-2025.md §4): i23005 数采仪编号, i23006 CPU ID, i23007/i23008 MACs.

    The platform assigns the MN from these (1001 up, 1002 down); a 1002 is adopted only if its i23005 is ours.
    """

    das_id: str
    cpu_id: str = ""
    macs: tuple[str, ...] = ()


class Flow(Enum):
    REQUEST = "request"  # 9011, data, 9012
    NOTIFY = "notify"  # 9013


@dataclass
class Exchange:
    """One platform request being answered: the request, the session's context and the sending helpers."""

    req: Frame
    ctx: SessionContext
    identity: DasIdentity | None = None

    async def reply(self, frame: Frame) -> bool:
        """Send a 9011/9012/9013 (never awaits an answer); False when it could not go out."""
        try:
            return await self.ctx.send(frame, await_answer=False)
        except (Hj212Error, OSError) as err:
            log.warning("应答未发出 / %s: CN=%s reply to QN=%s not sent: %s", self.ctx.target, frame.cn, frame.qn, err)
            return False

    async def data(
        self, cn: str, cp: Cp, *, st: str | None = None, pnum: int | None = None, pno: int | None = None
    ) -> bool:
        """Send one data packet answering the request; True once delivered.

        The answer bit follows the platform's dialect (`want_answer`); with it, each packet (and each part of
        one split by the platform's length limit) waits for its 9014 before the next (C.50). `pnum`/`pno`
        number the records of a 2025 history answer (record i of n); a record too long for one packet is
        split instead, and its parts carry their own PNUM/PNO (docs/commands.md).
        """
        ctx = self.ctx
        answer = ctx.settings.want_answer
        limit = ctx.settings.split_limit
        frames: list[Frame]
        try:
            numbered = ctx.data_frame(cn, cp, answer=answer, pnum=pnum, pno=pno, st=st)
            frames = split(numbered, limit, ctx.new_qn)
        except SplitError:
            if pnum is None:
                raise
            frames = split(ctx.data_frame(cn, cp, answer=answer, st=st), limit, ctx.new_qn)
        for frame in frames:
            try:
                ok = await ctx.send(frame, await_answer=answer)
            except (Hj212Error, OSError) as err:
                log.warning("数据包未发出 / %s: CN=%s QN=%s not sent: %s", ctx.target, cn, frame.qn, err)
                return False
            if not ok:
                log.warning("数据包无应答 / %s: CN=%s QN=%s not answered", ctx.target, cn, frame.qn)
                return False
        return True


Run = Callable[[Exchange], Awaitable[int | None]]


@dataclass(frozen=True)
class Command:
    """One row of the command table: CN, flow, the versions that define it and what to do.

    `run` returns the ExeRtn for the 9012 (request flow; None for notify) or raises `RequestError`.
    `precheck` may name a QnRtn to refuse with before anything is done (1002: the request is for another DAS).
    """

    cn: str
    flow: Flow
    run: Run
    versions: frozenset[int] = frozenset({2017, 2025})
    precheck: Callable[[Exchange], int | None] | None = None
    summary: str = ""

    def for_versions(self, *versions: int) -> Command:
        return replace(self, versions=frozenset(versions))


SUCCESS = int(ExeRtn.SUCCESS)
