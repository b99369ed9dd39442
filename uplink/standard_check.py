"""Automatic standard-check results (HJ 212-2025 C59, 2062) from the analyzer's stored info values.

One builder for both ways a 2062 goes out: the daemon's upload when a new check time is polled, and the answer to
a platform's 2062 history request (BeginTime/EndTime), which finds the check-time values in device-info history
and rebuilds each result from the values stored up to then. Nothing is made up: a result the registers do not
fully give is None.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from buffer import Store

__all__ = ["CheckResult", "CheckSpec", "check_result", "stored_results"]

_EPOCH = datetime(2000, 1, 1)  # before any value a DAS stores
_INCLUSIVE = timedelta(microseconds=1)


class CheckSpec(Protocol):
    """A profile's `[standard_check]` (drivers.profiles.schema.StandardCheck): which info codes hold the result."""

    @property
    def time(self) -> str: ...
    @property
    def measured(self) -> str: ...
    @property
    def standard(self) -> str | None: ...
    @property
    def deviation(self) -> str | None: ...
    @property
    def result(self) -> str | None: ...
    @property
    def limit(self) -> float | None: ...


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One automatic standard check, as a 2062 carries it (HJ 212-2025 C59)."""

    time: datetime
    measured: float
    standard: float
    passed: bool


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def check_result(spec: CheckSpec, info: Mapping[str, object]) -> CheckResult | None:
    """The result the device's info holds, or None when a part is missing or unusable (then nothing is sent).

    StandardValue from its register, else from measured and deviation (measured = standard × (1 + dev/100));
    the verdict from the result register (1 pass), else |deviation| ≤ the profile's limit."""
    stamp = info.get(spec.time)
    try:
        when = datetime.strptime(str(stamp), "%Y%m%d%H%M%S")  # bcd_datetime info, HJ 212 B.10 time format
    except ValueError:
        return None
    measured = _number(info.get(spec.measured))
    deviation = _number(info.get(spec.deviation)) if spec.deviation else None
    standard = _number(info.get(spec.standard)) if spec.standard else None
    if measured is None:
        return None
    if standard is None and deviation is not None and deviation > -100:
        standard = measured / (1 + deviation / 100)
    if standard is None:
        return None
    if spec.result is not None:
        verdict = _number(info.get(spec.result))
        if verdict not in (0.0, 1.0):
            return None
        passed = verdict == 1.0
    else:
        if deviation is None:
            deviation = 100 * (measured - standard) / standard if standard else None
        if deviation is None or spec.limit is None:
            return None
        passed = abs(deviation) <= spec.limit
    return CheckResult(when, measured, standard, passed)


def stored_results(store: Store, device: str, spec: CheckSpec, begin: datetime, end: datetime) -> list[CheckResult]:
    """The device's completed checks whose DataTime (check start) lies in [begin, end], oldest first.

    Each check-time value in device-info history marks a result; its parts are the values stored up to the moment
    that time was stored (info is kept on change, so the latest at or before it is what the poll read)."""
    found: dict[datetime, CheckResult] = {}
    for entry in store.device_info_history(_EPOCH, datetime.max, device=device, code=spec.time):
        info: dict[str, object] = {spec.time: entry.value}
        for code in (spec.measured, spec.standard, spec.deviation, spec.result):
            if code:
                upto = store.device_info_history(_EPOCH, entry.time + _INCLUSIVE, device=device, code=code)
                if upto:
                    info[code] = upto[-1].value
        result = check_result(spec, info)
        if result is not None and begin <= result.time <= end:
            found[result.time] = result
    return [found[t] for t in sorted(found)]
