"""`check_result`: a profile's `[standard_check]` codes → the 2062 values, or None when the registers do not
fully give them (nothing is made up)."""

from __future__ import annotations

from datetime import datetime

import pytest

from agent.daemon.devicecontrol import check_result
from drivers.profiles.schema import StandardCheck

BY_DEVIATION = StandardCheck(time="i13128", measured="i13130", deviation="i13129", limit=10)
BY_REGISTER = StandardCheck(time="i13128", measured="i13130", standard="i13131", result="i13132")


def test_standard_from_deviation_and_verdict_from_the_limit() -> None:
    r = check_result(BY_DEVIATION, {"i13128": "20260105020000", "i13130": 55.0, "i13129": 10.0})
    assert r is not None and r.time == datetime(2026, 1, 5, 2) and r.measured == 55.0
    assert r.standard == pytest.approx(50.0) and r.passed  # |10 %| ≤ 10 %
    r = check_result(BY_DEVIATION, {"i13128": "20260105020000", "i13130": 44.0, "i13129": -12.0})
    assert r is not None and not r.passed


def test_result_register_decides() -> None:
    info = {"i13128": "20260105020000", "i13130": 49.6, "i13131": 50, "i13132": 0}
    r = check_result(BY_REGISTER, info)
    assert r is not None and (r.standard, r.passed) == (50.0, False)
    assert check_result(BY_REGISTER, {**info, "i13132": 7}) is None  # not a verdict


@pytest.mark.parametrize(
    "info",
    [
        {"i13130": 55.0, "i13129": 1.0},  # no time
        {"i13128": "not a time", "i13130": 55.0, "i13129": 1.0},
        {"i13128": "20260105020000", "i13129": 1.0},  # no measured value
        {"i13128": "20260105020000", "i13130": 55.0},  # neither standard nor deviation
    ],
)
def test_incomplete_results_give_none(info: dict[str, object]) -> None:
    assert check_result(BY_DEVIATION, info) is None


def test_schema_needs_a_standard_and_a_verdict() -> None:
    with pytest.raises(ValueError):
        StandardCheck(time="i13128", measured="i13130", limit=10)
    with pytest.raises(ValueError):
        StandardCheck(time="i13128", measured="i13130", deviation="i13129")
