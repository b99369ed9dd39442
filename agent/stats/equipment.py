"""Equipment running time and state (HJ 212 2041 SBxxx-RT, 2021 SBxxx-RS) from digital inputs or power.

A facility runs while its reading is above `on_threshold` (a DI is 0/1, a power reading kW). A minute's running
time is the share of its valid readings that say "running" times the minute's length; a day's SBxxx-RT is the sum
in hours (N2.2, 0..24). Minutes without a valid reading add nothing: running time is never guessed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from agent.model import FactorValues, Reading, Record, RecordKind
from agent.stats.flags import is_valid_flag
from agent.stats.params import EquipmentParams, OutletParams

# HJ 212 Table 4 SBxxx-RS: 0 off, 1 running (2 calibration, 3 maintenance, 4 alarm, 5 blowback need other sources).
RS_OFF = 0
RS_RUN = 1


def _valid_values(readings: Iterable[Reading], eq: EquipmentParams) -> list[float]:
    return [
        r.value
        for r in readings
        if r.factor == eq.source and is_valid_flag(r.flag) and r.value is not None and math.isfinite(r.value)
    ]


def on_fraction(readings: Iterable[Reading], eq: EquipmentParams) -> float | None:
    """Share of the valid readings saying 'running'; None without any valid reading."""
    vals = _valid_values(readings, eq)
    if not vals:
        return None
    return sum(1 for v in vals if v > eq.on_threshold) / len(vals)


def minute_runtime(readings: Sequence[Reading], window_s: float, params: OutletParams) -> dict[str, float | None]:
    """Per equipment code the seconds it ran in the window (None: no valid reading)."""
    out: dict[str, float | None] = {}
    for eq in params.equipment:
        f = on_fraction(readings, eq)
        out[eq.code] = None if f is None else f * window_s
    return out


def runtime_day_record(minutes: Iterable[Mapping[str, float | None]], start: datetime, params: OutletParams) -> Record:
    """2041 record of the day starting at `start`: SBxxx-RT in hours from the minutes' running seconds."""
    minutes = list(minutes)
    groups = []
    for eq in params.equipment:
        secs = [s for m in minutes if (s := m.get(eq.code)) is not None]
        groups.append(FactorValues(eq.code, {"RT": math.fsum(secs) / 3600.0}, len(secs)))
    return Record(params.outlet, RecordKind.RUNTIME_DAY, start, tuple(groups))


def state_record(readings: Iterable[Reading], tick: datetime, params: OutletParams) -> Record | None:
    """2021 record at `tick` from each facility's latest valid reading; facilities without one are left out."""
    latest: dict[str, Reading] = {}
    sources = {eq.source for eq in params.equipment}
    for r in readings:
        if r.factor in sources and is_valid_flag(r.flag) and r.value is not None:
            prev = latest.get(r.factor)
            if prev is None or r.time >= prev.time:
                latest[r.factor] = r
    groups = []
    for eq in params.equipment:
        r = latest.get(eq.source)
        if r is not None:
            groups.append(FactorValues(eq.code, {"RS": RS_RUN if r.value > eq.on_threshold else RS_OFF}, 1))  # type: ignore[operator]
    if not groups:
        return None
    return Record(params.outlet, RecordKind.STATE, tick, tuple(groups))


def treatment_stopped(fractions: Mapping[str, float | None], params: OutletParams) -> tuple[bool, str]:
    """用电监控 linkage (regs.md §9): a production facility runs while a treatment facility is off, in one minute."""
    running = [eq for eq in params.equipment if eq.role == "production" and (fractions.get(eq.code) or 0.0) >= 0.5]
    stopped = [
        eq
        for eq in params.equipment
        if eq.role == "treatment" and fractions.get(eq.code) is not None and fractions[eq.code] < 0.5  # type: ignore[operator]
    ]
    if running and stopped:
        detail = (
            f"治理设施停运而生产设施运行 / treatment facility stopped while production runs: "
            f"{', '.join(e.code for e in stopped)} off, {', '.join(e.code for e in running)} running"
        )
        return True, detail
    return False, ""
