"""CP from records and events: expected texts written by hand from HJ 212-2017 Appendix C and 2025 C59."""

from __future__ import annotations

from datetime import datetime

import pytest

from agent.model import FactorValues, Record, RecordKind
from uplink.cp_build import (
    instrument_sn_cp,
    is_power_record,
    parse_payload,
    payload_item,
    record_cn,
    record_st,
    record_to_cp,
    restart_cp,
    site_info_cp,
    standard_check_cp,
)
from uplink.hj212 import Cp, CpError

T = datetime(2026, 1, 5, 8, 0)


def _record(kind: RecordKind, factors: tuple[FactorValues, ...], **extra: str) -> Record:
    return Record(outlet="o1", kind=kind, data_time=T, factors=factors, extra=dict(extra))


@pytest.mark.parametrize(
    ("kind", "cn"),
    [
        (RecordKind.RTD, "2011"),
        (RecordKind.MINUTE, "2051"),
        (RecordKind.HOUR, "2061"),
        (RecordKind.DAY, "2031"),
        (RecordKind.RUNTIME_DAY, "2041"),
        (RecordKind.STATE, "2021"),
    ],
)
def test_record_cn_per_kind(kind: RecordKind, cn: str) -> None:
    assert record_cn(_record(kind, ())) == cn


def test_hour_record_cp_uses_factor_decimals_and_keeps_order() -> None:
    rec = _record(
        RecordKind.HOUR,
        (
            FactorValues("a21026", {"Cou": 1.2346, "Min": 10.0, "Avg": 12.346, "Max": 15.5, "Flag": "N"}),
            FactorValues("a19001", {"Avg": 8.26, "Flag": "D"}),
        ),
    )
    cp = record_to_cp(rec, {"a21026": 2, "a21026-Cou": 3, "a19001": 1})
    assert cp.text == (
        "DataTime=20260105080000;"
        "a21026-Cou=1.235,a21026-Min=10.00,a21026-Avg=12.35,a21026-Max=15.50,a21026-Flag=N;"
        "a19001-Avg=8.3,a19001-Flag=D"
    )


def test_extra_plain_keys_follow_datatime() -> None:
    rec = _record(RecordKind.RUNTIME_DAY, (FactorValues("SB1", {"RT": 23.5}),), PolId="a21026")
    assert record_to_cp(rec, {"SB1": 2}).text == "DataTime=20260105080000;PolId=a21026;SB1-RT=23.50"


def test_a_nan_value_is_refused_not_sent() -> None:
    rec = _record(RecordKind.MINUTE, (FactorValues("a21026", {"Avg": float("nan"), "Flag": "N"}),))
    with pytest.raises(CpError):
        record_to_cp(rec, {})


def test_power_records_go_with_st_44_others_with_the_platform_st() -> None:
    power = _record(RecordKind.RTD, (FactorValues("d20105", {"Rtd": 220.2, "Flag": "N"}),))
    gas = _record(RecordKind.RTD, (FactorValues("a21026", {"Rtd": 1.0, "Flag": "N"}),))
    assert is_power_record(power) and not is_power_record(gas)
    assert record_st(power, "31") == "44"
    assert record_st(gas, "31") == "31"


def test_event_cps() -> None:
    assert instrument_sn_cp(T, "w01018", "SN123").text == "DataTime=20260105080000;PolId=w01018;w01018-SN=SN123"
    assert site_info_cp(T, "w01018", {"i12001": 1, "i13004": 168.0}).text == (
        "DataTime=20260105080000;PolId=w01018;i12001-Info=1;i13004-Info=168.0"
    )
    assert site_info_cp(T, None, {"i22001": 0}).text == "DataTime=20260105080000;i22001-Info=0"
    assert restart_cp(T, datetime(2026, 1, 5, 7, 59, 30)).text == "DataTime=20260105080000;RestartTime=20260105075930"
    assert standard_check_cp(T, "w01018", 49.6, 50, True, {"w01018": 1}).text == (
        "DataTime=20260105080000;w01018-SampleRd=49.6,w01018-StandardValue=50.0,w01018-ResultType=1"
    )


def test_payload_round_trip_and_bad_payloads() -> None:
    cp = Cp.parse("DataTime=20260105080000;PolId=w01018;i12001-Info=1")
    back = parse_payload(payload_item("3020", cp, st="32"))
    assert (back.cn, back.cp, back.st) == ("3020", cp, "32")
    for bad in ("not json", '{"cn": "30", "cp": ""}', '{"cp": "a=1"}'):
        with pytest.raises(CpError):
            parse_payload(bad)
