"""The typed frame and its Flag (HJ 212-2017 Table 3 / Fig. 4; HJ 212-2025 Table 3).

Flag bits, by position (bit7..bit0): V5..V0 version (000000 HJ/T 212-2005, 000001 HJ 212-2017, 000010
HJ 212-2025), bit1 = the segment carries PNUM/PNO, bit0 = an answer is wanted. 2017 calls bit1 D and bit0 A,
2025 swaps the letters but keeps the positions (hj212-2025.md §1), so we decode by position only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ._cp import Cp
from ._errors import CnError, FlagError, HeaderError, MnError, PwError, QnError, StError

_VERSION_BITS = {2005: 0, 2017: 1, 2025: 2}
_BITS_VERSION = {v: k for k, v in _VERSION_BITS.items()}
ANSWER_BIT = 0x01
SPLIT_BIT = 0x02


def make_flag(version: int, *, answer: bool, split: bool = False) -> int:
    """Flag for a version: e.g. 2017 → 4/5/6/7, 2025 → 8/9/10/11."""
    if version not in _VERSION_BITS:
        raise ValueError(f"HJ 212 version must be one of {tuple(_VERSION_BITS)}, got {version!r}")
    return _VERSION_BITS[version] << 2 | (SPLIT_BIT if split else 0) | (ANSWER_BIT if answer else 0)


def flag_version(flag: int | None) -> int | None:
    """2005/2017/2025 from the version bits, None when the Flag is absent or the bits are unknown."""
    return None if flag is None else _BITS_VERSION.get(flag >> 2)


def _check_text(name: str, value: str, exc: type[HeaderError]) -> None:
    if not isinstance(value, str):
        raise exc(f"{name} 必须为文本 / {name} must be text, got {type(value).__name__}")
    if any(c in value for c in ";=&\r\n"):
        raise exc(f"{name} 含非法字符 / {name}={value!r} holds ; = & or a line break")


@dataclass(frozen=True, slots=True)
class Frame:
    """One HJ 212 packet. `qn`/`flag` are None only for 2005-style peers that omit them."""

    qn: str | None
    st: str
    cn: str
    pw: str
    mn: str
    flag: int | None
    cp: Cp = field(default_factory=Cp)
    pnum: int | None = None
    pno: int | None = None
    rf: bool = False

    def __post_init__(self) -> None:
        if self.qn is not None:
            _check_text("QN", self.qn, QnError)
        _check_text("ST", self.st, StError)
        _check_text("CN", self.cn, CnError)
        _check_text("PW", self.pw, PwError)
        _check_text("MN", self.mn, MnError)
        if not isinstance(self.cp, Cp):
            raise TypeError(f"cp must be a Cp, got {type(self.cp).__name__}")
        if self.flag is not None and (not isinstance(self.flag, int) or not 0 <= self.flag <= 255):
            raise FlagError(f"Flag 超出范围 / Flag={self.flag!r} is not a byte (0-255)")
        if (self.pnum is None) != (self.pno is None):
            raise FlagError("PNUM 与 PNO 须同时出现 / PNUM and PNO go together")
        if self.pnum is not None and self.pno is not None and not 1 <= self.pno <= self.pnum:
            raise FlagError(f"PNO={self.pno} 不在 1..PNUM={self.pnum} 内 / PNO outside 1..PNUM")
        if self.is_split and self.pnum is None:
            raise FlagError(f"Flag={self.flag} 表示拆分包但缺少 PNUM/PNO / split bit set without PNUM/PNO")

    @property
    def version(self) -> int | None:
        """2005, 2017 or 2025 by the version bits (flag >> 2); None when unknown or absent."""
        return flag_version(self.flag)

    @property
    def wants_answer(self) -> bool:
        """Bit 0: the sender waits for 9011/9013/9014."""
        return self.flag is not None and bool(self.flag & ANSWER_BIT)

    @property
    def is_split(self) -> bool:
        """Bit 1: the segment carries PNUM/PNO."""
        return self.flag is not None and bool(self.flag & SPLIT_BIT)
