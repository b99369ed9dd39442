"""有效传输率 (effective transmission rate) per MN, factor and day, counted on hour data (regs.md §7).

The platform counts hourly data groups per monitored factor, in two variants: **即时** (realtime: the hour record
arrived on time) and **补全** (after back-fill: every copy received, resends and history answers included).
Per variant: 传输率 = 实报 / 应报, 有效率 = 有效 / (实报 − 不参与), 有效传输率 = 传输率 × 有效率 (regs.md §7
working formula). A group is valid when its flag is N or S (regs.md §0.3, §4.1); a group without a flag is
counted as received but not valid, since nothing says it was valid.

不参与有效数据组数: hours flagged F (停运, regs.md §7 "停运 periods are excluded") and, for the factors that run a
daily automatic standard check (COD, NH3-N, TP, TN: regs.md §3, ≤ 1 h a day), one C hour per day. Real platforms
also exclude on enterprise 工况 marks; those are not on the wire, so only the DAS flags are used here.

On time: not RF=1 (HJ 212-2025 resend), not an answer to a platform history request, and received before the end
of the hour after the record's hour (DataTime + 2 h) plus a configurable grace. An hour received twice counts
once per variant, with the flag of the copy received last (a resend may carry a corrected flag).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from agent.model import VALID_FLAGS

FULL_DAY = range(24)
STOPPED = "F"
CHECK = "C"
# 化学需氧量 COD, 氨氮 NH3-N, 总磷 TP, 总氮 TN: the analyzers with a daily automatic standard check (regs.md §3).
STANDARD_CHECK_FACTORS = ("w01018", "w21003", "w21011", "w21001")
_ON_TIME = timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class HourGroup:
    """One factor's group in one received hour record (CN 2061), in arrival order.

    `received_at` is the platform's wall time of arrival (None: unknown, taken as on time unless `rf`/`fetched`);
    `fetched` marks an answer to a platform history request.
    """

    mn: str
    factor: str
    hour: datetime  # DataTime: the hour's start
    flag: str | None
    received_at: datetime | None = None
    rf: bool = False
    fetched: bool = False

    def on_time(self, grace: timedelta) -> bool:
        """Whether the realtime (即时) count takes this copy."""
        if self.rf or self.fetched:
            return False
        return self.received_at is None or self.received_at < self.hour + _ON_TIME + grace


@dataclass(frozen=True, slots=True)
class Tally:
    """One variant's counts: 实报, 不参与, 有效 against 应报. Rates are None when their denominator is 0."""

    expected: int
    received: int = 0
    excluded: int = 0
    valid: int = 0

    @property
    def transmission(self) -> float | None:
        """传输率 = 实报 / 应报."""
        return self.received / self.expected if self.expected else None

    @property
    def validity(self) -> float | None:
        """有效率 = 有效 / (实报 − 不参与)."""
        counted = self.received - self.excluded
        return self.valid / counted if counted > 0 else None

    @property
    def effective(self) -> float | None:
        """有效传输率 = 传输率 × 有效率."""
        t, v = self.transmission, self.validity
        return None if t is None or v is None else t * v

    def as_dict(self) -> dict[str, object]:
        return {
            "received": self.received,
            "excluded": self.excluded,
            "valid": self.valid,
            "transmission_rate": self.transmission,
            "validity_rate": self.validity,
            "effective_rate": self.effective,
        }


@dataclass(frozen=True, slots=True)
class RateRow:
    """One factor of one MN on one day: 应报 and the 即时 and 补全 tallies.

    `received`, `valid` and the rates without a prefix are the 补全 figures (everything that arrived).
    """

    mn: str
    factor: str
    day: date
    expected: int
    realtime: Tally
    complete: Tally

    @property
    def received(self) -> int:
        return self.complete.received

    @property
    def valid(self) -> int:
        return self.complete.valid

    @property
    def excluded(self) -> int:
        return self.complete.excluded

    @property
    def transmission(self) -> float | None:
        return self.complete.transmission

    @property
    def validity(self) -> float | None:
        return self.complete.validity

    @property
    def effective(self) -> float | None:
        return self.complete.effective

    def as_dict(self) -> dict[str, object]:
        return {
            "mn": self.mn,
            "factor": self.factor,
            "day": self.day.isoformat(),
            "expected": self.expected,
            "realtime": self.realtime.as_dict(),
            "complete": self.complete.as_dict(),
        }


@dataclass
class _Flags:
    """Per (MN, factor, day): the last flag of every hour, one map per variant."""

    realtime: dict[int, str | None] = field(default_factory=dict)
    complete: dict[int, str | None] = field(default_factory=dict)


def _tally(flags: Mapping[int, str | None], expected: int, check_exempt: bool) -> Tally:
    values = list(flags.values())
    stopped = values.count(STOPPED)
    checks = min(1, values.count(CHECK)) if check_exempt else 0
    valid = sum(flag in VALID_FLAGS for flag in values)
    return Tally(expected, received=len(values), excluded=stopped + checks, valid=valid)


def rate_rows(
    groups: Iterable[HourGroup],
    *,
    windows: Mapping[str, range] | None = None,
    factors: Mapping[str, Iterable[str]] | None = None,
    days: Iterable[date] | None = None,
    grace: timedelta = timedelta(0),
    check_factors: Mapping[str, Iterable[str]] | None = None,
) -> list[RateRow]:
    """Rows per (MN, factor, day), sorted.

    `windows` gives each MN's reporting hours (default all 24); hours outside it are neither expected nor
    counted. `factors` adds factors an MN must report even if none arrived (they show 0 received). `days`
    fixes the days to report; by default, the days on which the MN sent hour data. `grace` extends the on-time
    limit of 即时. `check_factors` gives each MN's factors whose one C hour a day is 不参与 (default
    `STANDARD_CHECK_FACTORS`).
    """
    windows = windows or {}
    check_factors = check_factors or {}
    cells: dict[tuple[str, str, date], _Flags] = {}
    for g in groups:
        hour = g.hour.replace(minute=0, second=0, microsecond=0)
        cell = cells.setdefault((g.mn, g.factor, hour.date()), _Flags())
        cell.complete[hour.hour] = g.flag
        if g.on_time(grace):
            cell.realtime[hour.hour] = g.flag

    mns = {mn for mn, _, _ in cells} | set(factors or {})
    seen_days: dict[str, set[date]] = {mn: set() for mn in mns}
    seen_factors: dict[str, set[str]] = {mn: set((factors or {}).get(mn, ())) for mn in mns}
    for mn, factor, day in cells:
        seen_days[mn].add(day)
        seen_factors[mn].add(factor)
    fixed_days = sorted(set(days)) if days is not None else None

    rows = []
    for mn in sorted(mns):
        window = windows.get(mn, FULL_DAY)
        exempt = set(check_factors.get(mn, STANDARD_CHECK_FACTORS))
        for day in fixed_days if fixed_days is not None else sorted(seen_days[mn]):
            for factor in sorted(seen_factors[mn]):
                cell = cells.get((mn, factor, day), _Flags())
                in_window = [{h: f for h, f in m.items() if h in window} for m in (cell.realtime, cell.complete)]
                realtime, complete = (_tally(m, len(window), factor in exempt) for m in in_window)
                rows.append(RateRow(mn, factor, day, len(window), realtime, complete))
    return rows
