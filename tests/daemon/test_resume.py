"""A pipeline killed mid-hour (no flush) and resumed from the store gives exactly the records of an
uninterrupted run: no window lost, none counted twice (agent/daemon/pipeline.py, `OutletPipeline.resume`)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from agent.daemon.pipeline import AlarmBook, OutletPipeline, Routing
from agent.model import Reading, RecordKind
from agent.stats import FactorParams, OutletParams, recompute
from buffer import Store

START = datetime(2026, 1, 5, 0, 0, 0)
PARAMS = OutletParams(
    outlet="DA001",
    kind="gas",
    factors=(FactorParams(code="a21026", unit="mg/m3", convert_o2=False),),
)
FEEDS = {("cems", "a21026"): "a21026"}


def readings(begin: datetime, end: datetime) -> list[Reading]:
    out, t = [], begin
    while t < end:
        value = 30.0 + (t.minute % 7) + t.second / 100
        out.append(Reading("cems", "a21026", t, value, "mg/m3", "N" if t.minute % 11 else "D"))
        t += timedelta(seconds=5)
    return out


def pipeline(store: Store) -> OutletPipeline:
    routing = Routing(store=store)
    return OutletPipeline(PARAMS, FEEDS, store, routing, AlarmBook(store, routing), close_delay_s=10)


def run(p: OutletPipeline, store: Store, items: list[Reading]) -> None:
    """Like the daemon: commit a poll's readings, feed them, tick."""
    for r in items:
        store.add_readings([r])
        p.add([r])
        p.tick(r.time)


def test_kill_and_resume_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    end = START + timedelta(hours=3)
    all_readings = readings(START, end)
    store = Store(tmp_path / "das.sqlite")
    first = pipeline(store)
    first.resume(START)
    kill_at = START + timedelta(hours=1, minutes=37, seconds=3)
    run(first, store, [r for r in all_readings if r.time < kill_at])
    # SIGKILL: the engine's open windows are gone; 4 minutes pass before the restart.
    restart = kill_at + timedelta(minutes=4)
    second = pipeline(store)
    report = second.resume(restart)
    assert report.start == START and report.readings > 0
    run(second, store, [r for r in all_readings if r.time >= restart])
    second.flush(end)

    expected = recompute(
        [r for r in all_readings if r.time < kill_at or r.time >= restart], PARAMS, start=START, end=end
    )
    for kind in (RecordKind.MINUTE, RecordKind.HOUR):
        want = [r for r in expected.records if r.kind is kind]
        got = store.records("DA001", kind, START, end)
        assert [r.data_time for r in got] == [r.data_time for r in want]
        assert got == want
    hours = store.records("DA001", RecordKind.HOUR, START, end)
    assert len(hours) == 3
    minutes = store.records("DA001", RecordKind.MINUTE, START, end)
    assert len(minutes) == 180  # every minute once, the 4 dead minutes flagged, none twice
    dead = [m for m in minutes if kill_at - timedelta(minutes=1) < m.data_time < restart - timedelta(minutes=1)]
    assert dead and all(m.factors[0].values.get("Flag") == "B" for m in dead[1:])
    store.close()


def test_clean_stop_and_resume_remakes_no_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A SIGTERM flushes windows up to `now`; the resumed engine closes some of them again from the same stored
    readings. Identical re-made records are expected and quiet; only a record that differs is worth a warning."""
    end = START + timedelta(hours=1)
    all_readings = readings(START, end)
    store = Store(tmp_path / "das.sqlite")
    first = pipeline(store)
    first.resume(START)
    stop_at = START + timedelta(minutes=20, seconds=3)
    run(first, store, [r for r in all_readings if r.time < stop_at])
    first.flush(stop_at)
    second = pipeline(store)
    second.resume(stop_at)
    with caplog.at_level(logging.DEBUG):
        run(second, store, [r for r in all_readings if r.time >= stop_at])
        second.flush(end)
    assert not [
        r for r in caplog.records if r.levelno >= logging.WARNING and getattr(r, "event", "") == "record_exists"
    ]
    minutes = store.records("DA001", RecordKind.MINUTE, START, end)
    assert [m.data_time for m in minutes] == [START + timedelta(minutes=i) for i in range(60)]
    store.close()


def test_a_remade_record_that_differs_is_still_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = Store(tmp_path / "das.sqlite")
    p = pipeline(store)
    p.resume(START)
    run(p, store, readings(START, START + timedelta(minutes=3)))
    stored = store.records("DA001", RecordKind.MINUTE, START, START + timedelta(minutes=1))[0]
    group = stored.factors[0]
    changed = replace(stored, factors=(replace(group, values={**group.values, "Avg": -1.0}),))
    with caplog.at_level(logging.WARNING):
        assert p._put(changed) is False
    assert [r for r in caplog.records if r.levelno >= logging.WARNING and getattr(r, "event", "") == "record_exists"]
    store.close()
