"""Helpers for uplink tests and benchmarks: synthetic records, and a fixed `LiveValues`.

The statistics engine is not the point of uplink tests (issue 5, point 7): outages are simulated by writing a
week of records straight into the store while the platform refuses, with values that differ per record so a
wrong or shuffled record cannot pass for the right one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from agent.model import FactorValues, Record, RecordKind

GAS_FACTORS = ("a21026", "a21002", "a34013", "a19001")
DECIMALS = {"a21026": 2, "a21002": 1, "a34013": 1, "a19001": 1, "a21005": 3}


def window_record(outlet: str, kind: RecordKind, t: datetime, n: int, factors: Sequence[str] = GAS_FACTORS) -> Record:
    """A minute/hour/day record with Cou/Min/Avg/Max/Flag per factor; values depend on `n` and the factor."""
    groups = []
    for k, code in enumerate(factors):
        avg = round(10.0 + (n * 7 + k * 13) % 400 / 10, 1)
        values: dict[str, float | str] = {"Min": round(avg - 1.5, 1), "Avg": avg, "Max": round(avg + 2.25, 2)}
        if kind is not RecordKind.MINUTE or k % 2 == 0:
            values = {"Cou": round(avg * 3.6, 3), **values}
        values["Flag"] = "N"
        groups.append(FactorValues(code, values, count=60))
    return Record(outlet=outlet, kind=kind, data_time=t, factors=tuple(groups))


def rtd_record(outlet: str, t: datetime, n: int, factors: Sequence[str] = GAS_FACTORS) -> Record:
    groups = tuple(
        FactorValues(code, {"Rtd": round(20.0 + (n * 3 + k) % 50 / 10, 2), "Flag": "N"}, count=1)
        for k, code in enumerate(factors)
    )
    return Record(outlet=outlet, kind=RecordKind.RTD, data_time=t, factors=groups)


def series(
    outlet: str, kind: RecordKind, start: datetime, step: timedelta, count: int, factors: Sequence[str] = GAS_FACTORS
) -> Iterator[Record]:
    for n in range(count):
        yield window_record(outlet, kind, start + n * step, n, factors)


class FixedLive:
    """`LiveValues` that returns given records (the daemon's statistics engine in real use)."""

    def __init__(self, rtd: dict[str, Record] | None = None, state: dict[str, Record] | None = None) -> None:
        self.rtd = rtd or {}
        self.state = state or {}

    def latest_rtd(self, outlet: str) -> Record | None:
        return self.rtd.get(outlet)

    def latest_state(self, outlet: str) -> Record | None:
        return self.state.get(outlet)
