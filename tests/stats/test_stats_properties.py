"""Property tests: Min ≤ Avg ≤ Max, Cou consistent with flow, aggregates of aggregates equal aggregates of readings
where the rule says they must (extremes, totals, flow-weighted water means)."""

from __future__ import annotations

import math
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from stats_build import T0, gas_params, group, water_params

from agent.model import Reading
from agent.stats import compute_windows

H = timedelta(hours=1)
values = st.floats(min_value=0.0, max_value=1000.0, allow_nan=False)
flags = st.sampled_from("NNNNNNCDMB")


def _minutes(draw, code: str, n: int, per_minute: int, lo: float = 0.0, hi: float = 1000.0) -> list[Reading]:
    vals = draw(st.lists(st.floats(lo, hi, allow_nan=False), min_size=n * per_minute, max_size=n * per_minute))
    fl = draw(st.lists(flags, min_size=n * per_minute, max_size=n * per_minute))
    step = 60.0 / per_minute
    return [
        Reading("d", code, T0 + timedelta(seconds=1 + i * step), None if f == "B" else v, "", f)
        for i, (v, f) in enumerate(zip(vals, fl, strict=True))
    ]


@st.composite
def gas_hour(draw):
    return (
        _minutes(draw, "a21026", 60, 2)
        + _minutes(draw, "a19001", 60, 1, 3.0, 15.0)
        + _minutes(draw, "a00000", 60, 1, 1e3, 1e5)
    )


def _ordered(g: dict) -> None:
    if "Avg" in g:
        assert g["Min"] <= g["Avg"] * (1 + 1e-12) + 1e-9
        assert g["Avg"] <= g["Max"] * (1 + 1e-12) + 1e-9


@settings(max_examples=25, deadline=None)
@given(gas_hour())
def test_gas_min_avg_max_and_totals(readings: list[Reading]) -> None:
    params = gas_params(validity={"sample_period_s": 30, "hour_min_valid_minutes": 30})
    records = compute_windows(sorted(readings, key=lambda r: r.time), params, T0, T0 + H)
    for r in records:
        for g in r.factors:
            _ordered(g.values)
    hour = records[-1]
    so2, flow = group(hour, "a21026"), group(hour, "a00000")
    minutes = records[:-1]
    if "Avg" in so2 and "Cou" in flow:
        # Cou consistent with flow: hour total = hour mean × hour flow total (HJ 75 G_h = C_h·Q_h)
        assert math.isclose(so2["Cou"], so2["Avg"] * flow["Cou"] * 1e-6, rel_tol=1e-9)
    if "Cou" in flow:
        # the flow total is the sum of the minutes' volumes, each = minute mean rate × 1/60 h
        vols = [group(m, "a00000").get("Cou") for m in minutes]
        assert math.isclose(flow["Cou"], math.fsum(v for v in vols if v is not None), rel_tol=1e-9)
    if so2["Flag"] == "N":
        # the hour's extremes are those of its valid minutes' readings
        used = [group(m, "a21026") for m in minutes if group(m, "a21026")["Flag"] == "N"]
        assert so2["Min"] == min(g["Min"] for g in used)
        assert so2["Max"] == max(g["Max"] for g in used)


@st.composite
def water_day(draw):
    """24 hours, one reading per minute per factor, all valid (N): the aggregation-of-aggregates case."""
    cs = draw(st.lists(st.floats(1.0, 500.0), min_size=24, max_size=24))
    qs = draw(st.lists(st.floats(0.0, 300.0), min_size=24, max_size=24))
    wiggle = draw(st.lists(st.floats(0.5, 1.5), min_size=60, max_size=60))
    out = []
    for h in range(24):
        for m in range(60):
            t = T0 + timedelta(hours=h, minutes=m, seconds=2)
            out.append(Reading("a", "w01018", t, cs[h] * wiggle[m], "mg/L"))
            out.append(Reading("f", "w00000", t, qs[h] * wiggle[(m + 7) % 60], "m3/h"))
    return out


@settings(max_examples=8, deadline=None)
@given(water_day())
def test_water_day_from_hours_equals_day_from_minutes(readings: list[Reading]) -> None:
    params = water_params(zero_flow_m3=0.0)
    records = compute_windows(readings, params, T0, T0 + 24 * H)
    day = group(records[-1], "w01018")
    minutes = [r for r in records if r.kind == "minute"]
    mass = math.fsum(group(m, "w01018")["Avg"] * group(m, "w00000")["Cou"] for m in minutes)
    volume = math.fsum(group(m, "w00000")["Cou"] for m in minutes)
    if volume > 0:
        assert math.isclose(day["Avg"], mass / volume, rel_tol=1e-9)
        assert math.isclose(day["Cou"], mass * 1e-3, rel_tol=1e-9)
    hours = [r for r in records if r.kind == "hour"]
    assert math.isclose(day["Cou"], math.fsum(group(h, "w01018")["Cou"] for h in hours), rel_tol=1e-12)
    _ordered(day)
