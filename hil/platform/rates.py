"""有效传输率 (effective transmission rate) per MN, factor and day, counted on hour data (regs.md §7).

The platform counts hourly data groups per monitored factor: 传输率 = 实报小时组数 / 应报小时组数,
有效率 = 有效小时组数 / 实报小时组数, 有效传输率 = 传输率 × 有效率 (= 有效 / 应报). A group is valid when its
flag is N or S (regs.md §0.3, §4.1); a group without a flag is counted as received but not valid, since
nothing says it was valid. 不参与 groups (enterprise 停运 marks) live on real platforms only, so none are excluded.
A hour sent twice counts once, with the flag of the copy received last (a resend may carry a corrected flag).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from agent.model import VALID_FLAGS

FULL_DAY = range(24)


@dataclass(frozen=True, slots=True)
class HourGroup:
    """One factor's group in one received hour record (CN 2061), in arrival order."""

    mn: str
    factor: str
    hour: datetime  # DataTime: the hour's start
    flag: str | None


@dataclass(frozen=True, slots=True)
class RateRow:
    """Counts and rates of one factor of one MN on one day. Rates are None when their denominator is 0."""

    mn: str
    factor: str
    day: date
    expected: int
    received: int
    valid: int

    @property
    def transmission(self) -> float | None:
        return self.received / self.expected if self.expected else None

    @property
    def validity(self) -> float | None:
        return self.valid / self.received if self.received else None

    @property
    def effective(self) -> float | None:
        return self.valid / self.expected if self.expected else None

    def as_dict(self) -> dict[str, object]:
        return {
            "mn": self.mn,
            "factor": self.factor,
            "day": self.day.isoformat(),
            "expected": self.expected,
            "received": self.received,
            "valid": self.valid,
            "transmission_rate": self.transmission,
            "validity_rate": self.validity,
            "effective_rate": self.effective,
        }


def rate_rows(
    groups: Iterable[HourGroup],
    *,
    windows: Mapping[str, range] | None = None,
    factors: Mapping[str, Iterable[str]] | None = None,
    days: Iterable[date] | None = None,
) -> list[RateRow]:
    """Rows per (MN, factor, day), sorted.

    `windows` gives each MN's reporting hours (default all 24); hours outside it are neither expected nor
    counted. `factors` adds factors an MN must report even if none arrived (they show 0 received). `days`
    fixes the days to report; by default, the days on which the MN sent hour data.
    """
    windows = windows or {}
    latest: dict[tuple[str, str, datetime], str | None] = {}
    for g in groups:
        latest[(g.mn, g.factor, g.hour.replace(minute=0, second=0, microsecond=0))] = g.flag

    mns = {mn for mn, _, _ in latest} | set(factors or {})
    seen_days: dict[str, set[date]] = {mn: set() for mn in mns}
    seen_factors: dict[str, set[str]] = {mn: set((factors or {}).get(mn, ())) for mn in mns}
    counts: dict[tuple[str, str, date], list[int]] = {}
    for (mn, factor, hour), flag in latest.items():
        seen_days[mn].add(hour.date())
        seen_factors[mn].add(factor)
        if hour.hour not in windows.get(mn, FULL_DAY):
            continue
        c = counts.setdefault((mn, factor, hour.date()), [0, 0])
        c[0] += 1
        c[1] += flag in VALID_FLAGS
    fixed_days = sorted(set(days)) if days is not None else None

    rows = []
    for mn in sorted(mns):
        expected = len(windows.get(mn, FULL_DAY))
        for day in fixed_days if fixed_days is not None else sorted(seen_days[mn]):
            for factor in sorted(seen_factors[mn]):
                received, valid = counts.get((mn, factor, day), (0, 0))
                rows.append(RateRow(mn, factor, day, expected, received, valid))
    return rows
