"""A day straddling a DAS clock change (platform CN 1012): readings are bucketed by their own timestamp, a closed
window is never reopened (backward jump: late readings dropped, nothing counted twice) and skipped windows carry the
missing flag (forward jump: nothing filled in). docs/statistics.md § Clock changes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from stats_build import T0, gas_params, group

from agent.model import Reading, Record
from agent.stats import StatsEngine

H = timedelta(hours=1)
M = timedelta(minutes=1)


def _params():
    return gas_params(validity={"sample_period_s": 60})


def _poll(t: datetime, so2: float) -> list[Reading]:
    return [
        Reading("cems", "a21026", t, so2, "mg/m3"),
        Reading("cems", "a19001", t, 9.0, "%"),
        Reading("flow", "a00000", t, 60000.0, "m3/h"),
    ]


def _run(stamps: list[tuple[datetime, float]]) -> tuple[list[Record], StatsEngine]:
    """Feed polls in arrival order, the agent clock being each poll's stamp, then close the day."""
    engine = StatsEngine(_params(), start=T0)
    records: list[Record] = []
    for t, v in stamps:
        records += engine.advance(t).records
        for r in _poll(t, v):
            engine.add(r)
    records += engine.flush(T0 + 24 * H).records
    return records, engine


def _day(records: list[Record]) -> Record:
    return next(r for r in records if r.kind == "day")


@pytest.mark.parametrize(("jump_h", "flag", "valid_hours"), [(3, "N", 21), (5, "B", 19)])
def test_forward_jump_leaves_missing_hours(jump_h: int, flag: str, valid_hours: int) -> None:
    before = [(T0 + i * M + timedelta(seconds=5), 10.0) for i in range(5 * 60)]
    after = [(T0 + (5 + jump_h) * H + i * M + timedelta(seconds=5), 10.0) for i in range((19 - jump_h) * 60)]
    records, engine = _run(before + after)
    hours = [r for r in records if r.kind == "hour"]
    assert len(hours) == 24  # every hour exactly once
    skipped = [h for h in hours if 5 <= h.data_time.hour < 5 + jump_h]
    assert all(group(h, "a21026") == {"Flag": "B"} for h in skipped)
    day = group(_day(records), "a21026")
    assert day["Flag"] == flag
    assert _day(records).factors[0].count == valid_hours
    assert day["Cou"] == pytest.approx(valid_hours * 10.0 * 60000.0 * 1e-6)  # only hours that happened
    assert engine.dropped_late == 0


def test_backward_jump_counts_nothing_twice() -> None:
    first = [(T0 + i * M + timedelta(seconds=5), 10.0) for i in range(12 * 60 + 30)]
    # at 12:30 the clock is set back to 12:00; the re-lived half hour reads 99 mg/m3
    relived = [(T0 + 12 * H + i * M + timedelta(seconds=5), 99.0) for i in range(30)]
    rest = [(T0 + 12 * H + 30 * M + i * M + timedelta(seconds=5), 10.0) for i in range(11 * 60 + 30)]
    records, engine = _run(first + relived + rest)
    straight, _ = _run(first + rest)
    # windows closed before the jump (up to 12:28, the clock then being 12:29:05 minus the 10 s close delay)
    # are final: 28 re-lived polls are dropped; the last two land in windows still open and are averaged there
    assert engine.dropped_late == 28 * 3
    minutes = [r for r in records if r.kind == "minute"]
    assert len(minutes) == len({m.data_time for m in minutes}) == 24 * 60
    relived_minutes = [m for m in minutes if T0 + 12 * H <= m.data_time < T0 + 12 * H + 28 * M]
    assert all(group(m, "a21026")["Avg"] == 10.0 for m in relived_minutes)
    assert group(minutes[12 * 60 + 28], "a21026")["Avg"] == pytest.approx((10.0 + 99.0) / 2)
    hours = [r for r in records if r.kind == "hour"]
    assert len(hours) == 24
    day, plain = group(_day(records), "a21026"), group(_day(straight), "a21026")
    assert day["Flag"] == plain["Flag"] == "N"
    # the day's flow total is that of the straight day: no minute is counted twice
    assert group(_day(records), "a00000")["Cou"] == group(_day(straight), "a00000")["Cou"] == 24 * 60000.0
