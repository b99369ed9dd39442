"""2062 history (HJ 212-2025 §5): the outlet's completed standard checks in BeginTime..EndTime, rebuilt from
device-info history by the builder the daemon's 2062 upload uses; 9011, one numbered 2062 per result, 9012."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from commands_harness import Devices, Harness

from drivers.profiles.schema import StandardCheck
from uplink.commands import CommandHandler
from uplink.hj212 import Cp

H = CommandHandler()
SPEC = StandardCheck(time="i13128", measured="i13130", deviation="i13129", limit=10)


@dataclass
class CheckingDevices(Devices):
    """The stand-in plus the outlet's standard-check profiles (the daemon's SiteServices.standard_checks)."""

    specs: Sequence[tuple[str, StandardCheck, list[str]]] = field(default_factory=list)

    def standard_checks(self, outlet: str) -> list[tuple[str, StandardCheck, list[str]]]:
        return list(self.specs) if outlet == "o1" else []


def poll(h: Harness, at: datetime, stamp: str, measured: float, deviation: float) -> None:
    """What a poll of the analyzer stores: its info values on change."""
    for code, value in (("i13128", stamp), ("i13130", measured), ("i13129", deviation)):
        h.store.add_device_info("cod", code, value, at)


def harness(tmp_path: Path, specs: Sequence[tuple[str, StandardCheck, list[str]]]) -> Harness:
    h = Harness(tmp_path, devices=CheckingDevices(specs=specs), version=2025)
    poll(h, datetime(2026, 1, 5, 2, 10), "20260105020000", 55.0, 10.0)  # pass: |10| ≤ 10
    poll(h, datetime(2026, 1, 5, 8, 10), "20260105080000", 44.0, -12.0)  # fail
    h.store.add_device_info("cod", "i13130", 47.0, datetime(2026, 1, 5, 9, 0))  # later values: not that check's
    poll(h, datetime(2026, 1, 6, 2, 10), "20260106020000", 50.0, 0.0)  # next day: outside the range below
    return h


async def test_each_check_in_the_range_is_a_numbered_2062_per_factor(tmp_path: Path) -> None:
    h = harness(tmp_path, [("cod", SPEC, ["w01018", "w21003"])])
    await H.handle(h.request("2062", "BeginTime=20260105000000;EndTime=20260105235959"), h.ctx)
    assert h.cns() == ["9011", "2062", "2062", "2062", "2062", "9012"]
    assert h.sent[-1][0].cp.text == "ExeRtn=1"
    data = [f for f, _ in h.sent if f.cn == "2062"]
    assert [(f.pnum, f.pno) for f in data] == [(4, 1), (4, 2), (4, 3), (4, 4)]
    cps = [Cp.parse(f.cp.text) for f in data]
    assert [c.get("DataTime") for c in cps] == ["20260105020000"] * 2 + ["20260105080000"] * 2
    assert float(cps[0].get("w01018-SampleRd") or "nan") == 55.0 == float(cps[1].get("w21003-SampleRd") or "nan")
    assert float(cps[0].get("w01018-StandardValue") or "nan") == pytest.approx(50.0)  # 55 = 50 × (1 + 10 %)
    assert [c.get(f"{p}-ResultType") for c, p in zip(cps, ["w01018", "w21003"] * 2, strict=True)] == list("1100")
    assert float(cps[2].get("w01018-SampleRd") or "nan") == 44.0  # the value stored with that check, not the later 47


async def test_both_ends_are_inclusive_on_the_check_time(tmp_path: Path) -> None:
    h = harness(tmp_path, [("cod", SPEC, ["w01018"])])
    await H.handle(h.request("2062", "BeginTime=20260105080000;EndTime=20260106020000"), h.ctx)
    times = [Cp.parse(f.cp.text).get("DataTime") for f, _ in h.sent if f.cn == "2062"]
    assert times == ["20260105080000", "20260106020000"]


async def test_no_check_in_the_range_or_no_profile_with_one_is_exe_rtn_100(tmp_path: Path) -> None:
    h = harness(tmp_path, [("cod", SPEC, ["w01018"])])
    await H.handle(h.request("2062", "BeginTime=20260104000000;EndTime=20260104235959"), h.ctx)
    assert h.answers() == [("9011", "QnRtn=1"), ("9012", "ExeRtn=100")]
    (tmp_path / "b").mkdir()
    h2 = harness(tmp_path / "b", [])  # no device of the outlet has a [standard_check]
    await H.handle(h2.request("2062", "BeginTime=20260105000000;EndTime=20260105235959"), h2.ctx)
    assert h2.answers() == [("9011", "QnRtn=1"), ("9012", "ExeRtn=100")]


async def test_an_incomplete_check_is_not_sent(tmp_path: Path) -> None:
    h = Harness(tmp_path, devices=CheckingDevices(specs=[("cod", SPEC, ["w01018"])]), version=2025)
    t = datetime(2026, 1, 5, 2, 10)
    h.store.add_device_info("cod", "i13128", "20260105020000", t)
    h.store.add_device_info("cod", "i13129", 3.0, t)  # no measured value: nothing to report
    h.store.add_device_info("cod", "i13130", 51.0, t + timedelta(minutes=1))  # came after the check time
    await H.handle(h.request("2062", "BeginTime=20260105000000;EndTime=20260105235959"), h.ctx)
    assert h.answers() == [("9011", "QnRtn=1"), ("9012", "ExeRtn=100")]
