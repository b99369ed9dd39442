"""The flag of a window: N (or S) when the validity rule holds, else the most telling invalid flag.

regs.md §4.1 [U]: no rule text was found for the aggregate flag, so the choice is `FlagRule.mode`: 'order' picks the
first flag of `FlagRule.order` present (default), 'dominant' the most frequent (ties by order), 'fixed' always
`FlagRule.fixed` (HJ 212 App. C note for gas: "else D").

The default order (F, D, M, C, T, B) is not the driver's reading severity (B first, drivers/flags.py) on purpose:
a reading's flag is the cause sure for one value, a window's the most telling state among its inputs, the
analyzer's own before the link's gap. docs/statistics.md (Flags) gives the reasons.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from agent.model import VALID_FLAGS
from agent.stats.params import FlagRule


def is_valid_flag(flag: object) -> bool:
    return flag in VALID_FLAGS


def valid_flag(flags: Iterable[str]) -> str:
    """A valid window is N, or S when every value it used was a manual set value."""
    seen = set(flags)
    return "S" if seen == {"S"} else "N"


def invalid_flag(flags: Iterable[str], rule: FlagRule) -> str:
    """Pick the flag of an invalid window from the invalid flags of its inputs (missing when there are none)."""
    bad = [f for f in flags if f not in VALID_FLAGS]
    if not bad:
        return rule.missing
    if rule.mode == "fixed":
        return rule.fixed
    rank = {f: i for i, f in enumerate(rule.order)}
    if rule.mode == "dominant":
        counts = Counter(bad)
        return min(counts, key=lambda f: (-counts[f], rank.get(f, len(rank)), f))
    return min(bad, key=lambda f: (rank.get(f, len(rank)), f))
