"""Pure checks of a request's CP (HJ 212-2017 Table 4 types and ranges; hj212-2025.md §4-§5).

A CP that names a wrong or out-of-range value is a "命令请求条件错误": the request was understood (9011
QnRtn 1) but its condition cannot be met, so it ends with 9012 ExeRtn 3 (docs/commands.md). Every check here
raises `RequestError` with a bilingual message that names the key and the value; nothing here does I/O.
"""

from __future__ import annotations

import re
from datetime import datetime

from uplink.hj212 import Cp, CpError, ExeRtn

MIN_INTERVALS = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)  # Table 4 MinInterval
_NEW_PW = re.compile(r"[0-9a-zA-Z]{6}")  # Table 4 NewPW C6, hj212.md §3 charset
_POL_ID = re.compile(r"[0-9A-Za-z]{1,6}")  # Table 4 PolId C6
_INFO_ID = re.compile(r"i[0-9]{5}")  # Tables B.8-B.10 site-machine info codes
_INTEGER = re.compile(r"[+-]?[0-9]+(?:\.0*)?")


class RequestError(ValueError):
    """A request CP the DAS cannot act on; `exe_rtn` is the 9012 it ends with (3 unless said otherwise)."""

    def __init__(self, message: str, exe_rtn: int = ExeRtn.CONDITION_ERROR) -> None:
        super().__init__(message)
        self.exe_rtn = int(exe_rtn)


def _text(cp: Cp, key: str) -> str:
    value = cp.get(key)
    if value is None or value == "":
        raise RequestError(f"缺少 {key} / {key} missing from the request CP")
    return value


def time_value(cp: Cp, key: str) -> datetime:
    """A Table 4 N14 time (YYYYMMDDhhmmss; 17 digits tolerated)."""
    _text(cp, key)
    try:
        return cp.time(key)
    except CpError as err:
        raise RequestError(f"{key} 不是时间 / {key}={cp.get(key)!r} is not a YYYYMMDDhhmmss time") from err


def integer(cp: Cp, key: str, low: int, high: int) -> int:
    """A whole number within [low, high] (Table 4 N2/N4); `30.0` is tolerated, `30.5` is not."""
    text = _text(cp, key)
    if not _INTEGER.fullmatch(text):
        raise RequestError(f"{key} 不是整数 / {key}={text!r} is not a whole number")
    value = int(float(text))
    if not low <= value <= high:
        raise RequestError(f"{key} 超出范围 / {key}={value} is outside {low}..{high} (HJ 212-2017 Table 4)")
    return value


def time_range(cp: Cp) -> tuple[datetime, datetime]:
    """BeginTime/EndTime of a history request (2031/2041/2051/2061, 2062, 3020); both inclusive."""
    begin, end = time_value(cp, "BeginTime"), time_value(cp, "EndTime")
    if begin > end:
        raise RequestError(
            f"BeginTime 晚于 EndTime / BeginTime {begin:%Y%m%d%H%M%S} is after EndTime {end:%Y%m%d%H%M%S}"
        )
    return begin, end


def has_range(cp: Cp) -> bool:
    """Whether the request asks for history (either bound present), as 2011 with ST=44 or 3020 may."""
    return cp.get("BeginTime") is not None or cp.get("EndTime") is not None


def rtd_interval(cp: Cp) -> int:
    """1062 RtdInterval: seconds, 30..3600 (Table 4)."""
    return integer(cp, "RtdInterval", 30, 3600)


def min_interval(cp: Cp) -> int:
    """1064 MinInterval: minutes, one of 1,2,3,4,5,6,10,12,15,20,30 (Table 4: divides an hour)."""
    value = integer(cp, "MinInterval", 1, 30)
    if value not in MIN_INTERVALS:
        raise RequestError(f"MinInterval 不可用 / MinInterval={value} is not one of {MIN_INTERVALS} (Table 4)")
    return value


def overtime_recount(cp: Cp) -> tuple[int, int]:
    """1000 OverTime (s, 0<n≤99) and ReCount (0<n≤99), Table 4."""
    return integer(cp, "OverTime", 1, 99), integer(cp, "ReCount", 1, 99)


def new_password(cp: Cp) -> str:
    """1072 NewPW: exactly 6 characters of 0-9a-zA-Z (Table 4 C6, hj212.md §3)."""
    value = _text(cp, "NewPW")
    if not _NEW_PW.fullmatch(value):
        raise RequestError(f"NewPW 格式错误 / NewPW={value!r} must be 6 characters of 0-9a-zA-Z")
    return value


def pol_id(cp: Cp, *, required: bool = True) -> str | None:
    """PolId: a factor code (Table 4 C6), e.g. w01018 or 2005-style 011."""
    value = cp.get("PolId")
    if value is None or value == "":
        if required:
            raise RequestError("缺少 PolId / PolId missing from the request CP")
        return None
    if not _POL_ID.fullmatch(value):
        raise RequestError(f"PolId 格式错误 / PolId={value!r} is not a factor code")
    return value


def info_id(cp: Cp, *, required: bool = True) -> str | None:
    """InfoId: a site-machine info code i1xxxx/i2xxxx/i3xxxx (3020/3021, Tables B.8-B.10)."""
    value = cp.get("InfoId")
    if value is None or value == "":
        if required:
            raise RequestError("缺少 InfoId / InfoId missing from the request CP")
        return None
    if not _INFO_ID.fullmatch(value):
        raise RequestError(f"InfoId 格式错误 / InfoId={value!r} is not an i-code like i13004")
    return value


def info_value(cp: Cp, code: str) -> str:
    """The value a 3021 sets: `<InfoId>-Info=…` (C.45)."""
    return _text(cp, f"{code}-Info")


def calibration_type(cp: Cp) -> int | None:
    """2025 3011 CalibrationType: 0 zero, 1 span (hj212-2025.md §5); absent in 2017 requests."""
    if cp.get("CalibrationType") is None:
        return None
    return integer(cp, "CalibrationType", 0, 1)


def new_secret_key(cp: Cp) -> str:
    """2025 1014 NewSK: 16 ASCII characters used directly as the SM4 key (hj212-2025.md §2, as A.2's key)."""
    value = _text(cp, "NewSK")
    if len(value) != 16 or not value.isascii() or not value.isprintable():
        raise RequestError(f"NewSK 须为 16 个字符 / NewSK must be 16 printable ASCII characters, got {len(value)}")
    return value
