"""Turn a device's decoded state registers into HJ 212 flags and 3020 state codes, per its profile.

Vendors encode state as an enum, a bit word, a float code or an ASCII flag letter (devices.md §3, §5.2);
the profile's tables say which. Rows that match are ranked by flag severity, so an analyzer that reports
"measuring" and "fault" bits at once gives D, and its i12001 code comes from that same (worst) row.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from drivers.flags import SEVERITY
from drivers.profiles.schema import Profile, StateRow, StateTable

__all__ = ["StateOutcome", "evaluate_states", "match_rows"]

StateValue = int | float | str | bool | None
_RANK = {flag: rank for rank, flag in enumerate(SEVERITY)}


@dataclass(frozen=True, slots=True)
class StateOutcome:
    """Flags per value point (N when no state says otherwise), 3020 state codes, active state texts."""

    flags: dict[str, str]
    info: dict[str, int] = field(default_factory=dict)
    texts: tuple[str, ...] = ()


def _matches(table: StateTable, row: StateRow, value: StateValue) -> bool:
    if table.match == "mask":
        if isinstance(value, str) or value is None:
            return False
        return (int(value) & (row.mask or 0)) != 0
    if isinstance(row.value, str) or isinstance(value, str):
        return isinstance(row.value, str) and isinstance(value, str) and value == row.value
    if row.value is None or value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return abs(float(value) - float(row.value)) <= table.tolerance


def match_rows(table: StateTable, value: StateValue) -> list[StateRow]:
    """Rows of `table` that apply to `value`, worst flag first (file order among equals); `otherwise` if none."""
    rows = [row for row in table.rows if _matches(table, row, value)]
    if not rows and table.otherwise is not None and value is not None:
        rows = [table.otherwise]
    return sorted(rows, key=lambda r: _RANK[r.flag] if r.flag else len(SEVERITY))


def evaluate_states(profile: Profile, values: Mapping[str, StateValue]) -> StateOutcome:
    """Apply every state table of `profile` to the decoded state-point `values` (missing → no effect)."""
    targets = [p.name for p in profile.values()]
    flags = {name: "N" for name in targets}
    info: dict[str, tuple[int, int]] = {}  # code → (rank of the row that set it, value)
    texts: list[str] = []
    for key, table in profile.state.items():
        rows = match_rows(table, values.get(key))
        for row in rows:
            rank = _RANK[row.flag] if row.flag else len(SEVERITY)
            for code, number in row.info.items():
                if code not in info or rank < info[code][0]:
                    info[code] = (rank, number)
            if row.text:
                texts.append(row.text)
        flag = rows[0].flag if rows else None
        if flag is None:
            continue
        for name in table.applies_to or targets:
            if _RANK[flag] < _RANK[flags[name]]:
                flags[name] = flag
    return StateOutcome(flags, {code: v for code, (_, v) in info.items()}, tuple(texts))
