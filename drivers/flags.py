"""HJ 212 data flags decided at the source: device state, measuring range, 4–20 mA faults, link failures.

The flag travels with every reading from the driver on (regs.md §4.1): statistics only count N (and S) as
valid, so a flag set here is what keeps a calibration spike or a broken wire out of the hourly mean.
When several reasons apply to one value the most severe one wins (`worst`): a failed read (B) hides
everything, a faulty analyzer (D) outranks its stopped/maintenance/calibration modes, and "above range" (T)
only matters when the analyzer itself says it is measuring.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from agent.model import FLAGS

__all__ = [
    "FLAG_TEXT",
    "NAMUR_HIGH_MA",
    "NAMUR_LOW_MA",
    "SEVERITY",
    "CurrentLoop",
    "LoopResult",
    "range_flag",
    "worst",
]

# Most severe first. S (manual set value) never comes from a device; it sits just above N so a manual
# value is not silently replaced by a device flag elsewhere in the chain.
SEVERITY: tuple[str, ...] = ("B", "D", "F", "M", "C", "T", "S", "N")
_RANK = {flag: rank for rank, flag in enumerate(SEVERITY)}
assert set(SEVERITY) == set(FLAGS)

# HJ 212-2017 Table 8 (hj212.md §5).
FLAG_TEXT: dict[str, str] = {
    "N": "正常 / normal",
    "F": "停运 / stopped",
    "M": "维护 / maintenance",
    "S": "手工设定值 / manual value",
    "D": "故障 / fault",
    "C": "校准 / calibration",
    "T": "超测量上限 / above measuring range",
    "B": "通讯异常 / communication failure",
}

# NAMUR NE 43 (devices.md §3): a loop current at or below 3.6 mA or at or above 21 mA is a failure signal
# (wire break, short, transmitter fault), never a measurement.
NAMUR_LOW_MA = 3.6
NAMUR_HIGH_MA = 21.0


def worst(flags: Iterable[str]) -> str:
    """The most severe of `flags` (N when empty)."""
    return min(flags, key=_RANK.__getitem__, default="N")


def range_flag(value: float, upper: float | None) -> str:
    """T when `value` is above the measuring upper limit (HJ 212 Table 8 "超测量上限"), else N."""
    if upper is not None and value > upper:
        return "T"
    return "N"


@dataclass(frozen=True, slots=True)
class LoopResult:
    """A 4–20 mA channel turned into an engineering value; `value` is None with flag D on a loop fault."""

    value: float | None
    flag: str
    milliamps: float


@dataclass(frozen=True, slots=True)
class CurrentLoop:
    """Linear 4–20 mA → engineering range [low, high] with NAMUR NE 43 failure detection.

    Between 3.6 and 4 mA the transmitter says "at or below the bottom of its range" (NE 43 under-range band):
    the value is held at `low`. Above 20 mA the linear value is kept and flagged T (over range), up to the
    21 mA failure limit. A wire break reads 0 mA: flag D and no value, never a zero concentration.
    """

    low: float
    high: float

    def convert(self, milliamps: float) -> LoopResult:
        if math.isnan(milliamps) or milliamps <= NAMUR_LOW_MA or milliamps >= NAMUR_HIGH_MA:
            return LoopResult(None, "D", milliamps)
        span = self.high - self.low
        if milliamps < 4.0:
            return LoopResult(self.low, "N", milliamps)
        value = self.low + (milliamps - 4.0) / 16.0 * span
        return LoopResult(value, "T" if milliamps > 20.0 else "N", milliamps)
