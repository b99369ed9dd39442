"""Both sides of every uncertain rule (docs/statistics.md, [U]): each is one setting, and the tests show that the
setting changes the result in the way the documentation says. Rules tested elsewhere on both sides: the aggregate
flag (`flags.mode`, test_stats_flags), `o2_guard` and `minute_valid_fraction` (test_stats_gas_golden),
`zero_flow_mean` and `batch_carry` (test_stats_water_golden), `constant_count` (test_stats_alarms)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from stats_build import T0, by_time, gas_params, group, series, water_params

from agent.model import FactorValues, Reading, Record, RecordKind
from agent.stats import FactorParams, compute_windows, day_record, minute_record, recompute
from agent.stats.alarms import final

H = timedelta(hours=1)
M = timedelta(minutes=1)


def _per_minute(factor: str, start: datetime, values: list[float], flag: str = "N") -> list[Reading]:
    return series(factor, start, values, step_s=60.0, flag=flag)


# --- validity.rule: "threshold" (counts) or "all" (any invalid sub-value invalidates the window) -------------------


@pytest.mark.parametrize(("rule", "flag"), [("threshold", "N"), ("all", "D")])
def test_validity_rule_minute(rule: str, flag: str) -> None:
    """11 valid 5 s samples and one flagged D: enough for 75 %, but not 'all valid'."""
    readings = series("a21026", T0, [10.0] * 11) + series("a21026", T0 + timedelta(seconds=55), [99.0], flag="D")
    g = group(minute_record(readings, T0, T0 + M, gas_params(validity={"rule": rule})), "a21026")
    assert g["Flag"] == flag
    assert g["Avg"] == pytest.approx(10.0)  # the valid values are reported either way


@pytest.mark.parametrize(("rule", "flag"), [("threshold", "N"), ("all", "C")])
def test_validity_rule_hour(rule: str, flag: str) -> None:
    """Water, one reading per minute: 59 valid minutes and one under calibration (C)."""
    readings = (
        _per_minute("w01018", T0, [20.0] * 59)
        + _per_minute("w01018", T0 + 59 * M, [500.0], flag="C")
        + _per_minute("w00000", T0, [60.0] * 60)
    )
    params = water_params(validity={"sample_period_s": 60, "rule": rule})
    hour = compute_windows(by_time(readings), params, T0, T0 + H)[-1]
    cod = group(hour, "w01018")
    assert cod["Flag"] == flag
    assert cod["Avg"] == pytest.approx(20.0)


@pytest.mark.parametrize(("rule", "flag"), [("threshold", "N"), ("all", "M")])
def test_validity_rule_day(rule: str, flag: str) -> None:
    """23 valid hours and one flagged M (maintenance)."""
    hours = [
        Record(
            "DW001",
            RecordKind.HOUR,
            T0 + i * H,
            (FactorValues("w01018", {"Avg": 20.0, "Cou": 2.0, "Flag": "M" if i == 23 else "N"}, 60),),
        )
        for i in range(24)
    ]
    params = water_params(validity={"sample_period_s": 60, "rule": rule})
    assert group(day_record(hours, T0, params), "w01018")["Flag"] == flag


# --- alarms.constant_level: "hour" records or "minute" records ----------------------------------------------------


def _constant(readings: list[Reading], level: str, hours: int) -> list[tuple[datetime, datetime | None]]:
    params = gas_params(validity={"sample_period_s": 60}, alarms={"constant_count": 6, "constant_level": level})
    out = recompute(readings, params, start=T0, end=T0 + hours * H)
    return [(a.start, a.end) for a in final(out.alarms) if a.kind == "constant" and a.factor == "a21026"]


def test_constant_level_minute_sees_a_frozen_analyzer_within_the_hour() -> None:
    """SO2 stuck at 12.30 for 10 minutes, then varying: six equal minute means raise 'constant' at minute level;
    the single hour record cannot show it."""
    values = [12.3] * 10 + [20.0 + (m % 7) for m in range(50)]
    readings = _per_minute("a21026", T0, values)
    assert _constant(readings, "minute", 1) == [(T0, T0 + 10 * M)]
    assert _constant(readings, "hour", 1) == []


def test_constant_level_hour_sees_equal_hour_means_of_varying_minutes() -> None:
    """Minutes alternate 10/20, so every hour mean is 15.00: six equal hours raise 'constant' at hour level,
    while no two consecutive minutes are equal."""
    readings = _per_minute("a21026", T0, [10.0 if m % 2 else 20.0 for m in range(6 * 60)])
    assert _constant(readings, "hour", 6) == [(T0, None)]
    assert _constant(readings, "minute", 6) == []


# --- cou_method: hour Cou = hour Avg × hour flow total ("mean_product") or Σ minute Cou ("sum") -----------------


@pytest.mark.parametrize(("method", "cou"), [("mean_product", 150.0 * 45000.0 * 1e-6), ("sum", 6.0)])
def test_cou_method_differs_when_the_flow_varies(method: str, cou: float) -> None:
    """30 min SO2 100 mg/m3 at 60000 m3/h (1000 m3/min), 30 min 200 at 30000 (500 m3/min).
    Σ minute Cou = 30·0.1 + 30·0.1 = 6.0 kg; hour Avg 150 × 45000 m3 = 6.75 kg (HJ 75 G_h = C_h·Q_h)."""
    params = gas_params(validity={"sample_period_s": 60}, cou_method=method)
    readings = _per_minute("a21026", T0, [100.0] * 30 + [200.0] * 30) + _per_minute(
        "a00000", T0, [60000.0] * 30 + [30000.0] * 30
    )
    hour = compute_windows(by_time(readings), params, T0, T0 + H)[-1]
    assert group(hour, "a21026")["Cou"] == pytest.approx(cou)
    assert group(hour, "a00000")["Cou"] == pytest.approx(45000.0)


# --- zero_flow_m3: below it the flow-weighted mean is undefined ------------------------------------------------------


@pytest.mark.parametrize(("threshold", "avg"), [(0.001, 30.0), (0.0001, 35.0)])
def test_zero_flow_threshold(threshold: float, avg: float) -> None:
    """COD 20 then 40 with a trickle of 0.0002 then 0.0006 m3/h: ΣV = 0.0001 + 0.0003 = 0.0004 m3. Below the
    threshold the hour is the arithmetic mean (30); above it, flow-weighted (20·0.0001 + 40·0.0003)/0.0004 = 35."""
    readings = _per_minute("w01018", T0, [20.0] * 30 + [40.0] * 30) + _per_minute(
        "w00000", T0, [0.0002] * 30 + [0.0006] * 30
    )
    hour = compute_windows(by_time(readings), water_params(zero_flow_m3=threshold), T0, T0 + H)[-1]
    assert group(hour, "w01018")["Avg"] == pytest.approx(avg)


# --- factor role: "mean" (arithmetic, pH) or "concentration" (flow-weighted) ---------------------------------------


@pytest.mark.parametrize(("role", "avg"), [("mean", 7.5), ("concentration", 7.75)])
def test_mean_role_is_arithmetic_concentration_is_flow_weighted(role: str, avg: float) -> None:
    """pH 7 for 30 min at 60 m3/h, 8 for 30 min at 180 m3/h: arithmetic 7.5, flow-weighted (7·30 + 8·90)/120."""
    params = water_params(
        factors=(
            FactorParams(code="w01001", role=role, unit="mg/L", decimals=2),
            FactorParams(code="w00000", role="flow", unit="m3/h", decimals=2),
        )
    )
    readings = _per_minute("w01001", T0, [7.0] * 30 + [8.0] * 30) + _per_minute(
        "w00000", T0, [60.0] * 30 + [180.0] * 30
    )
    hour = compute_windows(by_time(readings), params, T0, T0 + H)[-1]
    assert group(hour, "w01001")["Avg"] == pytest.approx(avg)


# --- batch_cycle_min: how long a batch measurement stands for the hours after it ----------------------------------


@pytest.mark.parametrize(("cycle", "flags"), [(120, ["N", "N", "N", "B"]), (60, ["N", "N", "B", "B"])])
def test_batch_cycle(cycle: int, flags: list[str]) -> None:
    """One COD result at 00:20: it stands while the hour starts before 00:20 + cycle (02:20 or 01:20)."""
    params = water_params(
        factors=(
            FactorParams(code="w01018", role="concentration", unit="mg/L", decimals=1, batch=True),
            FactorParams(code="w00000", role="flow", unit="m3/h", decimals=2),
        ),
        batch_cycle_min=cycle,
    )
    measured = T0 + 20 * M
    readings = [
        Reading("cod1", "w01018", T0 + m * M + timedelta(seconds=10), 50.0, "mg/L", "N", device_time=measured)
        for m in range(20, 4 * 60)
    ] + _per_minute("w00000", T0, [100.0] * 4 * 60)
    hours = [r for r in compute_windows(by_time(readings), params, T0, T0 + 4 * H) if r.kind == "hour"]
    assert [group(h, "w01018")["Flag"] for h in hours] == flags
