"""Alarms (open/close, active, by range) and device info / parameter history (3019/3020)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from agent.model import Alarm
from buffer import BadValueError, Store, UnknownItemError

T0 = datetime(2025, 3, 1, 8)


def test_alarm_lifecycle_active_and_range(store: Store) -> None:
    over = store.open_alarm(Alarm("over_limit", T0, "SO2 超标", outlet="MN1", factor="a21026"))
    lost = store.open_alarm(Alarm("comm_lost", T0 + timedelta(hours=2), "通讯中断", device="cems1", level="error"))
    assert [a.id for a in store.active_alarms()] == [over, lost]
    assert [a.id for a in store.active_alarms(device="cems1")] == [lost]

    store.close_alarm(over, T0 + timedelta(hours=1), detail="SO2 超标 38 min")
    store.close_alarm(over, T0 + timedelta(hours=5))  # second close keeps the first end
    stored = store.get_alarm(over)
    assert stored is not None and stored.alarm.end == T0 + timedelta(hours=1)
    assert stored.alarm.detail == "SO2 超标 38 min"
    assert [a.id for a in store.active_alarms()] == [lost]

    assert [a.id for a in store.alarms(T0 + timedelta(minutes=30), T0 + timedelta(minutes=31))] == [over]
    assert [a.id for a in store.alarms(T0 + timedelta(hours=1, minutes=1), T0 + timedelta(hours=3))] == [lost]
    assert store.alarms(T0 - timedelta(hours=1), T0) == []


def test_alarm_errors(store: Store) -> None:
    with pytest.raises(UnknownItemError):
        store.close_alarm(99, T0)
    alarm_id = store.open_alarm(Alarm("zero", T0, "零值"))
    with pytest.raises(BadValueError, match="before its start"):
        store.close_alarm(alarm_id, T0 - timedelta(seconds=1))


def test_device_info_keeps_changes_only_and_answers_latest_and_history(store: Store) -> None:
    assert store.add_device_info("cod1", "i13004", 168.0, T0, factor="w01018") is not None
    assert store.add_device_info("cod1", "i13004", 168.0, T0 + timedelta(minutes=1), factor="w01018") is None
    store.add_device_info("cod1", "i13004", 165.5, T0 + timedelta(minutes=2), factor="w01018")
    store.add_device_info("cod1", "i11001", "//清洗管路//", T0 + timedelta(minutes=3), factor="w01018")
    store.add_device_info("cod1", "SN", "HB-COD-0001", T0)
    store.add_device_info("cod1", "SN", "HB-COD-0002", T0 + timedelta(days=1))  # instrument replaced (3019)

    latest = {(e.factor, e.code): e.value for e in store.latest_device_info("cod1")}
    assert latest == {("w01018", "i13004"): 165.5, ("w01018", "i11001"): "//清洗管路//", ("", "SN"): "HB-COD-0002"}
    history = store.device_info_history(T0, T0 + timedelta(hours=1), device="cod1", code="i13004")
    assert [(e.value, e.time) for e in history] == [(168.0, T0), (165.5, T0 + timedelta(minutes=2))]
    assert [e.value for e in store.device_info_history(T0, T0 + timedelta(days=2), code="SN")] == [
        "HB-COD-0001",
        "HB-COD-0002",
    ]
    with pytest.raises(BadValueError):
        store.add_device_info("cod1", "i13004", float("nan"), T0)
