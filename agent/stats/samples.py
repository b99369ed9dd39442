"""Statistics of one factor's readings in one window (minute or real-time snapshot)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from agent.model import Reading
from agent.stats.flags import invalid_flag, is_valid_flag, valid_flag
from agent.stats.params import FlagRule


@dataclass(frozen=True, slots=True)
class Stat:
    """mean/low/high of the values a window reports (valid ones; invalid ones only when nothing valid was read).

    `n` counts the values behind mean/low/high; `valid` is the window's validity and `flag` its HJ 212 flag.
    """

    mean: float | None
    low: float | None
    high: float | None
    n: int
    valid: bool
    flag: str

    def scaled(self, k: float) -> Stat:
        """A linear conversion (k > 0) of the same window."""
        if self.mean is None or self.low is None or self.high is None:
            return self
        return replace(self, mean=self.mean * k, low=self.low * k, high=self.high * k)

    @property
    def has_value(self) -> bool:
        return self.mean is not None


def missing_stat(rule: FlagRule) -> Stat:
    return Stat(None, None, None, 0, False, rule.missing)


def _usable(r: Reading) -> bool:
    return r.value is not None and math.isfinite(r.value)


def from_values(values: Sequence[float], *, valid: bool, flag: str) -> Stat:
    if not values:
        return Stat(None, None, None, 0, valid, flag)
    return Stat(math.fsum(values) / len(values), min(values), max(values), len(values), valid, flag)


def sample_stat(readings: Iterable[Reading], required: int, rule: FlagRule, *, all_valid: bool = False) -> Stat:
    """A window is valid with ≥ `required` valid readings (and, under rule 'all', no invalid one).

    A reading without a usable value counts as invalid with its own flag (a driver marks a failed read B/D).
    """
    good: list[float] = []
    good_flags: list[str] = []
    bad_values: list[float] = []
    bad_flags: list[str] = []
    for r in readings:
        if is_valid_flag(r.flag) and _usable(r):
            good.append(r.value)  # type: ignore[arg-type]
            good_flags.append(r.flag)
        else:
            bad_flags.append(r.flag if not is_valid_flag(r.flag) else rule.missing)
            if _usable(r):
                bad_values.append(r.value)  # type: ignore[arg-type]
    valid = len(good) >= required and not (all_valid and bad_flags)
    if valid:
        return from_values(good, valid=True, flag=valid_flag(good_flags))
    flags = bad_flags if bad_flags else [rule.missing]
    flag = invalid_flag(flags, rule)
    if not rule.report_invalid_values:
        return Stat(None, None, None, 0, False, flag)
    return from_values(good or bad_values, valid=False, flag=flag)


def required_samples(window_s: float, fraction: float, sample_period_s: float) -> int:
    """HJ 76 App. B samples every ≤ 5 s; HJ 212 C.16 note: a gas minute is N with ≥ 75 % of them."""
    return max(1, math.ceil(fraction * window_s / sample_period_s - 1e-9))


def combine_flags(stats: Iterable[Stat], rule: FlagRule) -> tuple[bool, str]:
    """Validity and flag of a value made from several inputs: valid when all are, else the most telling flag."""
    stats = list(stats)
    if all(s.valid for s in stats):
        return True, valid_flag(s.flag for s in stats)
    return False, invalid_flag([s.flag for s in stats if not s.valid], rule)


def batch_measurements(readings: Iterable[Reading], seen: dict[str, object] | None = None) -> list[Reading]:
    """One reading per completed batch measurement: the first of each distinct analyzer time (`device_time`).

    A batch analyzer (COD every 1-2 h) holds its last result in a register that is polled every few seconds; the
    analyzer's measurement time tells repeats from a new result. Without a device time every reading counts as a
    measurement (the driver then reports each result once). `seen` carries the last device time per factor
    between calls (the engine's state).
    """
    last = seen if seen is not None else {}
    out: list[Reading] = []
    for r in readings:
        if r.device_time is None:
            out.append(r)
            continue
        if last.get(r.factor) == r.device_time:
            continue
        last[r.factor] = r.device_time
        out.append(r)
    return out
