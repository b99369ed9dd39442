"""Checks a platform (or a DAS) makes on a request before answering 9011 (HJ 212-2017 §6.5, QnRtn Table 4).

Order of the checks: MN (who is this for), PW, ST, Flag, QN, CN; the first failure decides the QnRtn.
"""

from __future__ import annotations

from datetime import datetime

from ._codes import CN_2017, CN_2025
from ._dialect import Dialect
from ._errors import CnError, FlagError, MnError, PwError, QnError, StError
from ._frame import Frame
from ._header import _CN, _QN, _ST


def validate(
    frame: Frame, *, expect_mn: str | None = None, expect_pw: str | None = None, dialect: Dialect | None = None
) -> None:
    """Raise the `Hj212Error` whose QnRtn answers `frame` (3 PW, 4 MN, 5 ST, 6 Flag, 7 QN, 8 CN); None when fine."""
    if expect_mn is not None and frame.mn != expect_mn:
        raise MnError(f"MN 错误 / MN {frame.mn!r} is not this station's {expect_mn!r}")
    if expect_pw is not None and frame.pw != expect_pw:
        raise PwError(f"PW 错误 / wrong access password for MN {frame.mn!r}")
    if not _ST.fullmatch(frame.st):
        raise StError(f"ST 错误 / ST={frame.st!r} is not a 2-character system code")
    if frame.flag is None:
        raise FlagError("Flag 错误 / Flag is missing")
    if frame.version is None:
        raise FlagError(f"Flag 错误 / unknown version bits in Flag={frame.flag}")
    if dialect is not None and frame.version != dialect.version:
        raise FlagError(
            f"Flag 错误 / Flag={frame.flag} is HJ 212-{frame.version}, the platform speaks {dialect.version}"
        )
    if frame.is_split != (frame.pnum is not None):
        raise FlagError(f"Flag 错误 / split bit of Flag={frame.flag} disagrees with PNUM/PNO")
    if frame.qn is None:
        raise QnError("QN 错误 / QN is missing")
    try:
        if not _QN.fullmatch(frame.qn):
            raise ValueError
        datetime.strptime(frame.qn[:14], "%Y%m%d%H%M%S")
    except ValueError:
        raise QnError(f"QN 错误 / QN={frame.qn!r} is not a YYYYMMDDhhmmsszzz time") from None
    known = CN_2025 if (dialect.version if dialect is not None else frame.version) == 2025 else CN_2017
    if not _CN.fullmatch(frame.cn) or frame.cn not in known:
        raise CnError(f"CN 错误 / CN={frame.cn!r} is not a command of HJ 212-{2025 if known is CN_2025 else 2017}")
