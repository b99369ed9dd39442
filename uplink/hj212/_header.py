"""Header fields of the data segment (HJ 212-2017 Table 3 and Fig. 4; HJ 212-2025 Table 3 with RF).

Order on the wire: QN;ST;CN;PW;MN;Flag;[PNUM;PNO;][RF;]CP. What we send follows it exactly (strict); what we
receive is read as `name=value` in any order (hj212.md §1: peers put PNO before PNUM, omit Flag), with a
warning for every liberty taken. Each defect raises the error whose QnRtn a platform would answer.
"""

from __future__ import annotations

import re

from ._cp import Cp
from ._errors import CnError, FlagError, HeaderError, MnError, PwError, QnError, StError
from ._frame import SPLIT_BIT, Frame, flag_version

ORDER = ("QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO", "RF")
_BY_LOWER = {name.lower(): name for name in ORDER}
_MISSING = {"ST": StError, "CN": CnError, "PW": PwError, "MN": MnError}
_FIELD_ERROR = {"QN": QnError, **_MISSING, "Flag": FlagError, "PNUM": FlagError, "PNO": FlagError, "RF": HeaderError}

_QN = re.compile(r"[0-9]{17}")  # YYYYMMDDhhmmsszzz
_ST = re.compile(r"[0-9A-Z]{2}")  # Table 5: 21..99 and extensions A0-Z9
_CN = re.compile(r"[0-9]{4}")
_PW = re.compile(r"[0-9A-Za-z]{6}")  # Table 3: C6; 1072 NewPW charset
_MN = re.compile(r"[0-9A-Za-z_\-]{1,24}")  # 24 hex by EPC-96, but real MNs differ (hj212.md §3): length only
_DIGITS = re.compile(r"[0-9]{1,4}")
# 2025 §4: a DAS asks for its MN (1001) before it has one, and the platform answers 9013 with `MN=`.
EMPTY_MN_CNS = frozenset({"1001", "9013"})


def segment_text(frame: Frame) -> str:
    """The data segment of a frame in standard order (plaintext)."""
    parts = []
    if frame.qn is not None:
        parts.append(f"QN={frame.qn};")
    parts.append(f"ST={frame.st};CN={frame.cn};PW={frame.pw};MN={frame.mn};")
    if frame.flag is not None:
        parts.append(f"Flag={frame.flag};")
    if frame.pnum is not None:
        parts.append(f"PNUM={frame.pnum};PNO={frame.pno};")
    if frame.rf:
        parts.append("RF=1;")
    parts.append(f"CP=&&{frame.cp.text}&&")
    return "".join(parts)


def split_fields(header: str, *, strict: bool, warnings: list[str]) -> dict[str, str]:
    """`QN=…;ST=…;…;` (the text before `CP=&&`) → field name → value."""
    fields: dict[str, str] = {}
    if header and not header.endswith(";"):
        if strict:
            raise HeaderError("CP 前缺少 ';' / no ';' before CP=&&")
        warnings.append("CP 前缺少 ';' / no ';' before CP=&&")
    for part in header.rstrip(";").split(";") if header else ():
        name, eq, value = part.partition("=")
        if not eq:
            raise HeaderError(f"头部字段缺少 '=' / header item {part!r} has no '='")
        known = name if name in ORDER else _BY_LOWER.get(name.lower())
        if known is None:
            if strict:
                raise HeaderError(f"未知头部字段 / unknown header field {name!r}")
            warnings.append(f"未知头部字段已忽略 / unknown header field {name!r} ignored")
            continue
        if known != name:
            if strict:
                raise HeaderError(f"字段名区分大小写 / field names are case sensitive: {name!r} should be {known!r}")
            warnings.append(f"字段名大小写不符 / header field {name!r} read as {known!r}")
        if known in fields:
            raise _FIELD_ERROR[known](f"头部字段重复 / header field {known} appears twice")
        fields[known] = value
    if strict:
        present = [n for n in ORDER if n in fields]
        if list(fields) != present:
            raise HeaderError(f"头部字段顺序错误 / header order {list(fields)} is not {present} (HJ 212 Fig. 4)")
    return fields


def _number(name: str, text: str) -> int:
    if not _DIGITS.fullmatch(text):
        raise FlagError(f"{name}={text!r} 不是数字 / {name} is not a number of at most 4 digits")
    return int(text)


def build_frame(fields: dict[str, str], cp: Cp, *, strict: bool, version: int | None, warnings: list[str]) -> Frame:
    """Check the header fields (strict for what we send, lenient for what we receive) and build the Frame."""

    def bad(exc: type[HeaderError], message: str) -> None:
        if strict:
            raise exc(message)
        warnings.append(message)

    for name, exc in _MISSING.items():
        if name not in fields:
            raise exc(f"缺少 {name} / header field {name} is missing")
    qn = fields.get("QN")
    if qn is None:
        bad(QnError, "缺少 QN / QN is missing (2005 style)")
    elif not _QN.fullmatch(qn):
        bad(QnError, f"QN={qn!r} 不是17位时间 / QN is not 17 digits YYYYMMDDhhmmsszzz")
    st, cn, pw, mn = fields["ST"], fields["CN"], fields["PW"], fields["MN"]
    if not _ST.fullmatch(st):
        bad(StError, f"ST={st!r} 不是2位系统编码 / ST is not a 2-character system code")
    if not _CN.fullmatch(cn):
        raise CnError(f"CN={cn!r} 不是4位命令编码 / CN is not a 4-digit command code")
    if not _PW.fullmatch(pw):
        bad(PwError, f"PW={pw!r} 不是6位密码 / PW is not 6 letters or digits")
    if not (_MN.fullmatch(mn) or (mn == "" and cn in EMPTY_MN_CNS)):
        bad(MnError, f"MN={mn!r} 不是有效设备编码 / MN is not 1-24 letters or digits")
    flag = None
    if "Flag" not in fields:
        bad(FlagError, "缺少 Flag / Flag is missing (2005 style)")
    else:
        text = fields["Flag"]
        if not _DIGITS.fullmatch(text) or len(text) > 3 or int(text) > 255:
            raise FlagError(f"Flag={text!r} 不是0-255的数字 / Flag is not a number 0-255")
        flag = int(text)
        seen = flag_version(flag)
        if seen is None:
            bad(FlagError, f"Flag={flag} 的版本位未知 / unknown version bits {flag >> 2:06b} in Flag")
        elif version is not None and seen != version:
            bad(
                FlagError,
                f"Flag={flag} 表示 {seen} 版, 平台配置为 {version} / Flag says HJ 212-{seen}, dialect is {version}",
            )
    pnum = pno = None
    if "PNUM" in fields or "PNO" in fields:
        if "PNUM" not in fields or "PNO" not in fields:
            raise FlagError("PNUM 与 PNO 须同时出现 / PNUM and PNO go together")
        pnum, pno = _number("PNUM", fields["PNUM"]), _number("PNO", fields["PNO"])
        if flag is not None and not flag & SPLIT_BIT:
            bad(FlagError, f"有 PNUM/PNO 但 Flag={flag} 未置拆分位 / PNUM/PNO present but Flag has no split bit")
    rf = False
    if "RF" in fields:
        if version == 2017:
            bad(HeaderError, "RF 是 2025 版字段 / RF exists only in HJ 212-2025")
        if fields["RF"] == "1":
            rf = True
        else:
            bad(HeaderError, f"RF={fields['RF']!r} 未定义, 按非补传处理 / only RF=1 exists; read as not a resend")
    return Frame(qn=qn, st=st, cn=cn, pw=pw, mn=mn, flag=flag, cp=cp, pnum=pnum, pno=pno, rf=rf)
