"""Splitting a long record into PNUM/PNO packets and putting it back (HJ 212-2017 Table 3, C.49/C.50; 2025 §8.1.2).

A data segment over the limit (1024 by Table 2, configurable per platform) is cut at factor-group (`;`)
boundaries. Each part gets its own QN, the split bit, PNUM/PNO, and repeats the leading plain groups (DataTime,
PolId, …) so that every part is a self-contained CP, as the standard's examples show.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ._cp import Cp, Group
from ._errors import SplitError
from ._frame import SPLIT_BIT, Frame
from ._header import segment_text


def _leading_plain(groups: Sequence[Group]) -> int:
    """How many groups at the start hold only plain keys (no `code-suffix`): they are repeated in every part."""
    n = 0
    for group in groups:
        if any("-" in key for key, _ in group):
            break
        n += 1
    return n


def _length(frame: Frame) -> int:
    return len(segment_text(frame).encode("utf-8"))


def split(frame: Frame, limit: int, qn_factory: Callable[[], str]) -> list[Frame]:
    """`[frame]` when its data segment fits in `limit` bytes, else the parts (each QN from `qn_factory`)."""
    if _length(frame) <= limit:
        return [frame]
    if frame.flag is None or frame.pnum is not None:
        raise SplitError("只能拆分带 Flag 的未拆分报文 / only an unsplit frame with a Flag can be split")
    k = _leading_plain(frame.cp.groups)
    common, rest = frame.cp.groups[:k], frame.cp.groups[k:]
    sizes = [len(Cp((g,)).text.encode("utf-8")) for g in rest]
    common_size = len(Cp(common).text.encode("utf-8"))
    qn = frame.qn if frame.qn is not None else "0" * 17
    for digits in range(1, 5):
        widest = 10**digits - 1
        probe = replace(frame, qn="0" * len(qn), flag=frame.flag | SPLIT_BIT, pnum=widest, pno=widest, cp=Cp())
        room = limit - _length(probe)
        packs: list[list[Group]] = []
        used = -1  # no part open
        for group, size in zip(rest, sizes, strict=True):
            grown = used + 1 + size if used >= 0 else common_size + (1 if common else 0) + size
            if used >= 0 and grown <= room:
                packs[-1].append(group)
                used = grown
                continue
            first = common_size + (1 if common else 0) + size
            if first > room:
                raise SplitError(
                    f"因子组 {group[0][0]} 单独 {first} 字节已超上限 / "
                    f"a factor group alone exceeds the {limit}-byte limit"
                )
            packs.append([group])
            used = first
        if len(str(len(packs))) <= digits:
            break
    else:
        raise SplitError("拆分包数超过 9999 / more than 9999 parts")
    total = len(packs)
    parts = [
        replace(frame, qn=qn_factory(), flag=frame.flag | SPLIT_BIT, pnum=total, pno=i, cp=Cp((*common, *pack)))
        for i, pack in enumerate(packs, start=1)
    ]
    for part in parts:
        if _length(part) > limit:
            raise SplitError(f"分包 PNO={part.pno} 仍超上限 (QN 过长?) / part still over the limit (QN too long?)")
    return parts


def reassemble(frames: Sequence[Frame]) -> Frame:
    """One record from its PNUM/PNO parts, in any order; the QN is the first part's."""
    if not frames:
        raise SplitError("没有分包 / no parts to reassemble")
    if any(f.pnum is None for f in frames):
        raise SplitError("存在不带 PNUM/PNO 的报文 / a frame without PNUM/PNO is not a part")
    parts = sorted(frames, key=lambda f: f.pno or 0)
    first = parts[0]
    total = first.pnum or 0
    if any(f.pnum != total for f in parts):
        raise SplitError("各分包 PNUM 不一致 / parts disagree on PNUM")
    numbers = [f.pno for f in parts]
    if numbers != list(range(1, total + 1)):
        missing = sorted(set(range(1, total + 1)) - set(numbers))
        raise SplitError(f"分包不完整或重复 / parts incomplete or repeated: have {numbers}, missing {missing}")
    ident = (first.st, first.cn, first.pw, first.mn)
    if any((f.st, f.cn, f.pw, f.mn) != ident for f in parts):
        raise SplitError("各分包 ST/CN/PW/MN 不一致 / parts disagree on ST, CN, PW or MN")
    k = _leading_plain(first.cp.groups)
    common = first.cp.groups[:k]
    groups = list(first.cp.groups)
    for part in parts[1:]:
        if part.cp.groups[:k] != common:
            raise SplitError(
                f"PNO={part.pno} 的 DataTime 等公共项不同: 这是多条记录, 不是一条记录的分包 / "
                "parts carry different leading keys (DataTime…): "
                "separate records numbered by PNUM/PNO, not one split record"
            )
        groups.extend(part.cp.groups[k:])
    flag = first.flag & ~SPLIT_BIT if first.flag is not None else None
    return replace(first, flag=flag, pnum=None, pno=None, cp=Cp(tuple(groups)))
