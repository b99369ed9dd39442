"""The incremental engine and the functional path give identical records for the same readings."""

from __future__ import annotations

import random
from datetime import timedelta

from stats_build import T0, gas_params, water_params

from agent.model import Reading
from agent.stats import FactorParams, StatsEngine, compute_windows, recompute

H = timedelta(hours=1)


def _random_readings(codes: dict[str, tuple[float, float]], hours: int, step_s: float, seed: int) -> list[Reading]:
    rng = random.Random(seed)
    out = []
    t = T0 + timedelta(seconds=1)
    end = T0 + hours * H
    while t < end:
        for code, (lo, hi) in codes.items():
            roll = rng.random()
            if roll < 0.03:
                continue  # a poll that produced nothing
            flag = "N" if roll > 0.12 else rng.choice("CMDB")
            value = None if flag == "B" else rng.uniform(lo, hi)
            out.append(Reading("d", code, t, value, "", flag))
        t += timedelta(seconds=step_s)
    return out


def _same(params, readings, hours) -> None:
    functional = compute_windows(readings, params, T0, T0 + hours * H)
    engine = [
        r
        for r in recompute(readings, params, start=T0, end=T0 + hours * H).records
        if r.kind in ("minute", "hour", "day")
    ]
    order = {"minute": 0, "hour": 1, "day": 2}

    def key(r):
        return (order[r.kind], r.data_time)

    assert sorted(engine, key=key) == sorted(functional, key=key)
    assert len(engine) == len(functional)


def test_gas_engine_equals_functional_path() -> None:
    params = gas_params(min_interval=5)
    readings = _random_readings({"a21026": (0, 60), "a19001": (5, 12), "a00000": (4e4, 6e4)}, 3, 5.0, seed=1)
    _same(params, readings, 3)


def test_water_engine_equals_functional_path_over_a_day() -> None:
    params = water_params(min_interval=10)
    readings = _random_readings({"w01018": (10, 90), "w01001": (6, 9), "w00000": (0, 200)}, 24, 120.0, seed=2)
    _same(params, readings, 24)


def test_batch_engine_equals_functional_path() -> None:
    params = water_params(
        factors=(
            FactorParams(code="w01018", batch=True),
            FactorParams(code="w00000", role="flow", unit="m3/h"),
        )
    )
    readings: list[Reading] = []
    for m in range(6 * 60):
        t = T0 + timedelta(minutes=m, seconds=3)
        readings.append(Reading("f", "w00000", t, 100.0 + m % 7, "m3/h"))
        done = T0 + timedelta(minutes=m - m % 90)
        readings.append(Reading("c", "w01018", t, 40.0 + (m // 90), "mg/L", device_time=done))
    _same(params, readings, 6)


def test_engine_emits_windows_as_the_clock_passes() -> None:
    engine = StatsEngine(gas_params(), start=T0, close_delay_s=10)
    for r in _random_readings({"a21026": (0, 60)}, 1, 5.0, seed=3):
        if r.time < T0 + timedelta(minutes=2):
            engine.add(r)
    first = engine.advance(T0 + timedelta(seconds=65)).records  # clock minus the 10 s delay: 00:00:55
    assert [(r.kind, r.data_time) for r in first] == [("rtd", T0 + timedelta(seconds=30))]
    out = engine.advance(T0 + timedelta(seconds=75)).records
    assert [(r.kind, r.data_time) for r in out] == [("rtd", T0 + timedelta(seconds=60)), ("minute", T0)]
    rtd = first[0].factors[0]
    assert rtd.values["Flag"] in ("N", "C", "M", "D", "B") and set(rtd.values) <= {"Rtd", "ZsRtd", "Flag"}


def test_engine_ignores_unknown_factors() -> None:
    engine = StatsEngine(gas_params(), start=T0)
    engine.add(Reading("d", "zzz", T0, 1.0, ""))
    assert engine.ignored == 1
