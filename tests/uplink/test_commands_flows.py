"""The command table row by row (hj212.md §8): what each request is answered with and what it changes.

Unit level: a real `SessionContext` and store, frames recorded instead of sent (commands_harness.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from commands_harness import MN, T0, Devices, Harness

from agent.model import FactorValues, Record, RecordKind
from buffer import Store
from uplink.commands import CommandHandler, request_time_calibration
from uplink.overrides import effective_settings
from uplink.settings import ClockSetBounds

H = CommandHandler()
OK = [("9011", "QnRtn=1"), ("9012", "ExeRtn=1")]


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(tmp_path, devices=Devices())
    yield harness
    harness.store.close()


def reopened(h: Harness) -> dict[str, object]:
    """What a restarted agent would read back from the store for this target."""
    with Store(h.store.path) as again:
        return again.get_settings("national/o1")


async def test_get_time_answers_system_time_between_9011_and_9012(h: Harness) -> None:
    await H.handle(h.request("1011"), h.ctx)
    assert h.answers() == [OK[0], ("1011", "SystemTime=20260105120000"), OK[1]]
    data, awaited = h.sent[1]
    assert data.wants_answer and awaited and data.qn != h.sent[0][0].qn  # data gets a new QN (C.20)
    assert h.sent[0][0].qn == h.sent[2][0].qn == "20260105120000123"  # replies echo the request's QN


async def test_set_time_within_bounds_moves_the_agent_clock_and_logs_old_and_new(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="uplink.commands"):
        await H.handle(h.request("1012", "SystemTime=20260105120130"), h.ctx)
    assert h.answers() == OK
    assert h.clock.sets == [datetime(2026, 1, 5, 12, 1, 30)]
    assert "20260105120000 → 20260105120130" in caplog.text


@pytest.mark.parametrize(
    "system_time",
    ["20260105130000", "20190101000000", "2026010512"],  # a step over max_step_s, before `earliest`, not a time
)
async def test_set_time_outside_bounds_is_refused_exe_rtn_3_logged_and_clock_untouched(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, system_time: str
) -> None:
    h = Harness(tmp_path, clock_set_bounds=ClockSetBounds(max_step_s=600))
    with caplog.at_level(logging.WARNING, logger="uplink.commands"):
        await H.handle(h.request("1012", f"SystemTime={system_time}"), h.ctx)
    assert h.answers() == [("9011", "QnRtn=1"), ("9012", "ExeRtn=3")]
    assert h.clock.sets == [] and h.clock.now() == T0
    assert "1012" in caplog.text or "SystemTime" in caplog.text


async def test_intervals_are_read_and_set_and_persisted(h: Harness) -> None:
    await H.handle(h.request("1061"), h.ctx)
    await H.handle(h.request("1063"), h.ctx)
    assert [a for a in h.answers() if a[0] in ("1061", "1063")] == [
        ("1061", "RtdInterval=30"),
        ("1063", "MinInterval=10"),
    ]
    h.sent.clear()
    await H.handle(h.request("1062", "RtdInterval=60"), h.ctx)
    await H.handle(h.request("1064", "MinInterval=5"), h.ctx)
    assert h.answers() == OK + OK
    assert (h.settings.rtd_interval, h.settings.min_interval) == (60, 5)
    assert reopened(h) == {"rtd_interval": "60", "min_interval": "5"}


@pytest.mark.parametrize(
    ("cn", "cp"),
    [
        ("1062", "RtdInterval=10"),  # below 30 s (Table 4)
        ("1062", "RtdInterval=abc"),
        ("1062", ""),
        ("1064", "MinInterval=7"),  # does not divide an hour
        ("1072", "NewPW=12345"),  # 5 characters
        ("1072", "NewPW=12345!"),
        ("1000", "OverTime=0;ReCount=3"),
        ("1000", "OverTime=5"),  # ReCount missing: neither is stored
    ],
)
async def test_a_bad_value_ends_exe_rtn_3_and_changes_nothing(h: Harness, cn: str, cp: str) -> None:
    before = h.settings
    await H.handle(h.request(cn, cp), h.ctx)
    assert h.answers() == [("9011", "QnRtn=1"), ("9012", "ExeRtn=3")]
    assert h.settings == before and reopened(h) == {}


async def test_password_and_timeouts_are_persisted_and_survive_a_restart(h: Harness) -> None:
    await H.handle(h.request("1072", "NewPW=a1B2c3"), h.ctx)
    assert h.answers() == OK and all(f.pw == "123456" for f, _ in h.sent)  # replies echo the request's PW
    await H.handle(h.request("1000", "OverTime=5;ReCount=2", pw="a1B2c3"), h.ctx)
    assert h.answers() == OK + OK
    with Store(h.store.path) as again:
        restarted = effective_settings(h.settings.model_copy(update={"pw": "123456"}), again, "o1")
    assert (restarted.pw, restarted.over_time, restarted.re_count) == ("a1B2c3", 5.0, 2)
    h.sent.clear()
    await H.handle(h.request("1011"), h.ctx)  # the old PW is refused now
    assert h.answers() == [("9011", "QnRtn=3")]


async def test_realtime_and_state_switches(h: Harness) -> None:
    await H.handle(h.request("2012"), h.ctx)
    assert h.answers() == [("9013", "")] and h.settings.upload.rtd is False
    await H.handle(h.request("2011"), h.ctx)
    assert h.settings.upload.rtd is True
    await H.handle(h.request("2021"), h.ctx)
    assert h.settings.upload.state is True
    await H.handle(h.request("2022"), h.ctx)
    assert h.settings.upload.state is False
    assert h.cns() == ["9013", "9011", "9012", "9011", "9012", "9013"]
    assert reopened(h) == {"upload.rtd": "1", "upload.state": "0"}


def hour(h_: int, avg: float = 40.1, flag: str = "N", outlet: str = "o1") -> Record:
    factors = (FactorValues("w01018", {"Avg": avg, "Flag": flag}, 12),)
    return Record(outlet, RecordKind.HOUR, datetime(2026, 1, 5, h_), factors)


async def test_history_sends_each_record_as_its_own_packet_then_9012(h: Harness) -> None:
    for n in (8, 9, 10, 11):
        h.store.put_record(hour(n, 40.0 + n))
    h.store.put_record(hour(9, outlet="other"))
    await H.handle(h.request("2061", "BeginTime=20260105090000;EndTime=20260105110000"), h.ctx)
    assert h.answers() == [
        ("9011", "QnRtn=1"),
        ("2061", "DataTime=20260105090000;w01018-Avg=49.0,w01018-Flag=N"),
        ("2061", "DataTime=20260105100000;w01018-Avg=50.0,w01018-Flag=N"),
        ("2061", "DataTime=20260105110000;w01018-Avg=51.0,w01018-Flag=N"),  # EndTime is inclusive (C.47)
        ("9012", "ExeRtn=1"),
    ]
    assert all(f.wants_answer and awaited and f.pnum is None for f, awaited in h.sent[1:4])


async def test_history_without_answers_sends_no_ack_flag(tmp_path: Path) -> None:
    h = Harness(tmp_path, want_answer=False)
    h.store.put_record(hour(9))
    await H.handle(h.request("2061", "BeginTime=20260105090000;EndTime=20260105090000"), h.ctx)
    assert h.cns() == ["9011", "2061", "9012"]
    data, awaited = h.sent[1]
    assert data.flag == 4 and not awaited


async def test_2025_history_numbers_each_record_pnum_pno(tmp_path: Path) -> None:
    h = Harness(tmp_path, version=2025)
    for n in (1, 2, 3):
        h.store.put_record(hour(n))
    await H.handle(h.request("2061", "BeginTime=20260105000000;EndTime=20260105230000"), h.ctx)
    data = [f for f, _ in h.sent if f.cn == "2061"]
    assert [(f.pnum, f.pno, f.flag) for f in data] == [(3, 1, 11), (3, 2, 11), (3, 3, 11)]
    assert h.cns()[-1] == "9012" and h.sent[-1][0].cp.text == "ExeRtn=1"


async def test_a_record_longer_than_the_split_limit_goes_in_parts(h: Harness) -> None:
    factors = tuple(
        FactorValues(f"a2{n:04d}", {"Avg": 1.5, "Min": 1.0, "Max": 2.0, "Flag": "N"}, 12) for n in range(30)
    )
    h.store.put_record(Record("o1", RecordKind.HOUR, datetime(2026, 1, 5, 9), factors))
    await H.handle(h.request("2061", "BeginTime=20260105090000;EndTime=20260105090000"), h.ctx)
    parts = [f for f, _ in h.sent if f.cn == "2061"]
    assert len(parts) >= 2 and all(p.pnum == len(parts) and p.cp.get("DataTime") == "20260105090000" for p in parts)
    assert [p.pno for p in parts] == list(range(1, len(parts) + 1))
    assert h.cns()[-1] == "9012" and h.sent[-1][0].cp.text == "ExeRtn=1"


@pytest.mark.parametrize(
    ("cp", "last"),
    [
        ("BeginTime=20260105100000;EndTime=20260105110000", "ExeRtn=100"),  # nothing stored in the range
        ("BeginTime=20260105110000;EndTime=20260105100000", "ExeRtn=3"),  # BeginTime after EndTime
        ("BeginTime=20260105100000", "ExeRtn=3"),
        ("BeginTime=2026-01-05;EndTime=20260105110000", "ExeRtn=3"),
    ],
)
async def test_history_empty_or_bad_range(h: Harness, cp: str, last: str) -> None:
    await H.handle(h.request("2051", cp), h.ctx)
    assert h.answers() == [("9011", "QnRtn=1"), ("9012", last)]


async def test_history_stops_when_a_packet_is_not_acknowledged(h: Harness) -> None:
    for n in (1, 2):
        h.store.put_record(hour(n))
    h.delivered = False
    await H.handle(h.request("2061", "BeginTime=20260105000000;EndTime=20260105230000"), h.ctx)
    assert h.answers()[-1] == ("9012", "ExeRtn=4") and h.cns().count("2061") == 1


async def test_2025_2011_with_a_range_fetches_electricity_records_for_st_44(tmp_path: Path) -> None:
    h = Harness(tmp_path, version=2025)
    power = Record(
        "o1", RecordKind.RTD, datetime(2026, 1, 5, 8, 45), (FactorValues("d20105", {"Rtd": 220.2, "Flag": "N"}),)
    )
    gas = Record(
        "o1", RecordKind.RTD, datetime(2026, 1, 5, 8, 46), (FactorValues("a21026", {"Rtd": 12.0, "Flag": "N"}),)
    )
    h.store.put_records([power, gas])
    await H.handle(h.request("2011", "BeginTime=20260105080000;EndTime=20260105090000", st="44"), h.ctx)
    data = [f for f, _ in h.sent if f.cn == "2011"]
    assert [(f.st, f.cp.text, f.pnum, f.pno) for f in data] == [
        ("44", "DataTime=20260105084500;d20105-Rtd=220.2,d20105-Flag=N", 1, 1)
    ]
    assert h.settings.upload.rtd is True and reopened(h) == {}  # a fetch does not switch uploads


async def test_time_calibration_request_is_a_1013_that_waits_for_9013(h: Harness) -> None:
    assert await request_time_calibration(h.ctx)
    frame, awaited = h.sent[0]
    assert (frame.cn, frame.mn, frame.pw, frame.cp.text, frame.wants_answer, awaited) == (
        "1013",
        MN,
        "123456",
        "",
        True,
        True,
    )
