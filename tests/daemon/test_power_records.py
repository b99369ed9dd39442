"""ST=44 power records and the equipment records (2021 SBxxx-RS, 2041 SBxxx-RT) through the pipeline and the store.

A meter's readings go into the store; every interval the pipeline makes one CN 2011 record of the configured
d-codes (agent/daemon/power.py) and enqueues it only for the HJ 212-2025 session that takes power data; a failed
read goes as Flag=B without a value. The same meter drives the facility's state (2021, to platforms with
upload.state) and its day running time (2041, once the day closes). The ST=44 history fetch finds the records.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from agent.config.build import PowerPlan
from agent.daemon.clock import AgentClock
from agent.daemon.pipeline import AlarmBook, OutletPipeline, Routing
from agent.model import Reading, Record, RecordKind
from agent.stats import EquipmentParams, FactorParams, OutletParams
from buffer import Store
from uplink.commands.history import _wanted
from uplink.cp_build import power_stream, record_st, record_to_cp
from uplink.manager import UplinkManager
from uplink.settings import PlatformSettings, UploadKinds

T0 = datetime(2026, 1, 5, 23, 50, 0)
PARAMS = OutletParams(
    outlet="DW001",
    kind="water",
    factors=(FactorParams(code="w01018", unit="mg/L"),),
    equipment=(EquipmentParams(code="SB1", name="line", role="production", source="d20501", on_threshold=5.0),),
)
FEEDS = {("cod", "w01018"): "w01018", ("meter", "d20501"): "d20501"}
POWER = PowerPlan(interval_s=30, points=(("meter", "d20101", 2), ("meter", "d20501", 1)), platforms=("province",))


def platforms() -> list[PlatformSettings]:
    national = PlatformSettings(
        name="national", host="127.0.0.1", port=9, st="32", mns={"DW001": "MN1"}, upload=UploadKinds(power=False)
    )
    province = PlatformSettings(
        name="province",
        host="127.0.0.1",
        port=9,
        version=2025,
        st="32",
        mns={"DW001": "MN2"},
        upload=UploadKinds(state=True),  # as after the platform's 2021
        decimals={"d20101": 2, "d20501": 1},
    )
    return [national, province]


def pipeline_for(store: Store, clock: AgentClock, manager: bool = True) -> OutletPipeline:
    settings = platforms()
    routing = Routing(settings, store=store)
    if manager:
        routing.attach(UplinkManager(settings, store, clock=clock))
    return OutletPipeline(PARAMS, FEEDS, store, routing, AlarmBook(store, routing), close_delay_s=5.0, power=POWER)


def meter(t: datetime, volts: float | None, kw: float | None) -> list[Reading]:
    flag = "N" if volts is not None else "B"
    return [
        Reading("meter", "d20101", t, volts, "V", flag),
        Reading("meter", "d20501", t, kw, "kW", "N" if kw is not None else "B"),
    ]


def feed(store: Store, pipeline: OutletPipeline, readings: list[Reading]) -> None:
    with store.transaction():
        store.add_readings(readings)
    pipeline.add(readings)


def targets_of(store: Store, target: str, kind: str) -> list[int]:
    return [i.record_id for i in store.pending(target, 10_000) if i.kind == kind and i.record_id is not None]


def run_until(store: Store, pipeline: OutletPipeline, end: datetime, volts: float = 220.2) -> None:
    t = T0
    while t < end:
        failed = T0 + timedelta(seconds=60) < t <= T0 + timedelta(seconds=90)  # the meter does not answer
        feed(store, pipeline, meter(t, None if failed else volts, None if failed else 12.34))
        t += timedelta(seconds=5)
        pipeline.tick(t)


def test_power_records_go_to_the_2025_platform_with_their_codes(tmp_path: Path) -> None:
    clock = AgentClock(start=T0)
    with Store(tmp_path / "das.sqlite", clock=clock.now) as store:
        pipeline = pipeline_for(store, clock)
        pipeline.resume(T0)
        run_until(store, pipeline, T0 + timedelta(minutes=3))
        rtd = store.records("DW001", RecordKind.RTD, T0, T0 + timedelta(hours=1))
        # Stored under the outlet's power stream: its own 2011 record of the same tick stays beside it.
        power = store.records(power_stream("DW001"), RecordKind.RTD, T0, T0 + timedelta(hours=1))
        assert len(power) >= 4 and all(record_st(r, "32") == "44" for r in power)
        assert {r.data_time for r in power} <= {r.data_time for r in rtd}
        first = power[0]
        assert first.data_time == T0 + timedelta(seconds=30)
        cp = record_to_cp(first, platforms()[1].decimals)
        assert "d20101-Rtd=220.20,d20101-Flag=N;d20501-Rtd=12.3,d20501-Flag=N" in cp.text
        failed = next(r for r in power if r.data_time == T0 + timedelta(seconds=90))
        assert {f.factor: f.values for f in failed.factors} == {"d20101": {"Flag": "B"}, "d20501": {"Flag": "B"}}

        # Only the 2025 platform that takes power data; the outlet's own real-time data to both.
        def power_items(target: str) -> int:
            items = store.pending(target, 10_000)
            return sum(1 for i in items if i.record_id and store.get_record(i.record_id).outlet.endswith(":44"))

        assert power_items("province/DW001") == len(power) and power_items("national/DW001") == 0
        assert targets_of(store, "national/DW001", "rtd")
        # The ST=44 history fetch selects them, the outlet's own 2011 records never (uplink/commands/history.py).
        assert all(_wanted(r, "44", "32") for r in power)
        assert not [r for r in rtd if _wanted(r, "44", "32")]
        # The live 2011 answer is the outlet's own real-time record, not the power one.
        assert pipeline.latest[RecordKind.RTD].factors[0].factor == "w01018"


def test_without_a_manager_the_routing_also_keeps_power_data_to_2025(tmp_path: Path) -> None:
    clock = AgentClock(start=T0)
    with Store(tmp_path / "das.sqlite", clock=clock.now) as store:
        pipeline = pipeline_for(store, clock, manager=False)
        pipeline.resume(T0)
        run_until(store, pipeline, T0 + timedelta(minutes=1))
        power = store.records(power_stream("DW001"), RecordKind.RTD, T0, T0 + timedelta(hours=1))
        assert power
        assert [i.record_id for i in store.pending("province/DW001", 10_000) if i.data_time == power[0].data_time]
        for target, wanted in (("province/DW001", True), ("national/DW001", False)):
            outlets = {store.get_record(i.record_id).outlet for i in store.pending(target, 10_000) if i.record_id}
            assert (power_stream("DW001") in outlets) is wanted, target


def test_state_and_day_running_time_reach_the_platform_targets(tmp_path: Path) -> None:
    """2021 goes to the platform that switched it on (upload.state); 2041 to both once the day closed."""
    clock = AgentClock(start=T0)
    with Store(tmp_path / "das.sqlite", clock=clock.now) as store:
        # The agent has run since midnight (its first minute is stored), so the day is whole and gets a 2041.
        store.put_record(Record("DW001", RecordKind.MINUTE, datetime(2026, 1, 5), ()))
        pipeline = pipeline_for(store, clock)
        pipeline.resume(T0)
        run_until(store, pipeline, T0 + timedelta(minutes=12))  # crosses midnight
        states = store.records("DW001", RecordKind.STATE, T0, T0 + timedelta(hours=1))
        assert states and all(r.factors[0].values == {"RS": 1} for r in states)
        assert targets_of(store, "province/DW001", "state") and not targets_of(store, "national/DW001", "state")
        days = store.records("DW001", RecordKind.RUNTIME_DAY, T0 - timedelta(days=1), T0 + timedelta(days=1))
        assert [r.data_time for r in days] == [datetime(2026, 1, 5)]
        rt = days[0].factors[0].values["RT"]
        # Readings only in the 10 minutes before midnight, all of them running (the failed reads are not valid
        # readings, so the minute is the share of its valid ones): 10 minutes; the hours before add nothing.
        assert abs(float(rt) - 10 / 60) < 1e-9
        for target in ("province/DW001", "national/DW001"):
            assert targets_of(store, target, "runtime_day"), target
