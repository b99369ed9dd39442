"""QN and the 9011-9014 replies (HJ 212-2017 §6.5 and Appendix C; 2025 unchanged, hj212-2025.md §1).

A reply echoes the QN of the packet it answers, uses ST=91 (系统交互) and the no-answer Flag of the dialect
(2017: 4, 2025: 8), with the request's PW and MN.
"""

from __future__ import annotations

from datetime import datetime

from ._codes import CN, ST
from ._cp import Cp
from ._dialect import Dialect
from ._frame import Frame, make_flag


def new_qn(t: datetime) -> str:
    """QN of a new exchange: YYYYMMDDhhmmsszzz (17 digits, milliseconds)."""
    return f"{t:%Y%m%d%H%M%S}{t.microsecond // 1000:03d}"


def _reply(req: Frame, cn: str, cp: Cp, dialect: Dialect) -> Frame:
    flag = make_flag(dialect.version, answer=False)
    return Frame(qn=req.qn, st=ST.SYSTEM.value, cn=cn, pw=req.pw, mn=req.mn, flag=flag, cp=cp)


def reply_9011(req: Frame, qn_rtn: int, dialect: Dialect) -> Frame:
    """请求应答 / request answer with QnRtn (1 ready, 3 PW, 4 MN, … 9 CRC)."""
    return _reply(req, CN.REQUEST_ANSWER.value, Cp.build({"QnRtn": int(qn_rtn)}), dialect)


def reply_9012(req: Frame, exe_rtn: int, dialect: Dialect) -> Frame:
    """执行结果 / execution result with ExeRtn."""
    return _reply(req, CN.EXECUTION_RESULT.value, Cp.build({"ExeRtn": int(exe_rtn)}), dialect)


def reply_9013(req: Frame, dialect: Dialect) -> Frame:
    """通知应答 / notify answer (2012, 2022, 1013; 2025 also 9015 heartbeat, 1001, 1014)."""
    return _reply(req, CN.NOTIFY_ANSWER.value, Cp(), dialect)


def reply_9014(req: Frame, dialect: Dialect) -> Frame:
    """数据应答 / data answer to an upload with the answer bit set."""
    return _reply(req, CN.DATA_ANSWER.value, Cp(), dialect)
