"""Outboxes: per target, pending until acked, ordered by priority class and data time."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from store_samples import BASE, FakeWallClock, minute_record

from agent.model import RecordKind
from buffer import Store, UnknownItemError


def _put(store: Store, n: int, kind: RecordKind = RecordKind.MINUTE, targets: tuple[str, ...] = ("prov",)) -> int:
    return store.put_record(replace(minute_record(n), kind=kind), targets)


def test_item_stays_pending_after_send_until_acked(store: Store, clock: FakeWallClock) -> None:
    _put(store, 1)
    (item,) = store.next_batch("prov")
    store.mark_sent(item.id, qn="20250301120000001")
    store.mark_sent(item.id, qn="20250301120020001", error="9014 timeout")
    again = store.get_outbox_item(item.id)
    assert again is not None and again.attempts == 2 and again.acked_at is None
    assert again.last_qn == "20250301120020001" and again.last_error == "9014 timeout"
    assert [i.id for i in store.next_batch("prov")] == [item.id]

    assert store.ack(item.id) is True
    assert store.ack(item.id) is False  # a duplicate 9014 is harmless
    assert store.next_batch("prov") == []
    with pytest.raises(UnknownItemError):
        store.ack(12345)
    with pytest.raises(UnknownItemError):
        store.mark_sent(12345)


def test_targets_are_independent(store: Store) -> None:
    _put(store, 1, targets=("prov", "city", "mqtt:plant"))
    (prov,) = store.pending("prov")
    store.ack(prov.id)
    assert store.pending("prov") == []
    assert len(store.pending("city")) == 1 and len(store.pending("mqtt:plant")) == 1
    assert sorted(store.outbox_targets()) == ["city", "mqtt:plant"]


def test_order_is_priority_class_then_oldest_data(store: Store) -> None:
    day = _put(store, 0, RecordKind.DAY)
    hour = _put(store, 1, RecordKind.HOUR)
    minutes = [_put(store, n) for n in (4, 2, 3)]
    rtd = _put(store, 9, RecordKind.RTD)
    order = [i.record_id for i in store.next_batch("prov", 10)]
    assert order == [rtd, minutes[1], minutes[2], minutes[0], hour, day]
    newest = store.pending("prov", 2, priority=1, newest_first=True)
    assert [i.record_id for i in newest] == [minutes[0], minutes[2]]


def test_live_items_come_before_the_backlog_and_in_flight_ones_are_skipped(store: Store, clock: FakeWallClock) -> None:
    backlog = [_put(store, n) for n in range(0, 5)]
    live = [_put(store, n) for n in range(100, 103)]
    live_since = BASE + timedelta(minutes=100)
    batch = store.next_batch("prov", 5, live_since=live_since)
    assert [i.record_id for i in batch] == [*live, *backlog[:2]]

    for item in batch:
        store.mark_sent(item.id)
    clock.advance(timedelta(seconds=5))
    waiting = store.next_batch("prov", 10, live_since=live_since, not_sent_since=clock.now - timedelta(seconds=20))
    assert [i.record_id for i in waiting] == backlog[2:]
    clock.advance(timedelta(seconds=30))  # no 9014 in time: the same items are due again
    resend = store.next_batch("prov", 10, live_since=live_since, not_sent_since=clock.now - timedelta(seconds=20))
    assert [i.record_id for i in resend] == [*live, *backlog]


def test_payload_items_and_explicit_enqueue(store: Store, clock: FakeWallClock) -> None:
    record_id = _put(store, 1, targets=())
    item = store.enqueue("prov", record_id=record_id)
    assert item is not None
    assert store.enqueue("prov", record_id=record_id) is None  # already pending there
    info = store.enqueue("prov", payload="DataTime=20250301120000;i12001-Info=0", kind="3020", priority=0)
    got = store.get_outbox_item(info)  # type: ignore[arg-type]
    assert got is not None and got.payload.startswith("DataTime") and got.data_time == clock.now  # type: ignore[union-attr]
    assert [i.id for i in store.next_batch("prov")] == [info, item]
    with pytest.raises(UnknownItemError):
        store.enqueue("prov", record_id=999)
    with pytest.raises(ValueError, match="exactly one"):
        store.enqueue("prov")


def test_backlog_stats_count_and_oldest_age(store: Store, clock: FakeWallClock) -> None:
    empty = store.backlog_stats("prov")
    assert empty.pending == 0 and empty.oldest_age is None
    start = clock.now
    _put(store, 5)
    clock.advance(timedelta(hours=2))
    _put(store, 1, RecordKind.HOUR)
    clock.advance(timedelta(minutes=30))
    stats = store.backlog_stats("prov")
    assert stats.pending == 2 and stats.by_priority == {1: 1, 2: 1}
    assert stats.oldest_enqueued_at == start and stats.oldest_age == timedelta(hours=2, minutes=30)
    assert stats.oldest_data_time == BASE + timedelta(minutes=1)
