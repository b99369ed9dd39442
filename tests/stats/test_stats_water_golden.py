"""Hand-computed water cases (regs.md §3): flow-weighted hour/day, mass totals, pH arithmetic, batch analyzers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from stats_build import T0, by_time, group, series, water_params

from agent.model import FactorValues, Reading, Record, RecordKind
from agent.stats import FactorParams, compute_windows, day_record

H = timedelta(hours=1)
M = timedelta(minutes=1)


def _per_minute(factor: str, start: datetime, values: list[float], flag: str = "N") -> list[Reading]:
    return series(factor, start, values, step_s=60.0, flag=flag)


def test_hour_is_flow_weighted_and_mass_is_c_times_v() -> None:
    """30 min COD 40 mg/L at 60 m3/h, 30 min COD 100 at 180 m3/h: V = 30+90 = 120 m3,
    mass = 40·30 + 100·90 = 10200 g → 10.2 kg; C = 10200/120 = 85 mg/L (arithmetic would say 70)."""
    readings = (
        _per_minute("w01018", T0, [40.0] * 30 + [100.0] * 30)
        + _per_minute("w00000", T0, [60.0] * 30 + [180.0] * 30)
        + _per_minute("w01001", T0, [7.0] * 30 + [8.0] * 30)
    )
    hour = compute_windows(by_time(readings), water_params(), T0, T0 + H)[-1]
    cod = group(hour, "w01018")
    assert cod["Avg"] == pytest.approx(85.0)
    assert cod["Cou"] == pytest.approx(10.2)
    assert group(hour, "w00000")["Cou"] == pytest.approx(120.0)
    assert group(hour, "w00000")["Avg"] == pytest.approx(120.0)  # mean rate m3/h
    assert group(hour, "w01001")["Avg"] == pytest.approx(7.5)  # pH arithmetic


def _hour(start: datetime, cod: float, volume: float, flag: str = "N") -> Record:
    return Record(
        "DW001",
        RecordKind.HOUR,
        start,
        (
            FactorValues("w01018", {"Min": cod, "Avg": cod, "Max": cod, "Cou": cod * volume * 1e-3, "Flag": flag}, 60),
            FactorValues("w00000", {"Min": volume, "Avg": volume, "Max": volume, "Cou": volume, "Flag": "N"}, 60),
        ),
    )


def test_flow_weighted_cod_day() -> None:
    """12 h at COD 20 with 100 m3/h, 12 h at COD 80 with 300 m3/h: C_day = (20·1200 + 80·3600)/4800 = 65 mg/L,
    mass = 24 + 288 = 312 kg, volume 4800 m3."""
    hours = [_hour(T0 + i * H, 20.0, 100.0) for i in range(12)] + [
        _hour(T0 + i * H, 80.0, 300.0) for i in range(12, 24)
    ]
    day = day_record(hours, T0, water_params())
    cod = group(day, "w01018")
    assert cod["Avg"] == pytest.approx(65.0)
    assert cod["Cou"] == pytest.approx(312.0)
    assert cod["Flag"] == "N"
    assert group(day, "w00000")["Cou"] == pytest.approx(4800.0)


def test_day_with_19_valid_hours_is_not_n() -> None:
    hours = [_hour(T0 + i * H, 20.0, 100.0) for i in range(19)] + [
        _hour(T0 + i * H, 20.0, 100.0, flag="M") for i in range(19, 24)
    ]
    assert group(day_record(hours, T0, water_params()), "w01018")["Flag"] == "M"


@pytest.mark.parametrize(("mode", "expected"), [("arithmetic", 30.0), ("omit", None)])
def test_zero_flow_hour(mode: str, expected: float | None) -> None:
    readings = _per_minute("w01018", T0, [20.0] * 30 + [40.0] * 30) + _per_minute("w00000", T0, [0.0] * 60)
    hour = compute_windows(by_time(readings), water_params(zero_flow_mean=mode), T0, T0 + H)[-1]
    assert group(hour, "w01018").get("Avg") == expected


def _batch_params(**over):
    return water_params(
        factors=(
            FactorParams(code="w01018", role="concentration", unit="mg/L", decimals=1, batch=True),
            FactorParams(code="w00000", role="flow", unit="m3/h", decimals=2),
        ),
        **over,
    )


def _cod_polls(start: datetime, minutes: int, results: dict[int, float]) -> list[Reading]:
    """The DAS polls the analyzer every minute; its register holds the last result with the analyzer's time."""
    out = []
    current: tuple[datetime, float] | None = None
    for m in range(minutes):
        if m in results:
            current = (start + timedelta(minutes=m), results[m])
        if current is not None:
            t = start + timedelta(minutes=m, seconds=10)
            out.append(Reading("cod1", "w01018", t, current[1], "mg/L", "N", device_time=current[0]))
    return out


def test_batch_analyzer_hour_is_its_measurement_and_carries_for_one_cycle() -> None:
    """COD results at 00:20 (50) and 02:40 (70), cycle 120 min: hour 0 → 50 (measured), 1 → 50 (carried),
    2 → 70 (measured), 3 and 4 → 70 carried (02:40 + 2 h = 04:40 > 04:00), 5 → missing."""
    readings = _cod_polls(T0, 6 * 60, {20: 50.0, 160: 70.0}) + _per_minute("w00000", T0, [100.0] * 360)
    records = compute_windows(by_time(readings), _batch_params(), T0, T0 + 6 * H)
    hours = [r for r in records if r.kind == "hour"]
    got = [(group(h, "w01018").get("Avg"), group(h, "w01018")["Flag"]) for h in hours]
    assert got == [(50.0, "N"), (50.0, "N"), (70.0, "N"), (70.0, "N"), (70.0, "N"), (None, "B")]
    assert group(hours[0], "w01018")["Cou"] == pytest.approx(50.0 * 100.0 * 1e-3)  # C × V of the hour
    minutes_with_cod = [r for r in records if r.kind == "minute" and any(g.factor == "w01018" for g in r.factors)]
    assert [m.data_time.minute for m in minutes_with_cod] == [20, 40]  # repeats of one result are not new samples


def test_batch_without_carry() -> None:
    readings = _cod_polls(T0, 2 * 60, {20: 50.0}) + _per_minute("w00000", T0, [100.0] * 120)
    hours = [
        r
        for r in compute_windows(by_time(readings), _batch_params(batch_carry="none"), T0, T0 + 2 * H)
        if r.kind == "hour"
    ]
    assert group(hours[1], "w01018") == {"Flag": "B"}
