"""Builders shared by the statistics tests: parameters and readings written out by hand, no engine code."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from agent.model import Reading, Record
from agent.stats import FactorParams, OutletParams

T0 = datetime(2024, 5, 1, 0, 0, 0)


def gas_params(**over: Any) -> OutletParams:
    """SO2 (limit 35), O2 with reference 6 %, a measured dry standard flow; 5 s samples, 1-min records."""
    base: dict[str, Any] = {
        "outlet": "DA001",
        "kind": "gas",
        "reference_o2": 6.0,
        "factors": (
            FactorParams(code="a21026", role="concentration", unit="mg/m3", decimals=2, limit=35.0, range=(0, 500)),
            FactorParams(code="a19001", role="o2", unit="%", decimals=1),
            FactorParams(code="a00000", role="flow", unit="m3/h", decimals=1),
        ),
    }
    base.update(over)
    return OutletParams(**base)


def water_params(**over: Any) -> OutletParams:
    base: dict[str, Any] = {
        "outlet": "DW001",
        "kind": "water",
        "flow_unit": "m3/h",
        "validity": {"sample_period_s": 60},
        "factors": (
            FactorParams(code="w01018", role="concentration", unit="mg/L", decimals=1, limit=50.0),
            FactorParams(code="w01001", role="mean", unit="", decimals=2),
            FactorParams(code="w00000", role="flow", unit="m3/h", decimals=2),
        ),
    }
    base.update(over)
    return OutletParams(**base)


def series(
    factor: str,
    start: datetime,
    values: Iterable[float | None],
    step_s: float = 5.0,
    flag: str = "N",
    device: str = "dev1",
    offset_s: float = 1.0,
) -> list[Reading]:
    """Readings of one factor every `step_s` seconds from `start + offset_s`."""
    out = []
    for i, v in enumerate(values):
        t = start + timedelta(seconds=offset_s + i * step_s)
        out.append(Reading(device=device, factor=factor, time=t, value=v, unit="", flag=flag))
    return out


def constant_minutes(factor: str, start: datetime, minutes: int, value: float, flag: str = "N", per_minute: int = 12):
    step = 60.0 / per_minute
    return series(factor, start, [value] * (minutes * per_minute), step_s=step, flag=flag)


def group(record: Record, factor: str) -> dict[str, float | str]:
    for g in record.factors:
        if g.factor == factor:
            return g.values
    raise KeyError(factor)


def by_time(readings: Iterable[Reading]) -> list[Reading]:
    return sorted(readings, key=lambda r: r.time)
