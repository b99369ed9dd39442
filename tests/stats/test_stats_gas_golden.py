"""Hand-computed gas cases: validity thresholds, 折算, conversions, Qsn, NOx, emission totals (regs.md §2)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from stats_build import T0, by_time, constant_minutes, gas_params, group, series

from agent.model import Reading
from agent.stats import FactorParams, NoxParams, compute_windows, hour_record, minute_record

H = timedelta(hours=1)
M = timedelta(minutes=1)


def _hour_with_valid_minutes(n_valid: int, bad_flag: str = "M") -> list[Reading]:
    """SO2 20 mg/m3 in valid minutes, 90 in the others (flagged), O2 9 %, flow 60000 m3/h; 12 samples a minute."""
    out: list[Reading] = []
    out += constant_minutes("a21026", T0, n_valid, 20.0)
    out += constant_minutes("a21026", T0 + n_valid * M, 60 - n_valid, 90.0, flag=bad_flag)
    out += constant_minutes("a19001", T0, 60, 9.0)
    out += constant_minutes("a00000", T0, 60, 60000.0)
    return by_time(out)


def test_hour_with_45_valid_minutes_is_n() -> None:
    params = gas_params()
    records = compute_windows(_hour_with_valid_minutes(45), params, T0, T0 + H)
    hour = records[-1]
    so2 = group(hour, "a21026")
    assert so2["Flag"] == "N"
    assert so2["Avg"] == pytest.approx(20.0)  # only the 45 valid minutes
    assert so2["ZsAvg"] == pytest.approx(20.0 * 15 / 12)  # (21-6)/(21-9)
    assert so2["Cou"] == pytest.approx(20.0 * 60000.0 * 1e-6)  # kg in one hour: C·Qsn·1 h·1e-6
    assert hour.factors[0].count == 45


def test_hour_with_44_valid_minutes_takes_the_invalid_flag() -> None:
    params = gas_params()
    hour = compute_windows(_hour_with_valid_minutes(44), params, T0, T0 + H)[-1]
    so2 = group(hour, "a21026")
    assert so2["Flag"] == "M"
    assert so2["Avg"] == pytest.approx(20.0)  # still the valid minutes' mean, flagged (never invented)


def test_hour_threshold_is_a_setting() -> None:
    params = gas_params(validity={"hour_min_valid_minutes": 40})
    hour = compute_windows(_hour_with_valid_minutes(40), params, T0, T0 + H)[-1]
    assert group(hour, "a21026")["Flag"] == "N"


@pytest.mark.parametrize(
    ("n_valid", "fraction", "flag"), [(9, 0.75, "N"), (8, 0.75, "D"), (11, 1.0, "D"), (12, 1.0, "N")]
)
def test_minute_needs_a_share_of_5_s_samples(n_valid: int, fraction: float, flag: str) -> None:
    """HJ 212 C.16 note: ≥ 75 % of the 5 s samples (9 of 12); fraction 1.0 is the 'n ≥ 12' reading of App. D."""
    params = gas_params(validity={"minute_valid_fraction": fraction})
    readings = series("a21026", T0, [10.0] * n_valid) + series(
        "a21026", T0, [99.0] * (12 - n_valid), flag="D", offset_s=2
    )
    rec = minute_record(readings, T0, T0 + M, params)
    g = group(rec, "a21026")
    assert g["Flag"] == flag
    assert g["Avg"] == pytest.approx(10.0)


def test_zs_near_21_percent_is_guarded_and_the_guard_is_a_setting() -> None:
    readings = series("a21026", T0, [10.0] * 12) + series("a19001", T0, [20.9] * 12)
    guarded = group(minute_record(readings, T0, T0 + M, gas_params()), "a21026")
    assert "ZsAvg" not in guarded and guarded["Avg"] == pytest.approx(10.0)
    loose = group(minute_record(readings, T0, T0 + M, gas_params(o2_guard=20.95)), "a21026")
    assert loose["ZsAvg"] == pytest.approx(10.0 * 15 / 0.1)  # = 1500: why the guard exists


def test_zs_needs_a_valid_o2() -> None:
    readings = series("a21026", T0, [10.0] * 12) + series("a19001", T0, [9.0] * 12, flag="C")
    g = group(minute_record(readings, T0, T0 + M, gas_params()), "a21026")
    assert g["Flag"] == "N" and "ZsAvg" not in g


def _wet_params(**over):
    return gas_params(
        factors=(
            FactorParams(code="a21026", unit="ppm", molar_mass=64.06, basis="wet", state="actual", decimals=2),
            FactorParams(code="a19001", role="o2", unit="%", basis="wet"),
            FactorParams(code="a01014", role="humidity", unit="%"),
            FactorParams(code="a01012", role="temperature", unit="℃"),
            FactorParams(code="a01013", role="pressure", unit="kPa"),
            FactorParams(code="a01011", role="velocity", unit="m/s"),
        ),
        duct_area=2.0,
        flow_code="a00000",
        **over,
    )


def test_dry_standard_conversions_and_qsn() -> None:
    """SO2 22.4 ppm wet at 136.5 ℃ and Ba+Ps = 101.325 kPa, 10 % moisture:
    mg/m3 = 22.4·64.06/22.4 = 64.06; dry ÷ 0.9; standard × (273+136.5)/273 = 1.5 → 106.7667.
    O2 8.1 % wet → 9 % dry. Qsn = 3600·2·10 m/s · 273/409.5 · 1 · 0.9 = 43200 m3/h."""
    params = _wet_params()
    readings = (
        series("a21026", T0, [22.4] * 12)
        + series("a19001", T0, [8.1] * 12)
        + series("a01014", T0, [10.0] * 12)
        + series("a01012", T0, [136.5] * 12)
        + series("a01013", T0, [0.0] * 12)
        + series("a01011", T0, [10.0] * 12)
    )
    rec = minute_record(readings, T0, T0 + M, params)
    so2 = group(rec, "a21026")
    assert so2["Avg"] == pytest.approx(64.06 / 0.9 * 1.5)
    assert group(rec, "a19001")["Avg"] == pytest.approx(9.0)
    assert so2["ZsAvg"] == pytest.approx(64.06 / 0.9 * 1.5 * 15 / 12)
    flow = group(rec, "a00000")
    assert flow["Avg"] == pytest.approx(43200.0)
    assert flow["Cou"] == pytest.approx(43200.0 / 60)  # m3 in one minute
    # emission total from the measured dry concentration, not the converted one
    assert so2["Cou"] == pytest.approx(64.06 / 0.9 * 1.5 * 720.0 * 1e-6)


def test_conversion_without_humidity_gives_no_value_and_its_flag() -> None:
    params = _wet_params()
    readings = series("a21026", T0, [22.4] * 12) + series("a01014", T0, [10.0] * 12, flag="D")
    so2 = group(minute_record(readings, T0, T0 + M, params), "a21026")
    assert so2["Flag"] == "D"  # the humidity's fault shows on the converted value
    flow = group(minute_record(readings, T0, T0 + M, params), "a00000")
    assert "Avg" not in flow  # no velocity, no temperature: no flow is made up


def test_nox_as_no2() -> None:
    params = gas_params(
        factors=(
            FactorParams(code="a21003", unit="mg/m3"),
            FactorParams(code="a21004", unit="mg/m3"),
            FactorParams(code="a19001", role="o2", unit="%"),
        ),
        nox=NoxParams(),
    )
    readings = series("a21003", T0, [30.0] * 12) + series("a21004", T0, [10.0] * 12) + series("a19001", T0, [6.0] * 12)
    nox = group(minute_record(readings, T0, T0 + M, params), "a21002")
    assert nox["Avg"] == pytest.approx(30.0 * 46 / 30 + 10.0)
    assert nox["ZsAvg"] == pytest.approx(56.0)  # O2 at the reference


def test_emission_uses_measured_dry_not_converted() -> None:
    readings = (
        constant_minutes("a21026", T0, 60, 100.0)
        + constant_minutes("a19001", T0, 60, 15.0)
        + constant_minutes("a00000", T0, 60, 60000.0)
    )
    hour = compute_windows(by_time(readings), gas_params(), T0, T0 + H)[-1]
    so2 = group(hour, "a21026")
    assert so2["ZsAvg"] == pytest.approx(100.0 * 15 / 6)
    assert so2["Cou"] == pytest.approx(100.0 * 60000.0 * 1e-6)
    assert group(hour, "a00000")["Cou"] == pytest.approx(60000.0)


def test_hour_cou_sum_method() -> None:
    """cou_method = "sum": the hour total is Σ minute totals (equal here, the flow is steady)."""
    readings = constant_minutes("a21026", T0, 60, 100.0) + constant_minutes("a00000", T0, 60, 60000.0)
    hour = compute_windows(by_time(readings), gas_params(cou_method="sum"), T0, T0 + H)[-1]
    assert group(hour, "a21026")["Cou"] == pytest.approx(6.0)


def test_minute_interval_windows_start_aligned() -> None:
    params = gas_params(min_interval=10)
    readings = constant_minutes("a21026", T0, 60, 10.0)
    records = compute_windows(readings, params, T0, T0 + H)
    minutes = [r for r in records if r.kind == "minute"]
    assert [r.data_time.minute for r in minutes] == [0, 10, 20, 30, 40, 50]
    assert group(records[-1], "a21026")["Flag"] == "N"


def test_hour_record_counts_absent_minutes_as_missing() -> None:
    params = gas_params()
    minutes = [
        minute_record(constant_minutes("a21026", T0 + i * M, 1, 5.0), T0 + i * M, T0 + (i + 1) * M, params)
        for i in range(44)
    ]
    hour = hour_record(minutes, T0, params)
    assert group(hour, "a21026")["Flag"] == "B"  # 16 minutes never made: the missing flag
