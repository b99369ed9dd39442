"""A pipeline killed mid-hour (no flush) and resumed from the store gives exactly the records of an
uninterrupted run: no window lost, none counted twice (agent/daemon/pipeline.py, `OutletPipeline.resume`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

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
