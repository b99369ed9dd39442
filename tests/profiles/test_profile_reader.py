"""From raw results to flagged readings (drivers.reader.ProfiledDevice.evaluate), without a bus.

The cases are the acceptance points: a 4-20 mA channel at 2.0 or 22 mA is D with no value, 12 mA is mid-range,
a value above range is T, a failed read is B for all of the device's values.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from drivers.errors import DeviceTimeout, InvalidValue, LinkDown
from drivers.flags import CurrentLoop, worst
from drivers.profiles import load_builtin
from drivers.profiles.config import DeviceConfig, PointOverride
from drivers.reader import PointReading, ProfiledDevice, RawResult, decode_bcd_datetime


class _NoSource:
    async def read_items(self, items: object) -> dict[str, RawResult]:
        raise AssertionError("evaluate() tests never read")


def _device(name: str, **points: str | PointOverride) -> ProfiledDevice:
    config = DeviceConfig(profile=name, link="l", points=points) if points else None
    return ProfiledDevice("dev", load_builtin(name), _NoSource(), config)


def _by_point(readings: list[PointReading]) -> dict[str, PointReading]:
    return {r.point: r for r in readings}


def _ai(milliamps: dict[str, float]) -> dict[str, RawResult]:
    """C2000-SAX0800 channels as decoded values (mA after the profile's µA scale)."""
    return {f"ai{k}": RawResult(milliamps.get(f"ai{k}", 12.0), (0, 0)) for k in range(1, 9)}


@pytest.mark.parametrize(
    ("milliamps", "value", "flag"),
    [
        (12.0, 50.0, "N"),  # mid-range
        (4.0, 0.0, "N"),
        (20.0, 100.0, "N"),
        (2.0, None, "D"),  # below NAMUR 3.6 mA: wire break, never a zero
        (0.0, None, "D"),
        (3.6, None, "D"),
        (22.0, None, "D"),  # above 21 mA: sensor fault
        (21.0, None, "D"),
        (20.5, 103.125, "T"),  # over range but not a fault
        (3.9, 0.0, "N"),  # NE 43 under-range band: held at the bottom of the range
    ],
)
def test_current_loop_namur(milliamps: float, value: float | None, flag: str) -> None:
    result = CurrentLoop(0.0, 100.0).convert(milliamps)
    assert result.flag == flag
    assert result.value == (pytest.approx(value) if value is not None else None)


def test_ai_channel_faults_and_scaling_with_site_range() -> None:
    device = _device("ai8_c2000_sax0800", ai1=PointOverride(factor="a01012", range=(0, 300), unit="℃"))
    out = _by_point(device.evaluate(_ai({"ai1": 12.0, "ai2": 2.0, "ai3": 22.0, "ai4": 20.4})))
    assert out["ai1"].value == pytest.approx(150.0)
    assert (out["ai1"].flag, out["ai1"].unit, out["ai1"].factor) == ("N", "℃", "a01012")
    assert (out["ai2"].value, out["ai2"].flag) == (None, "D")
    assert "NE 43" in out["ai2"].note
    assert (out["ai3"].value, out["ai3"].flag) == (None, "D")
    assert out["ai4"].flag == "T"
    assert out["ai4"].value == pytest.approx(102.5)


def test_s7_counts_wire_break_is_d() -> None:
    """SDL SCS-900: S7 analog counts (27648 = 20 mA); 0 counts is a broken loop, 16589 counts ≈ 12 mA."""
    device = _device("cems_sdl_scs900")
    scale = load_builtin("cems_sdl_scs900").point("temperature").scale
    raw = {"status": RawResult(0x0100), "temperature": RawResult(16589 * scale), "dust": RawResult(0 * scale)}
    out = _by_point(device.evaluate(raw))
    assert out["temperature"].value == pytest.approx(150.0, abs=0.1)
    assert out["temperature"].flag == "N"
    assert (out["dust"].value, out["dust"].flag) == (None, "D")


def test_value_above_range_is_t_and_keeps_the_value() -> None:
    device = _device("cems_sick_mcs100ft")
    out = _by_point(device.evaluate({"so2": RawResult(612.5), "o2": RawResult(9.1), "st_measuring": RawResult(True)}))
    assert (out["so2"].value, out["so2"].flag) == (612.5, "T")
    assert out["o2"].flag == "N"


def test_site_range_overrides_profile_range() -> None:
    device = _device("cems_sick_mcs100ft", so2=PointOverride(range=(0, 100)))
    out = _by_point(device.evaluate({"so2": RawResult(150.0), "st_measuring": RawResult(True)}))
    assert out["so2"].flag == "T"


def test_calibration_outranks_above_range() -> None:
    device = _device("cems_fpi_cems2000")
    out = _by_point(device.evaluate({"so2": RawResult(5000.0), "status": RawResult(2.0)}))
    assert out["so2"].flag == "C"
    assert out["so2"].info["i12001"] == 3


def test_read_failure_gives_b_for_every_value_and_i12002() -> None:
    device = _device("cems_sick_mcs100ft")
    error = DeviceTimeout("no answer")
    raw = {p.name: RawResult(None, (), error) for p in device.profile.points}
    readings = device.evaluate(raw)
    assert len(readings) == len(device.profile.values())
    assert {r.flag for r in readings} == {"B"}
    assert all(r.value is None for r in readings)
    assert readings[0].info["i12002"] == 1
    assert "no answer" in readings[0].note


def test_failed_block_flags_its_points_b_and_lost_state_flags_dependants_b() -> None:
    device = _device("water_fpi_cod")
    raw = {"result": RawResult(42.0), "work_state": RawResult(None, (), LinkDown("gone"))}
    out = _by_point(device.evaluate(raw))
    assert out["result"].flag == "B"  # the state that governs it is unknown
    assert out["result"].info["i12002"] == 1


def test_sentinel_or_nan_is_d_not_zero() -> None:
    device = _device("ph_bh485")
    out = _by_point(
        device.evaluate({"ph": RawResult(None, (0xFFFF,), InvalidValue("sentinel")), "temperature": RawResult(21.5)})
    )
    assert (out["ph"].value, out["ph"].flag) == (None, "D")
    assert out["ph"].raw == (0xFFFF,)
    assert out["temperature"].flag == "N"


def test_water_state_flags_and_info_codes() -> None:
    device = _device("water_fpi_cod")
    time_words = (0x2611, 0x2601, 0x2000)
    raw = {
        "result": RawResult(48.2),
        "work_state": RawResult(5),
        "alarm_detail": RawResult(0),
        "digest_temp": RawResult(165),
        "slope": RawResult(1.02),
        "zero_time": RawResult(decode_bcd_datetime(time_words), time_words),
        "range": RawResult(40.0),
    }
    out = _by_point(device.evaluate(raw))
    result = out["result"]
    assert result.flag == "C"
    assert result.info["i12001"] == 3
    assert result.info["i12101"] == 5
    assert result.info["i13004"] == 165
    assert result.info["i13101"] == "20261126012000"
    assert result.info["i13001"] == 40.0
    # range_from: the analyzer's own range (40 mg/L) decides T when measuring
    raw["work_state"] = RawResult(2)
    assert _by_point(device.evaluate(raw))["result"].flag == "T"


def test_flag_letter_register() -> None:
    device = _device("water_xinruipeng_cod")
    out = _by_point(device.evaluate({"cod": RawResult(30.0), "flag": RawResult("cz")}))
    assert out["cod"].flag == "C"
    assert out["cod"].note.startswith("校零")


def test_totalizer_int_plus_fraction_and_unit_code() -> None:
    device = _device("flow_em_lmag")
    raw = {
        "flow": RawResult(12.5, (1, 2)),
        "total": RawResult(1234, (0, 1234)),
        "total_frac": RawResult(0.75, (3, 4)),
        "flow_unit": RawResult(5),
        "total_unit": RawResult(1),
    }
    out = _by_point(device.evaluate(raw))
    assert (out["flow"].value, out["flow"].unit, out["flow"].flag) == (12.5, "m3/h", "N")
    assert (out["total"].value, out["total"].unit) == (1234.75, "m3")
    assert out["total"].raw == (0, 1234, 3, 4)
    raw["flow_unit"] = RawResult(42)
    unknown = _by_point(device.evaluate(raw))["flow"]
    assert (unknown.value, unknown.flag) == (None, "D")


def test_report_false_hides_a_point_and_factor_string_maps_it() -> None:
    device = _device("ai8_c2000_sax0800", ai1="a01012", ai2=PointOverride(report=False))
    out = _by_point(device.evaluate(_ai({})))
    assert out["ai1"].factor == "a01012"
    assert "ai2" not in out


def test_to_reading_builds_the_shared_model() -> None:
    device = _device("cems_sick_mcs100ft")
    readings = device.evaluate({"so2": RawResult(30.0, (1, 2)), "st_measuring": RawResult(True)})
    now = datetime(2026, 1, 1, 8, 0, 0)
    so2 = next(r for r in readings if r.point == "so2").to_reading(now)
    assert so2 is not None
    assert (so2.factor, so2.value, so2.flag, so2.raw, so2.time) == ("a21026", 30.0, "N", (1, 2), now)
    nh3 = next(r for r in readings if r.point == "nh3")
    assert nh3.to_reading(now) is None  # no factor code: not reported upstream


def test_bcd_datetime_rejects_non_bcd() -> None:
    with pytest.raises(InvalidValue):
        decode_bcd_datetime((0x26AB, 0x0101, 0x0000))
    with pytest.raises(InvalidValue):
        decode_bcd_datetime((0x2613, 0x0101, 0x0000))  # month 13


def test_worst_flag_order() -> None:
    assert worst(["N", "T", "C"]) == "C"
    assert worst(["M", "D", "B"]) == "B"
    assert worst([]) == "N"
