"""One readable line (or two) per frame, for `das platform frames` and `das demo`."""

from __future__ import annotations

from .commands import cn_name
from .store import FrameRow

ARROWS = {"in": "数采仪→平台 DAS→platform", "out": "平台→数采仪 platform→DAS"}
VERDICTS = {
    "accepted": "接收 accepted",
    "rejected": "拒收 rejected",
    "sent": "已发 sent",
    "withheld": "扣留 withheld",
}


def describe(row: FrameRow, *, raw: bool = False) -> str:
    """`[time] direction CN name QN verdict` then the CP (plaintext), the reason, and the raw bytes if asked."""
    head = (
        f"[{row.at:%H:%M:%S.%f}"[:-3]
        + f"] {ARROWS.get(row.direction, row.direction)}  {row.cn or '????'} {cn_name(row.cn)}"
        f"  QN={row.qn or '-'}  Flag={row.flag if row.flag is not None else '-'}"
        f"  {VERDICTS.get(row.verdict, row.verdict)}"
    )
    lines = [head]
    if row.pnum is not None:
        lines.append(f"    分包 / packet {row.pno}/{row.pnum}")
    if row.rf:
        lines.append("    补传 / resend RF=1")
    if row.cp_text:
        lines.append(f"    CP: {row.cp_text}")
    if row.reason:
        lines.append(f"    原因 / reason: {row.reason}")
    if raw:
        lines.append(f"    raw: {row.raw!r}")
    return "\n".join(lines)
