"""Intervals a platform sets by command reach what the daemon makes (docs/commands.md, docs/statistics.md):

- 1064 MinInterval is one value per system (HJ 212-2017 Table 4): the outlet's statistics switch to it at the
  next hour boundary (no hour mixes two intervals), the outlet's other platforms adopt it, and a restart keeps it;
- 1062 RtdInterval is a platform's upload rate: its session gets real-time records at least that far apart.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from agent.daemon.pipeline import AlarmBook, OutletPipeline, Routing
from agent.model import FactorValues, Reading, Record, RecordKind
from agent.stats import FactorParams, OutletParams
from buffer import Store
from uplink.manager import UplinkManager
from uplink.overrides import persist_setting
from uplink.settings import PlatformSettings

START = datetime(2026, 1, 5, 8, 0, 0)
PARAMS = OutletParams(
    outlet="DA001",
    kind="gas",
    min_interval=10,
    factors=(FactorParams(code="a21026", unit="mg/m3", convert_o2=False),),
)
FEEDS = {("cems", "a21026"): "a21026"}
NATIONAL = PlatformSettings(name="national", host="127.0.0.1", port=9, mns={"DA001": "MN1"})
PROVINCE = PlatformSettings(name="province", host="127.0.0.1", port=9, mns={"DA001": "MN2"})


class Clock:
    """The agent wall clock the store stamps settings with; the test moves it."""

    def __init__(self) -> None:
        self.t = START

    def now(self) -> datetime:
        return self.t

    def set(self, t: datetime) -> None:
        self.t = t


def build(store: Store, clock: Clock) -> tuple[OutletPipeline, UplinkManager]:
    routing = Routing([NATIONAL, PROVINCE], store=store)
    manager = UplinkManager([NATIONAL, PROVINCE], store, clock=clock)
    routing.attach(manager)
    return OutletPipeline(PARAMS, FEEDS, store, routing, AlarmBook(store, routing), close_delay_s=10), manager


def run(pipeline: OutletPipeline, store: Store, clock: Clock, until: datetime, at: Callable[[datetime], None]) -> None:
    """Like the daemon: a reading every 5 s, committed, fed, ticked; `at` runs before each reading."""
    t = clock.t
    while t < until:
        clock.t = t
        at(t)
        reading = Reading("cems", "a21026", t, 30.0 + t.minute % 7, "mg/m3", "N")
        store.add_readings([reading])
        pipeline.add([reading])
        pipeline.tick(t)
        t += timedelta(seconds=5)
    clock.t = until


def minute_starts(store: Store, begin: datetime, end: datetime) -> list[str]:
    return [f"{r.data_time:%H:%M}" for r in store.records("DA001", RecordKind.MINUTE, begin, end)]


def test_1064_switches_the_statistics_at_the_next_hour_and_survives_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    with Store(tmp_path / "das.sqlite", clock=clock.now) as store:
        pipeline, manager = build(store, clock)
        pipeline.resume(START)
        national = manager.sessions["national/DA001"]

        def platform_sets_5_at_0825(t: datetime) -> None:
            if t == START + timedelta(minutes=25):  # what the session does for a 1064 (uplink/commands/intervals)
                national.adopt(persist_setting(national.settings, store, "DA001", "min_interval", "5"))

        run(pipeline, store, clock, START + timedelta(hours=1, minutes=37), platform_sets_5_at_0825)
        hour8 = START, START + timedelta(hours=1)
        assert minute_starts(store, *hour8) == ["08:00", "08:10", "08:20", "08:30", "08:40", "08:50"]
        assert minute_starts(store, hour8[1], clock.t)[:3] == ["09:00", "09:05", "09:10"]
        [hour] = store.records("DA001", RecordKind.HOUR, *hour8)
        assert hour.factors[0].count == 6  # the 08 hour is made of its six 10-minute records
        # One value per system: the other platform answers 1063 with it too, and keeps it after a restart.
        assert manager.sessions["province/DA001"].settings.min_interval == 5
        assert store.get_settings("province/DA001")["min_interval"] == "5"

        # SIGKILL at 09:37, restart at 09:40: the replay makes 5-minute windows from 09:00 and stores no duplicate.
        clock.t = START + timedelta(hours=1, minutes=40)
        restarted, _ = build(store, clock)
        restarted.resume(clock.t)
        run(restarted, store, clock, START + timedelta(hours=2, minutes=1), lambda t: None)
        hour9 = hour8[1], hour8[1] + timedelta(hours=1)
        assert minute_starts(store, *hour9) == [f"09:{m:02d}" for m in range(0, 60, 5)]
        [hour] = store.records("DA001", RecordKind.HOUR, *hour9)
        assert hour.factors[0].count == 12 - 1  # 09:35 was cut by the kill: no reading, not valid


def rtd(t: datetime) -> Record:
    return Record("DA001", RecordKind.RTD, t, (FactorValues("a21026", {"Rtd": 1.0, "Flag": "N"}),))


def test_1062_thins_the_real_time_records_of_that_platform_only(tmp_path: Path) -> None:
    clock = Clock()
    with Store(tmp_path / "das.sqlite", clock=clock.now) as store:
        persist_setting(PROVINCE, store, "DA001", "rtd_interval", "60")  # the province sent 1062 RtdInterval=60
        manager = UplinkManager([NATIONAL, PROVINCE], store, clock=clock)
        got = [manager.targets_for(rtd(START + timedelta(seconds=s))) for s in (0, 30, 60, 90, 120)]
        assert [len(targets) for targets in got] == [2, 1, 2, 1, 2]
        assert all("national/DA001" in targets for targets in got)
