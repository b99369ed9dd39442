"""Records: one row per outlet/kind/window, recompute only when asked, enqueue in the same transaction."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_samples import BASE, FakeWallClock, minute_record

from agent.model import FactorValues, Record, RecordKind
from buffer import BadValueError, RecordExistsError, Store


def test_record_round_trips_with_suffix_order_counts_and_extra(store: Store) -> None:
    record = Record(
        outlet="MN0001",
        kind=RecordKind.HOUR,
        data_time=datetime(2025, 3, 1, 11),
        factors=(
            FactorValues(
                "a21026", {"Cou": 1.25e-3, "Min": 0.0, "Avg": 12.5, "Max": 30.0, "ZsAvg": 14.1, "Flag": "N"}, 57
            ),
            FactorValues("a19001", {"Avg": 7.3, "NewSuffix2025": "x"}, 3),
        ),
        extra={"说明": "测试"},
    )
    record_id = store.put_record(record)
    got = store.get_record(record_id)
    assert got == record
    assert got is not None and [list(g.values) for g in got.factors] == [list(g.values) for g in record.factors]
    assert store.get_record(record_id + 1) is None


def test_same_window_is_refused_unless_replace_is_asked(store: Store, clock: FakeWallClock) -> None:
    first = minute_record(5)
    record_id = store.put_record(first)
    with pytest.raises(RecordExistsError) as err:
        store.put_record(minute_record(5))
    assert err.value.record_id == record_id

    clock.advance(timedelta(minutes=3))
    fixed = replace(first, factors=(replace(first.factors[0], values={"Avg": 1.0, "Flag": "N"}),))
    assert store.put_record(fixed, replace=True) == record_id
    stored = store.get_stored_record(record_id)
    assert stored is not None
    assert stored.record == fixed and stored.revision == 2
    assert stored.updated_at - stored.created_at == timedelta(minutes=3)

    assert store.put_record(fixed, replace=True) == record_id  # identical recompute: no new revision
    assert store.get_stored_record(record_id).revision == 2  # type: ignore[union-attr]


def test_range_query_is_half_open_oldest_first_and_per_outlet_and_kind(store: Store) -> None:
    for n in (3, 0, 2, 1, 4):
        store.put_record(minute_record(n))
    store.put_record(minute_record(2, outlet="MN0002"))
    store.put_record(replace(minute_record(2), kind=RecordKind.RTD))
    got = store.records("MN0001", "minute", BASE + timedelta(minutes=1), BASE + timedelta(minutes=4))
    assert got == [minute_record(1), minute_record(2), minute_record(3)]
    assert store.records("MN0002", RecordKind.MINUTE, BASE, BASE + timedelta(days=1)) == [minute_record(2, "MN0002")]


def test_put_record_enqueues_for_every_target_in_one_transaction(store: Store) -> None:
    record_id = store.put_record(minute_record(1), ["prov", "city"])
    for target in ("prov", "city"):
        (item,) = store.pending(target)
        assert item.record_id == record_id and item.kind == "minute" and item.priority == 1

    bad = replace(minute_record(2), factors=(FactorValues("a21026", {"Avg": float("nan")}),))
    with pytest.raises(BadValueError, match="finite"):
        store.put_record(bad, ["prov"])
    assert len(store.pending("prov")) == 1  # the failed put left no orphan outbox item


def test_replacement_is_enqueued_again_only_where_not_pending(store: Store) -> None:
    record_id = store.put_record(minute_record(1), ["prov", "city"])
    (sent,) = store.pending("prov")
    store.ack(sent.id)
    changed = replace(minute_record(1), extra={"recomputed": "1"})
    store.put_record(changed, ["prov", "city"], replace=True)
    assert [i.record_id for i in store.pending("prov")] == [record_id]  # sent again: it changed after the ack
    assert len(store.pending("city")) == 1  # still pending: it will carry the new revision anyway


def test_put_records_is_all_or_nothing(store: Store) -> None:
    store.put_record(minute_record(3))
    new_layout = minute_record(1, factors=2)
    with pytest.raises(RecordExistsError):
        store.put_records([new_layout, minute_record(2), minute_record(3)], ["prov"])
    assert store.records("MN0001", "minute", BASE, BASE + timedelta(days=1)) == [minute_record(3)]
    assert store.pending("prov") == []
    assert store.get_record(store.put_record(new_layout)) == new_layout  # no stale layout id left cached


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (replace(minute_record(1), data_time=datetime(2025, 1, 1, tzinfo=UTC)), "naive local"),
        (replace(minute_record(1), kind="week"), "unknown record kind"),  # type: ignore[arg-type]
        (replace(minute_record(1), outlet=""), "outlet"),
        (replace(minute_record(1), factors=(FactorValues("a21026", {"Avg": True}),)), "number or text"),
        (replace(minute_record(1), factors=(FactorValues("a", {}), FactorValues("a", {}))), "twice"),
    ],
)
def test_bad_records_get_a_clear_error_and_store_nothing(store: Store, record: Record, message: str) -> None:
    with pytest.raises(BadValueError, match=message):
        store.put_record(record, ["prov"])
    assert store.db.conn.execute("SELECT count(*) FROM record").fetchone()[0] == 0
    assert store.put_record(minute_record(1)) > 0  # and the store still works


_codes = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
_values = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-(2**53), 2**53), st.text())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    groups=st.dictionaries(_codes, st.tuples(st.dictionaries(st.text(min_size=1), _values), st.integers(0, 10**6))),
    extra=st.dictionaries(st.text(), st.text()),
    minute=st.integers(0, 10**7),
)
def test_any_record_round_trips_exactly(
    store: Store, groups: dict[str, tuple[dict[str, float | str], int]], extra: dict[str, str], minute: int
) -> None:
    record = Record(
        outlet="MN-prop",
        kind=RecordKind.MINUTE,
        data_time=BASE + timedelta(minutes=minute, microseconds=minute % 997),
        factors=tuple(FactorValues(code, values, count) for code, (values, count) in groups.items()),
        extra=extra,
    )
    got = store.get_record(store.put_record(record, replace=True))
    assert got == record
    assert got is not None and [list(g.values) for g in got.factors] == [list(g.values) for g in record.factors]
