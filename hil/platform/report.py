"""`das platform report`: what the platform saw, per MN.

Frames per CN, rejected frames with their reasons, duplicates, and the effective transmission rate per factor
and day from hour data (rates.py, regs.md §7). A duplicate is an accepted DAS frame whose MN + CN + DataTime
(+ PNO for split packets) was already received; a repeat marked RF=1 (HJ 212-2025 resend) and a repeat that
answers a platform history request are counted apart, because both are expected repeats.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from uplink.hj212 import Cp, Hj212Error

from .commands import cn_name
from .config import PlatformConfig
from .rates import HourGroup, RateRow, Tally, rate_rows
from .store import FrameRow, PlatformStore

DATA_CNS = frozenset({"2011", "2021", "2031", "2041", "2051", "2061", "2062", "2013", "2052", "2111", "2081"})
UNKNOWN_MN = "?"


@dataclass
class MnReport:
    mn: str
    frames_per_cn: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)  # reason → count
    duplicates: int = 0
    resend_duplicates: int = 0  # repeats carrying RF=1
    fetched_duplicates: int = 0  # repeats sent in answer to a platform history request
    resends: int = 0  # all frames with RF=1
    rates: list[RateRow] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "mn": self.mn,
            "frames_per_cn": dict(sorted(self.frames_per_cn.items())),
            "rejected": dict(self.rejected.most_common()),
            "duplicates": self.duplicates,
            "resend_duplicates": self.resend_duplicates,
            "fetched_duplicates": self.fetched_duplicates,
            "resends": self.resends,
            "rates": [r.as_dict() for r in self.rates],
        }


def _hour_groups(frame: FrameRow) -> Iterable[HourGroup]:
    if frame.cn != "2061" or frame.cp_text is None or frame.mn is None:
        return ()
    try:
        cp = Cp.parse(frame.cp_text)
        hour = cp.time("DataTime")
    except (Hj212Error, KeyError):
        return ()  # an hour record without a readable DataTime cannot be placed in a day
    fetched = frame.command_id is not None
    return [
        HourGroup(frame.mn, code, hour, suffixes.get("Flag"), frame.at, frame.rf, fetched)
        for code, suffixes in cp.factors().items()
    ]


def build_report(
    frames: Iterable[FrameRow],
    config: PlatformConfig | None = None,
    *,
    mn: str | None = None,
    days: Iterable[date] | None = None,
    grace: timedelta | None = None,
) -> list[MnReport]:
    """Per-MN reports from the recorded frames (inbound only), sorted by MN. `grace` overrides the config's."""
    config = config or PlatformConfig()
    grace = timedelta(seconds=config.realtime_grace) if grace is None else grace
    reports: dict[str, MnReport] = {}
    seen: set[tuple[str, str, str, int | None]] = set()
    groups: list[HourGroup] = []
    for frame in frames:
        if frame.direction != "in" or (mn is not None and frame.mn != mn):
            continue
        rep = reports.setdefault(frame.mn or UNKNOWN_MN, MnReport(frame.mn or UNKNOWN_MN))
        if frame.verdict != "accepted":
            rep.rejected[frame.reason or "?"] += 1
            continue
        rep.frames_per_cn[frame.cn or "?"] += 1
        rep.resends += frame.rf
        if frame.cn in DATA_CNS and frame.data_time:
            key = (frame.mn or UNKNOWN_MN, frame.cn, frame.data_time, frame.pno)
            if key in seen:
                if frame.rf:
                    rep.resend_duplicates += 1
                elif frame.command_id is not None:
                    rep.fetched_duplicates += 1
                else:
                    rep.duplicates += 1
            seen.add(key)
        groups.extend(_hour_groups(frame))

    windows = {m.mn: m.hour_window() for m in config.mns}
    factors = {m.mn: m.factors for m in config.mns if m.factors and (mn is None or m.mn == mn)}
    checks = {m.mn: m.check_factors for m in config.mns}
    for row in rate_rows(groups, windows=windows, factors=factors, days=days, grace=grace, check_factors=checks):
        reports.setdefault(row.mn, MnReport(row.mn)).rates.append(row)
    return [reports[k] for k in sorted(reports)]


def report_from_store(
    store: PlatformStore,
    *,
    mn: str | None = None,
    days: Iterable[date] | None = None,
    grace: timedelta | None = None,
) -> list[MnReport]:
    """Report on a recording file, with the configuration the platform ran with (kept in its meta table)."""
    raw = store.meta("config")
    config = PlatformConfig.model_validate(raw) if raw else None
    return build_report(store.iter_frames(direction="in"), config, mn=mn, days=days, grace=grace)


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cell(text: str, width: int, *, left: bool = False) -> str:
    pad = " " * max(0, width - _width(text))
    return text + pad if left else pad + text


_KEY_COLUMNS = (("日期", "day", 12), ("因子", "factor", 10), ("应报", "expected", 10))
_TALLY_COLUMNS = (
    ("实报", "received", 10),
    ("不参与", "excluded", 10),
    ("有效", "valid", 7),
    ("传输率", "transmit", 10),
    ("有效率", "validity", 10),
    ("有效传输率", "effective", 12),
)
_VARIANTS = (("即时 / realtime", "realtime"), ("补全 / after back-fill", "complete"))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _tally_cells(t: Tally) -> list[str]:
    return [str(t.received), str(t.excluded), str(t.valid), _pct(t.transmission), _pct(t.validity), _pct(t.effective)]


def _rate_lines(rates: list[RateRow]) -> list[str]:
    """Day, factor, 应报, then the 即时 and 补全 columns under a spanning label."""
    key_w = sum(w for *_, w in _KEY_COLUMNS)
    tally_w = sum(w for *_, w in _TALLY_COLUMNS)
    widths = [w for *_, w in _KEY_COLUMNS] + [w for *_, w in _TALLY_COLUMNS] * len(_VARIANTS)

    def line(cells: list[str]) -> str:
        return "    " + "".join(_cell(c, w, left=i < 2) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    spans = "".join(_cell(f"  ── {label}", tally_w, left=True) for label, _ in _VARIANTS)
    lines = [("    " + " " * key_w + spans).rstrip()]
    for label in (0, 1):
        tally_heads = [col[label] for col in _TALLY_COLUMNS] * len(_VARIANTS)
        lines.append(line([col[label] for col in _KEY_COLUMNS] + tally_heads))
    for r in rates:
        lines.append(
            line([r.day.isoformat(), r.factor, str(r.expected), *_tally_cells(r.realtime), *_tally_cells(r.complete)])
        )
    return lines


def render_text(reports: list[MnReport]) -> str:
    """The report as plain-text tables, labels in Chinese and English."""
    if not reports:
        return "无记录 / nothing recorded"
    out: list[str] = []
    for rep in reports:
        out.append(f"== MN {rep.mn}")
        out.append("  报文数 / frames per CN:")
        for cn, n in sorted(rep.frames_per_cn.items()):
            out.append(f"    {cn}  {n:6d}  {cn_name(cn)}")
        if not rep.frames_per_cn:
            out.append("    (无 / none)")
        total = sum(rep.rejected.values())
        out.append(f"  拒收 / rejected: {total}")
        for reason, n in rep.rejected.most_common():
            out.append(f"    {n:6d}  {reason}")
        out.append(
            f"  重复 / duplicates: {rep.duplicates}   补传重复 / RF=1 repeats: {rep.resend_duplicates}"
            f"   应答提取 / fetched repeats: {rep.fetched_duplicates}   补传报文 / RF=1 frames: {rep.resends}"
        )
        if rep.rates:
            out.append(
                "  有效传输率 (小时数据; 有效率 = 有效 / (实报 − 不参与)) / "
                "effective transmission rate (hour data; validity = valid / (received − excluded)):"
            )
            out.extend(_rate_lines(rep.rates))
    return "\n".join(out)


def days_between(first: date, last: date) -> list[date]:
    return [date.fromordinal(d) for d in range(first.toordinal(), last.toordinal() + 1)]
