"""Readings: batch insert in one transaction, range query per device and factor."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from store_samples import BASE, readings_batch

from agent.model import Reading
from buffer import BadValueError, Store


def test_batch_round_trips_none_values_raw_and_device_time(store: Store) -> None:
    batch = [replace(r, device_time=r.time - timedelta(seconds=2)) for r in readings_batch(11)]
    assert store.add_readings(batch) == len(batch)
    for reading in batch:
        got = store.readings(reading.device, reading.factor, BASE, BASE + timedelta(days=1))
        assert got == [reading]
    assert any(r.value is None for r in batch)


def test_range_query_is_half_open_and_time_ordered(store: Store) -> None:
    for n in (5, 1, 3, 2, 4):
        store.add_readings(readings_batch(n, points=2))
    got = store.readings("dev0", "p000", BASE + timedelta(seconds=2), BASE + timedelta(seconds=5))
    assert [r.time for r in got] == [BASE + timedelta(seconds=s) for s in (2, 3, 4)]
    assert store.readings("dev9", "p000", BASE, BASE + timedelta(days=1)) == []


def test_duplicate_sample_is_kept_once_and_not_counted(store: Store) -> None:
    batch = readings_batch(7, points=3)
    assert store.add_readings(batch) == 3
    assert store.add_readings([replace(batch[0], value=999.0)]) == 0
    assert store.readings("dev0", "p000", BASE, BASE + timedelta(days=1)) == [batch[0]]


def test_one_bad_reading_rejects_the_whole_batch(store: Store) -> None:
    good = readings_batch(1, points=3)
    bad = Reading(device="dev0", factor="p001", time=BASE, value=float("inf"), unit="mg/m3")
    with pytest.raises(BadValueError, match="not finite"):
        store.add_readings([*good, bad])
    with pytest.raises(BadValueError, match="unknown flag"):
        store.add_readings([replace(good[0], flag="X")])
    assert store.readings("dev0", "p000", BASE, BASE + timedelta(days=1)) == []
    assert store.add_readings(good) == 3  # series created by the rolled-back batch are not cached as existing
