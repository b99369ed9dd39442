"""Deterministic sample values and a hand-moved clock shared by the store tests and the SIGKILL writer."""

from __future__ import annotations

from datetime import datetime, timedelta

from agent.model import FactorValues, Reading, Record, RecordKind

BASE = datetime(2024, 1, 1)
FACTORS = ("a21026", "a21002", "a34013", "a19001", "a01012", "a01013", "a01014", "a01011")


def minute_record(n: int, outlet: str = "MN0001", factors: int = 4) -> Record:
    """Record number n: a minute window n minutes after BASE with values that are a function of n."""
    groups = []
    for k, code in enumerate(FACTORS[:factors]):
        avg = ((n * 7919 + k * 104729) % 100003) / 7.0
        groups.append(
            FactorValues(
                factor=code,
                values={"Min": avg - 0.5, "Avg": avg, "Max": avg + 0.25, "Flag": "NSDCTBFM"[n % 8]},
                count=60 - (n + k) % 3,
            )
        )
    return Record(
        outlet=outlet,
        kind=RecordKind.MINUTE,
        data_time=BASE + timedelta(minutes=n),
        factors=tuple(groups),
        extra={"n": str(n)},
    )


def readings_batch(n: int, points: int = 10) -> list[Reading]:
    """Batch number n: one reading per point, at BASE + n seconds."""
    time = BASE + timedelta(seconds=n)
    return [
        Reading(
            device=f"dev{p % 3}",
            factor=f"p{p:03d}",
            time=time,
            value=None if (n + p) % 11 == 0 else ((n * 31 + p) % 997) / 3.0,
            unit="mg/m3",
            flag="B" if (n + p) % 11 == 0 else "N",
            raw=(n % 65536, p),
        )
        for p in range(points)
    ]


class FakeWallClock:
    """The agent's wall clock, moved by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta
