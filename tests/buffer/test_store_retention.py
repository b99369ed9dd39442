"""Retention: ages per kind, the disk budget, and what pruning must never drop."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from store_samples import FakeWallClock, minute_record, readings_batch

from agent.model import Alarm, Reading, Record, RecordKind
from buffer import DISK_BUDGET_ALARM, BadValueError, RetentionPolicy, Store

NOW = datetime(2025, 3, 1, 12)


def _record(kind: RecordKind, at: datetime, n: int = 0, outlet: str = "MN0001") -> Record:
    return replace(minute_record(n, outlet), kind=kind, data_time=at)


def _kinds_left(store: Store) -> list[tuple[str, str]]:
    rows = store.db.conn.execute("SELECT kind, data_time FROM record ORDER BY kind, data_time").fetchall()
    return [(k, t[:10]) for k, t in rows]


def test_default_ages_per_record_kind(store: Store) -> None:
    ages = {
        RecordKind.RTD: (89, 91),
        RecordKind.MINUTE: (364, 366),
        RecordKind.HOUR: (1095, 1097),
        RecordKind.DAY: (1095, 1097),
    }
    for kind, (young, old) in ages.items():
        store.put_record(_record(kind, NOW - timedelta(days=young)))
        store.put_record(_record(kind, NOW - timedelta(days=old)))
    report = store.prune(NOW)
    assert report.deleted == {"rtd": 1, "minute": 1, "hour": 1, "day": 1}
    assert _kinds_left(store) == sorted(
        (kind.value, (NOW - timedelta(days=young)).date().isoformat()) for kind, (young, _) in ages.items()
    )


def test_a_record_an_outbox_waits_for_is_kept_until_acked(store: Store) -> None:
    old = NOW - timedelta(days=400)
    record_id = store.put_record(_record(RecordKind.MINUTE, old), ["prov", "city"])
    report = store.prune(NOW)
    assert report.deleted == {} and report.kept_pending == {"minute": 1}
    for item in store.pending("prov"):
        store.ack(item.id, at=NOW)
    assert store.prune(NOW).kept_pending == {"minute": 1}  # city still waits
    (city,) = store.pending("city")
    store.ack(city.id, at=NOW)
    assert store.prune(NOW).deleted == {"minute": 1}
    assert store.get_record(record_id) is None


def test_schema_trigger_refuses_to_delete_a_pending_record(store: Store) -> None:
    record_id = store.put_record(_record(RecordKind.HOUR, NOW), ["prov"])
    with pytest.raises(sqlite3.IntegrityError, match="pending outbox"):
        store.db.conn.execute("DELETE FROM record WHERE id = ?", (record_id,))
    assert store.get_record(record_id) is not None


def _reading_times(store: Store) -> list[datetime]:
    return [r.time for r in store.readings("dev0", "p000", datetime(2000, 1, 1), datetime(2100, 1, 1))]


def test_readings_past_their_age_are_kept_until_their_day_is_computed(store: Store) -> None:
    days = [NOW - timedelta(days=d) for d in (40, 35, 31, 29)]
    store.add_readings(Reading("dev0", "p000", t, 1.0, "mg/m3") for t in days)
    assert store.prune(NOW).deleted == {}  # no day computed yet: they may still be needed
    store.put_record(_record(RecordKind.DAY, datetime.combine(days[1].date(), datetime.min.time())))
    assert store.prune(NOW).deleted == {"readings": 2}  # up to the end of the newest computed day only
    assert _reading_times(store) == days[2:]
    store.put_record(_record(RecordKind.DAY, datetime.combine(NOW.date(), datetime.min.time())))
    assert store.prune(NOW).deleted == {"readings": 1}  # now only age protects the 29-day-old one
    assert _reading_times(store) == days[3:]


def test_alarms_device_info_and_acked_items_age_out_but_current_state_stays(store: Store) -> None:
    long_ago = NOW - timedelta(days=1200)
    closed = store.open_alarm(Alarm("zero", long_ago, "零值", end=long_ago + timedelta(hours=1)))
    still_active = store.open_alarm(Alarm("comm_lost", long_ago, "通讯中断"))
    store.add_device_info("cod1", "i13004", 168.0, long_ago - timedelta(days=1))
    store.add_device_info("cod1", "i13004", 165.0, long_ago)
    store.add_device_info("cod1", "SN", "OLD-SN-1", long_ago)
    acked = store.enqueue("prov", payload="3020 ...", kind="3020")
    store.ack(acked, at=NOW - timedelta(days=8))  # type: ignore[arg-type]
    fresh = store.enqueue("prov", payload="3020 ...", kind="3020")
    store.ack(fresh, at=NOW - timedelta(days=1))  # type: ignore[arg-type]

    report = store.prune(NOW)
    assert report.deleted == {"alarms": 1, "device_info": 1, "outbox_acked": 1}
    assert store.get_alarm(closed) is None and store.get_alarm(still_active) is not None
    assert {(e.code, e.value) for e in store.latest_device_info("cod1")} == {("i13004", 165.0), ("SN", "OLD-SN-1")}
    assert store.get_outbox_item(acked) is None and store.get_outbox_item(fresh) is not None  # type: ignore[arg-type]


def _fill(store: Store, minutes: int, targets: tuple[str, ...] = ()) -> None:
    start = NOW - timedelta(days=10)
    store.put_records([_record(RecordKind.MINUTE, start + timedelta(minutes=n), n) for n in range(minutes)], targets)
    store.put_records([_record(RecordKind.HOUR, start + timedelta(hours=n), n) for n in range(minutes // 60)])


def test_disk_budget_deletes_oldest_allowed_data_first_and_never_hour_records(store: Store) -> None:
    _fill(store, 3000)
    store.add_readings(r for n in range(200) for r in readings_batch(n))
    before = store.used_bytes()
    budget = before // 2
    report = store.prune(NOW, replace(store.policy, disk_budget=budget, chunk_rows=50))
    assert report.alarm is None and report.used_bytes <= budget
    assert report.deleted.get("hour", 0) == 0 and report.deleted["minute"] > 0
    assert report.deleted.get("readings", 0) == 0  # no day computed: readings are protected
    times = [t for (t,) in store.db.conn.execute("SELECT data_time FROM record WHERE kind = 'minute'")]
    gone = 3000 - len(times)
    assert gone == report.deleted["minute"]
    assert min(times) == (NOW - timedelta(days=10) + timedelta(minutes=gone)).isoformat(
        sep=" ", timespec="microseconds"
    )
    assert store.active_alarms(DISK_BUDGET_ALARM) == []


def test_budget_cuts_readings_first_once_their_day_is_computed(store: Store) -> None:
    store.add_readings(r for n in range(0, 7200, 2) for r in readings_batch(n))  # two hours of 10 points
    _fill(store, 600)
    store.put_record(_record(RecordKind.DAY, datetime(2024, 1, 1)))  # readings_batch times are on that day
    budget = store.used_bytes() - 40_000
    report = store.prune(datetime(2024, 1, 2, 12), replace(store.policy, disk_budget=budget))  # readings are young
    assert report.alarm is None and set(report.deleted) == {"readings"}
    left = store.readings("dev0", "p000", datetime(2024, 1, 1), datetime(2024, 1, 2))
    assert left and left[0].time >= datetime(2024, 1, 1, 1)  # the oldest hour went first


def test_budget_that_cannot_be_met_raises_one_alarm_and_deletes_nothing_pending(
    store: Store, clock: FakeWallClock
) -> None:
    _fill(store, 1200, targets=("prov",))
    policy = replace(store.policy, disk_budget=store.used_bytes() // 3)
    first = store.prune(NOW, policy)
    assert first.alarm is not None and first.alarm.kind == DISK_BUDGET_ALARM and "budget" in first.alarm.detail
    assert first.deleted.get("minute", 0) == 0
    assert store.prune(NOW + timedelta(hours=1), policy).alarm == first.alarm
    (active,) = store.active_alarms(DISK_BUDGET_ALARM)

    while batch := store.next_batch("prov", 500):  # the platform is back and acks the backlog
        for item in batch:
            store.ack(item.id)
    later = NOW + timedelta(hours=2)
    report = store.prune(later, policy)
    assert report.alarm is None and report.used_bytes <= policy.disk_budget  # type: ignore[operator]
    closed = store.get_alarm(active.id)
    assert closed is not None and closed.alarm.end == later
    assert store.active_alarms(DISK_BUDGET_ALARM) == []


def test_freed_pages_go_back_to_the_disk(store: Store, db_path: Path) -> None:
    _fill(store, 6000)
    store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = db_path.stat().st_size
    store.prune(NOW + timedelta(days=400))  # every minute record is past its year now
    store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert db_path.stat().st_size < size / 2
    assert store.integrity_check() == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ages": {"hour": timedelta(days=200)}}, "at least 365 days"),
        ({"ages": {"weekly": timedelta(days=2)}}, "unknown kind"),
        ({"ages": {"readings": timedelta(0)}}, "positive"),
        ({"budget_kinds": ("readings", "day")}, "may only cut"),
        ({"disk_budget": 0}, "positive number of bytes"),
    ],
)
def test_bad_policies_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(BadValueError, match=message):
        RetentionPolicy(**kwargs)  # type: ignore[arg-type]


def test_partial_ages_keep_the_other_defaults() -> None:
    policy = RetentionPolicy(ages={"readings": timedelta(days=7)})
    assert policy.ages["readings"] == timedelta(days=7) and policy.ages["minute"] == timedelta(days=365)
