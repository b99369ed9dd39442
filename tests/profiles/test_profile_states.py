"""Every shipped profile loads, and its state registers give the flags and i12001 codes devices.md §3 lists."""

from __future__ import annotations

import pytest

from drivers.profiles import builtin_names, evaluate_states, load_builtin

# profile, state register values, expected flag of `point`, expected i12001 (None: not set), point
CASES: list[tuple[str, dict[str, object], str, int | None, str]] = [
    # SICK MCS100FT: one discrete input per condition (devices.md §2.2).
    ("cems_sick_mcs100ft", {"st_measuring": True}, "N", 0, "so2"),
    ("cems_sick_mcs100ft", {"st_fault": True, "st_measuring": True}, "D", 2, "so2"),
    ("cems_sick_mcs100ft", {"st_maintenance": True}, "M", 1, "nox"),
    ("cems_sick_mcs100ft", {"st_calibration": True, "st_measuring": True}, "C", 3, "o2"),
    ("cems_sick_mcs100ft", {"st_fault": False, "st_measuring": False}, "N", None, "co"),
    # Focused Photonics CEMS-2000: status as a float code (§2.2, §5.2).
    ("cems_fpi_cems2000", {"status": 0.0}, "N", 0, "so2"),
    ("cems_fpi_cems2000", {"status": 2.00001}, "C", 3, "so2"),
    ("cems_fpi_cems2000", {"status": 3.0}, "C", 3, "so2"),
    ("cems_fpi_cems2000", {"status": 4.0}, "D", 2, "o2"),
    ("cems_fpi_cems2000", {"status": 5.0}, "M", 1, "so2"),
    ("cems_fpi_cems2000", {"status": 6.0}, "M", 5, "so2"),
    ("cems_fpi_cems2000", {"status": 7.0}, "M", 5, "so2"),
    ("cems_fpi_cems2000", {"status": 9.0}, "D", 2, "so2"),
    ("cems_fpi_cems2000", {"status": 11.0}, "F", 9, "so2"),
    ("cems_fpi_cems2000", {"status": 2.5}, "D", 2, "so2"),  # no such code: unknown state is a fault
    # SDL SCS-900 PLC status word bits (§2.2).
    ("cems_sdl_scs900", {"status": 0x0100}, "N", 0, "so2"),
    ("cems_sdl_scs900", {"status": 0x0300}, "D", 2, "so2"),
    ("cems_sdl_scs900", {"status": 0x0500}, "C", 3, "so2"),
    ("cems_sdl_scs900", {"status": 0x2100}, "C", 3, "so2"),
    ("cems_sdl_scs900", {"status": 0x0900}, "M", 1, "so2"),
    ("cems_sdl_scs900", {"status": 0x0102}, "F", 9, "so2"),
    ("cems_sdl_scs900", {"status": 0x4100}, "M", 5, "so2"),
    ("cems_sdl_scs900", {"status": 0x0000}, "D", 2, "so2"),
    ("cems_sdl_scs900", {"status": 0x0200}, "N", 2, "temperature"),  # transmitter channels: not the analyzer's
    # Focused Photonics COD work state 1..8 (§2.3), Hebei i12101 in the same row.
    ("water_fpi_cod", {"work_state": 1}, "N", 9, "result"),
    ("water_fpi_cod", {"work_state": 2}, "N", 7, "result"),
    ("water_fpi_cod", {"work_state": 3}, "M", 1, "result"),
    ("water_fpi_cod", {"work_state": 4}, "D", 2, "result"),
    ("water_fpi_cod", {"work_state": 5}, "C", 3, "result"),
    ("water_fpi_cod", {"work_state": 6}, "C", 3, "result"),
    ("water_fpi_cod", {"work_state": 8}, "M", 1, "result"),
    ("water_fpi_cod", {"work_state": 0}, "D", 2, "result"),
    ("water_fpi_tn", {"work_state": 5}, "C", 3, "result"),
    # XinRuiPeng: the analyzer's own flag letter, "cz"/"cs" → C (§2.3, §3).
    ("water_xinruipeng_cod", {"flag": "N"}, "N", 0, "cod"),
    ("water_xinruipeng_cod", {"flag": "L"}, "T", 0, "cod"),
    ("water_xinruipeng_cod", {"flag": "cz"}, "C", 3, "cod"),
    ("water_xinruipeng_cod", {"flag": "cs"}, "C", 3, "cod"),
    ("water_xinruipeng_cod", {"flag": "D"}, "D", 2, "cod"),
    ("water_xinruipeng_cod", {"flag": "Q"}, "D", 2, "cod"),
    # E+H CA80 letters: 'S' → C, 'E' → D.
    ("water_eh_ca80_nh3n", {"flag": "N", "run_state": 0}, "N", 0, "nh3n"),
    ("water_eh_ca80_nh3n", {"flag": "S", "run_state": 0}, "C", 3, "nh3n"),
    ("water_eh_ca80_nh3n", {"flag": "E", "run_state": 44}, "D", 2, "nh3n"),
    # ZeTian enum: 0,1 N; 2 C; 3..20 M; 21 D.
    ("water_zetian_cod", {"state": 1}, "N", 7, "cod"),
    ("water_zetian_cod", {"state": 2}, "C", 3, "cod"),
    ("water_zetian_cod", {"state": 16}, "M", 1, "cod"),
    ("water_zetian_cod", {"state": 21}, "D", 2, "cod"),
    # TUF-2000 error bits: no signal → D on flow, totalizer unaffected.
    ("flow_tuf2000", {"error_bits": 0}, "N", 0, "flow"),
    ("flow_tuf2000", {"error_bits": 1}, "D", 2, "flow"),
    ("flow_tuf2000", {"error_bits": 1}, "N", 2, "total"),
    ("flow_tuf2000", {"error_bits": 4}, "N", None, "flow"),
]


@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_profile_loads(name: str) -> None:
    profile = load_builtin(name)
    assert profile.device.name == name
    assert profile.values(), "a profile must report at least one value"


def test_the_issue_device_families_are_covered() -> None:
    kinds = {load_builtin(n).device.kind for n in builtin_names()}
    assert {"cems_gas", "flue_gas", "water_analyzer", "ph", "flow", "power", "analog_input", "digital_input"} <= kinds
    protocols = {load_builtin(n).device.protocol for n in builtin_names()}
    assert {"modbus", "dlt645"} <= protocols


@pytest.mark.parametrize(("name", "values", "flag", "i12001", "point"), CASES)
def test_state_register_gives_flag_and_i12001(
    name: str, values: dict[str, object], flag: str, i12001: int | None, point: str
) -> None:
    outcome = evaluate_states(load_builtin(name), values)  # type: ignore[arg-type]
    assert outcome.flags[point] == flag
    assert outcome.info.get("i12001") == i12001


def test_every_state_table_is_exercised() -> None:
    """Each profile with a state table has at least one row in CASES, so a new profile brings its own case."""
    with_states = {n for n in builtin_names() if load_builtin(n).state}
    covered = {c[0] for c in CASES}
    inherited = {"water_fpi_nh3n", "water_fpi_tp", "water_fpi_tn"}  # same table as water_fpi_cod
    assert with_states - inherited <= covered


def test_hebei_codes_come_from_the_same_row() -> None:
    outcome = evaluate_states(load_builtin("water_fpi_cod"), {"work_state": 8, "alarm_detail": 0x0108})
    assert outcome.info["i12101"] == 2  # 清洗
    assert outcome.info["i12103"] == 1  # bit 0x8 comes before 0x100 in the table
    assert outcome.flags["result"] == "M"
    quiet = evaluate_states(load_builtin("water_fpi_cod"), {"work_state": 2, "alarm_detail": 0})
    assert quiet.info["i12103"] == 0


def test_missing_state_register_changes_nothing() -> None:
    """An unreadable state register gives no state flag here; the reader flags the failed read itself (B)."""
    outcome = evaluate_states(load_builtin("cems_fpi_cems2000"), {"status": None})
    assert set(outcome.flags.values()) == {"N"}
    assert outcome.info == {}


def test_extended_profile_keeps_base_map_and_overrides_result() -> None:
    cod, tp = load_builtin("water_fpi_cod"), load_builtin("water_fpi_tp")
    assert tp.point("result").factor == "w21011"
    assert tp.point("result").address == cod.point("result").address == 0x1205
    assert tp.point("result").range == (0.0, 10.0)
    assert [i.code for i in tp.info] == [i.code for i in cod.info]
    assert tp.state == cod.state
