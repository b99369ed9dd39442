"""Alarms and self-checks (regs.md §8, §1, §9): each with start, end and detail."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from stats_build import T0, gas_params

from agent.model import FactorValues, Reading, Record, RecordKind
from agent.stats import EquipmentParams, FactorParams, cp_text, decimals, load_params, read_readings_csv, recompute
from agent.stats.alarms import KINDS, clock_drift, detect_comm, detect_hour_alarms, final

H = timedelta(hours=1)
DATA = Path(__file__).resolve().parent / "data"


def _hour(i: int, so2: dict[str, float | str], o2: float | None = 9.0, flow: float | None = 6e4) -> Record:
    groups = [FactorValues("a21026", so2, 60)]
    groups.append(FactorValues("a19001", {"Avg": o2, "Flag": "N"} if o2 is not None else {"Flag": "B"}, 60))
    groups.append(FactorValues("a00000", {"Avg": flow, "Flag": "N"} if flow is not None else {"Flag": "B"}, 60))
    return Record("DA001", RecordKind.HOUR, T0 + i * H, tuple(groups))


def _kinds(alarms) -> list[tuple[str, str | None, datetime, datetime | None]]:
    return [(a.kind, a.factor, a.start, a.end) for a in alarms]


def test_over_limit_on_converted_hour_mean_runs_merge() -> None:
    hours = [
        _hour(0, {"Avg": 30.0, "ZsAvg": 34.0, "Flag": "N"}),
        _hour(1, {"Avg": 30.0, "ZsAvg": 36.0, "Flag": "N"}),  # ZsAvg over 35, Avg not
        _hour(2, {"Avg": 30.0, "ZsAvg": 40.0, "Flag": "N"}),
        _hour(3, {"Avg": 30.0, "ZsAvg": 30.0, "Flag": "N"}),
    ]
    alarms = [a for a in detect_hour_alarms(hours, gas_params()) if a.kind == "over_limit"]
    assert _kinds(alarms) == [("over_limit", "a21026", T0 + H, T0 + 3 * H)]
    assert "ZsAvg" in alarms[0].detail


@pytest.mark.parametrize(("so2", "zs_text", "alarm"), [(144.0032, "180.00", False), (144.008, "180.01", True)])
def test_over_limit_compares_the_reported_value(tmp_path: Path, so2: float, zs_text: str, alarm: bool) -> None:
    """Field report: `a21026-ZsAvg=180.00` with limit 180 raised over_limit (the unrounded mean was 180.004). The
    platform judges the value it receives, at the factor's decimals: 180.00 is not over 180, 180.01 is.
    gas_readings.csv with every SO2 reading set to `so2`; O2 9 % gives Zs = 1.25 × the measured value."""
    lines = (DATA / "gas_readings.csv").read_text(encoding="utf-8").splitlines()
    rows = [
        ",".join(f if i != 3 or ",a21026," not in line else str(so2) for i, f in enumerate(line.split(",")))
        for line in lines
    ]
    csv_path = tmp_path / "readings.csv"
    csv_path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    params = load_params(DATA / "gas_outlet.toml")
    out = recompute(read_readings_csv(csv_path), params)
    [hour] = [r for r in out.records if r.kind == RecordKind.HOUR]
    assert f"a21026-ZsAvg={zs_text}," in cp_text(hour, decimals(params))
    over = [a for a in final(out.alarms) if a.kind == "over_limit"]
    assert [a.factor for a in over] == (["a21026"] if alarm else [])
    if alarm:
        assert f"ZsAvg={zs_text}" in over[0].detail and "180" in over[0].detail


def test_zero_negative_over_range() -> None:
    hours = [
        _hour(0, {"Avg": 0.001, "Flag": "N"}),  # rounds to 0.00 at 2 decimals
        _hour(1, {"Avg": -1.0, "Flag": "N"}),
        _hour(2, {"Avg": 600.0, "Flag": "N"}),  # range 0..500
        _hour(3, {"Avg": 20.0, "Flag": "T"}),
        _hour(4, {"Avg": 20.0, "Flag": "N"}),
    ]
    got = {(a.kind, a.start, a.end) for a in detect_hour_alarms(hours, gas_params(alarms={"constant_count": 0}))}
    assert ("zero", T0, T0 + H) in got
    assert ("negative", T0 + H, T0 + 2 * H) in got
    assert ("over_range", T0 + 2 * H, T0 + 4 * H) in got
    assert ("over_limit", T0 + 2 * H, T0 + 3 * H) in got  # 600 > 35 too (no Zs: Avg compared)


def test_constant_needs_n_equal_n_values() -> None:
    hours = [_hour(i, {"Avg": 12.3, "Flag": "N"}) for i in range(4)] + [_hour(4, {"Avg": 12.4, "Flag": "N"})]
    params = gas_params(alarms={"constant_count": 3})
    constant = [a for a in detect_hour_alarms(hours, params) if a.kind == "constant" and a.factor == "a21026"]
    assert _kinds(constant) == [("constant", "a21026", T0, T0 + 4 * H)]
    params = gas_params(alarms={"constant_count": 5})
    assert not [a for a in detect_hour_alarms(hours, params) if a.kind == "constant" and a.factor == "a21026"]


def test_constant_is_broken_by_a_non_n_flag() -> None:
    hours = [
        _hour(0, {"Avg": 5.0, "Flag": "N"}),
        _hour(1, {"Avg": 5.0, "Flag": "C"}),
        _hour(2, {"Avg": 5.0, "Flag": "N"}),
    ]
    params = gas_params(alarms={"constant_count": 2})
    assert not [a for a in detect_hour_alarms(hours, params) if a.kind == "constant" and a.factor == "a21026"]


def test_missing_and_incomplete_hours() -> None:
    hours = [
        _hour(0, {"Avg": 5.0, "Flag": "N"}),
        _hour(1, {"Flag": "B"}, o2=None, flow=None),
        _hour(2, {"Flag": "B"}),
        _hour(3, {"Avg": 5.0, "Flag": "N"}),
    ]
    got = _kinds(detect_hour_alarms(hours, gas_params(alarms={"constant_count": 0})))
    assert ("missing", None, T0 + H, T0 + 2 * H) in got
    assert ("incomplete", None, T0 + 2 * H, T0 + 3 * H) in got


def test_comm_lost_from_flag_b_and_from_silence() -> None:
    t = T0
    readings = [
        Reading("cems", "a21026", t, 1.0, ""),
        Reading("cems", "a21026", t + timedelta(seconds=5), None, "", "B"),
        Reading("cems", "a21026", t + timedelta(seconds=10), None, "", "B"),
        Reading("cems", "a21026", t + timedelta(seconds=15), 1.0, ""),
        Reading("cems", "a21026", t + timedelta(seconds=915), 1.0, ""),  # 900 s of silence > 300 s
    ]
    got = _kinds(detect_comm(readings, gas_params()))
    assert got == [
        ("comm_lost", None, t + timedelta(seconds=5), t + timedelta(seconds=15)),
        ("comm_lost", None, t + timedelta(seconds=15), t + timedelta(seconds=915)),
    ]


def test_clock_drift() -> None:
    assert clock_drift(T0, T0 + timedelta(seconds=29), 30, "platform") is None
    alarm = clock_drift(T0, T0 + timedelta(seconds=45), 30, "platform CN 1012")
    assert alarm is not None and alarm.kind == "clock_drift" and "-45.0 s" in alarm.detail


def test_treatment_stopped_while_production_runs() -> None:
    """用电监控 linkage: treatment off for 12 min while production runs → one alarm (threshold 10 min)."""
    params = gas_params(
        validity={"sample_period_s": 60},
        equipment=(
            EquipmentParams(code="SB1", source="p_prod", role="production", on_threshold=5.0),
            EquipmentParams(code="SB2", source="p_treat", role="treatment", on_threshold=5.0),
        ),
    )
    readings = []
    for m in range(60):
        t = T0 + timedelta(minutes=m, seconds=1)
        readings.append(Reading("pm1", "p_prod", t, 80.0, "kW"))
        readings.append(Reading("pm2", "p_treat", t, 0.2 if 20 <= m < 32 else 30.0, "kW"))
    alarms = final(recompute(readings, params, start=T0, end=T0 + H).alarms)
    linkage = [a for a in alarms if a.kind == "treatment_stopped"]
    assert _kinds(linkage) == [("treatment_stopped", None, T0 + timedelta(minutes=20), T0 + timedelta(minutes=32))]
    assert "SB2" in linkage[0].detail


def _bilingual(text: str) -> bool:
    """Chinese, then ' / ', then English, as all user-facing text (e.g. "通讯中断 / communication lost")."""
    return re.search(r"[\u4e00-\u9fff][^/]* / [A-Za-z]", text) is not None


def test_alarm_details_are_chinese_and_english() -> None:
    hours = [
        _hour(0, {"Avg": 150.0, "ZsAvg": 180.01, "Flag": "N"}),
        _hour(1, {"Avg": 0.001, "Flag": "N"}),
        _hour(2, {"Avg": -1.0, "Flag": "N"}),
        _hour(3, {"Avg": 600.0, "Flag": "N"}),
        _hour(4, {"Flag": "B"}, o2=None, flow=None),
        _hour(5, {"Flag": "B"}),
    ] + [_hour(i, {"Avg": 12.3, "Flag": "N"}) for i in range(6, 12)]
    params = gas_params(
        factors=(
            FactorParams(code="a21026", role="concentration", unit="mg/m3", decimals=2, limit=180.0, range=(0, 500)),
            FactorParams(code="a19001", role="o2", unit="%", decimals=1),
            FactorParams(code="a00000", role="flow", unit="m3/h", decimals=1),
        ),
        alarms={"constant_count": 6},
    )
    alarms = detect_hour_alarms(hours, params)
    details: dict[tuple[str, str | None], str] = {}
    for a in alarms:
        details.setdefault((a.kind, a.factor), a.detail)  # the first of each kind
    assert (
        details[("over_limit", "a21026")]
        == "小时折算均值超标 / converted hour mean over the limit: a21026 ZsAvg=180.01 > 180"
    )
    assert details[("zero", "a21026")] == "小时零值 / hour value zero: a21026 Avg=0.00"
    assert details[("negative", "a21026")] == "小时负值 / hour value negative: a21026 Avg=-1.00"
    assert details[("missing", None)] == "小时数据缺失 / hour missing: 无任何因子的小时值 / no factor has an hour value"
    assert details[("over_range", "a21026")].startswith("超量程 / over the measuring range: a21026 Avg=600.00")
    assert details[("constant", "a21026")].startswith("恒值 / constant values: a21026 = 12.3")
    no_zs = detect_hour_alarms([_hour(0, {"Avg": 180.01, "Flag": "N"})], params)
    assert [a.detail for a in no_zs if a.kind == "over_limit"] == [
        "小时均值超标 / hour mean over the limit: a21026 Avg=180.01 > 180"
    ]
    readings = [
        Reading("cems", "a21026", T0, None, "", "B"),
        Reading("cems", "a21026", T0 + timedelta(seconds=5), 1.0, ""),
        Reading("cems", "a21026", T0 + timedelta(seconds=905), 1.0, ""),
    ]
    comm = detect_comm(readings, gas_params())
    drift = clock_drift(T0, T0 + timedelta(seconds=45), 30, "national")
    every = [*alarms, *no_zs, *comm, drift]
    assert {a.kind for a in every if a is not None} >= {
        "over_limit",
        "zero",
        "negative",
        "over_range",
        "missing",
        "incomplete",
        "constant",
        "comm_lost",
        "clock_drift",
    }
    for a in every:
        assert a is not None
        # every part after the kind's own name is bilingual too: no English-only explanation
        rest = a.detail.split(": ", 1)
        assert _bilingual(rest[0]), a.detail
        words = re.sub(r"[a-z]\d{5}|SB\d+|[A-Z][A-Za-z]*=\S+|CN \d+", "", rest[1] if len(rest) > 1 else "")
        assert not re.search(r"[A-Za-z]{3,}", words) or _bilingual(words), a.detail


def test_every_kind_is_documented() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "statistics.md").read_text(encoding="utf-8")
    for kind in KINDS:
        assert f"`{kind}`" in doc
