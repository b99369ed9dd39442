"""The platform report: frames per CN, rejects, duplicates and 有效传输率 on hour data (regs.md §7)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from hil.platform import (
    DasClient,
    HourGroup,
    MnConfig,
    MnReport,
    Platform,
    PlatformConfig,
    PlatformStore,
    SystemClock,
    rate_rows,
    render_text,
    report_from_store,
)
from uplink.hj212 import Cp, Dialect, Frame, make_flag

MN = "010000A8900016F000169DC0"
DAY = datetime(2026, 1, 5)


def test_twenty_hours_of_which_eighteen_valid() -> None:
    groups = [HourGroup(MN, "w01018", DAY + timedelta(hours=h), "D" if h in (6, 7) else "N") for h in range(20)]
    [row] = rate_rows(groups)
    assert (row.expected, row.received, row.valid) == (24, 20, 18)
    assert row.transmission == pytest.approx(20 / 24)
    assert row.validity == pytest.approx(18 / 20)
    assert row.effective == pytest.approx(18 / 24)


def test_flag_s_is_valid_others_and_missing_are_not() -> None:
    flags = ["N", "S", "F", "M", "D", "C", "T", "B", None]
    groups = [HourGroup(MN, "a21026", DAY + timedelta(hours=h), f) for h, f in enumerate(flags)]
    [row] = rate_rows(groups)
    assert (row.received, row.valid) == (9, 2)


def test_a_repeated_hour_counts_once_with_the_last_flag() -> None:
    groups = [HourGroup(MN, "a21026", DAY, "D"), HourGroup(MN, "a21026", DAY + timedelta(minutes=0), "N")]
    [row] = rate_rows(groups)
    assert (row.received, row.valid) == (1, 1)


def test_window_and_required_factors() -> None:
    groups = [HourGroup(MN, "w01018", DAY + timedelta(hours=h), "N") for h in range(24)]
    rows = rate_rows(groups, windows={MN: range(8, 20)}, factors={MN: ("w01018", "w21003")})
    assert [(r.factor, r.expected, r.received, r.valid) for r in rows] == [
        ("w01018", 12, 12, 12),
        ("w21003", 12, 0, 0),
    ]
    assert rows[1].validity is None and rows[1].transmission == 0


def test_fixed_days_show_a_silent_day() -> None:
    groups = [HourGroup(MN, "w01018", DAY, "N")]
    rows = rate_rows(groups, days=[DAY.date(), DAY.date() + timedelta(days=1)])
    assert [(r.day, r.received) for r in rows] == [(DAY.date(), 1), (date(2026, 1, 6), 0)]


def hour_frame(das: DasClient, hour: int, flag: str, *, rf: bool = False, qn_ms: int = 0) -> Frame:
    cp = Cp.build(
        {"DataTime": DAY + timedelta(hours=hour)},
        [("w01018", {"Avg": 40.1, "Flag": flag}), ("w21003", {"Avg": 1.2, "Flag": "N"})],
    )
    qn = f"20260105{hour:02d}1000{qn_ms:03d}"
    return Frame(qn=qn, st="32", cn="2061", pw="123456", mn=MN, flag=make_flag(2025, answer=True), cp=cp, rf=rf)


@pytest.fixture
async def recorded(tmp_path: Path) -> Path:
    """A 2025 DAS sends 20 hour records (w01018 invalid at 06 and 07), one plain repeat, one RF=1 resend."""
    db = tmp_path / "p.sqlite"
    config = PlatformConfig(mns=(MnConfig(mn=MN, version=2025, factors=("w01018", "w21003", "w01001")),))
    async with Platform(config, db) as server:
        das = await DasClient.connect("127.0.0.1", server.port, Dialect(version=2025))
        frames = [hour_frame(das, h, "D" if h in (6, 7) else "N") for h in range(20)]
        frames += [hour_frame(das, 3, "N", qn_ms=1), hour_frame(das, 7, "N", rf=True, qn_ms=2)]
        for frame in frames:
            await das.send(frame)
            assert (await das.receive_frame()).cn == "9014"
        await das.send_raw(b"##0010garbage!!!AAAA\r\n")
        await server.wait_frames(verdict="rejected")
        await das.close()
    return db


async def test_report_over_tcp(recorded: Path) -> None:
    with PlatformStore(recorded) as store:
        report, unknown = report_from_store(store)
    assert unknown.mn == "?" and sum(unknown.rejected.values()) == 1  # the garbage frame has no MN
    assert report.mn == MN and report.frames_per_cn == {"2061": 22}
    assert (report.duplicates, report.resend_duplicates, report.resends) == (1, 1, 1)
    assert not report.rejected
    rates = {r.factor: r for r in report.rates}
    # hour 07 was resent with flag N: the last copy counts, so 19 of 20 are valid
    assert (rates["w01018"].received, rates["w01018"].valid, rates["w01018"].expected) == (20, 19, 24)
    assert (rates["w21003"].received, rates["w21003"].valid) == (20, 20)
    assert rates["w01001"].received == 0  # required by the config, never sent
    text = render_text([report])
    assert "w01018" in text and "83.3%" in text and "79.2%" in text


def das_cli(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from agent.cli import main; sys.argv = ['das', *sys.argv[1:]]; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60)


async def test_report_cli_json_and_text(recorded: Path) -> None:
    out = das_cli("platform", "report", "--db", str(recorded), "--json")
    assert out.returncode == 0, out.stderr
    reports = {r["mn"]: r for r in json.loads(out.stdout)}
    assert set(reports) == {MN, "?"}
    assert reports["?"]["rejected"] and reports[MN]["duplicates"] == 1
    w01018 = next(r for r in reports[MN]["rates"] if r["factor"] == "w01018")
    assert w01018["complete"]["transmission_rate"] == pytest.approx(20 / 24) and w01018["day"] == "2026-01-05"
    text = das_cli("platform", "report", "--db", str(recorded), "--mn", MN)
    assert text.returncode == 0 and "有效传输率" in text.stdout and "== MN ?" not in text.stdout


# --- 即时 / 补全 and 不参与 (regs.md §7), hand-computed ----------------------------------------------------


def _on_time(hour: datetime) -> datetime:
    return hour + timedelta(hours=1, minutes=5)


def test_two_hours_backfilled_realtime_22_of_24_complete_24_of_24() -> None:
    hours = [DAY + timedelta(hours=h) for h in range(24)]
    groups = [HourGroup(MN, "a21026", t, "N", received_at=_on_time(t)) for t in hours if t.hour not in (10, 11)]
    groups += [
        HourGroup(MN, "a21026", hours[h], "N", received_at=DAY + timedelta(days=1, hours=9), rf=True) for h in (10, 11)
    ]
    [row] = rate_rows(groups)
    assert (row.expected, row.realtime.received, row.complete.received) == (24, 22, 24)
    assert row.realtime.transmission == pytest.approx(22 / 24) and row.realtime.validity == 1.0
    assert row.realtime.effective == pytest.approx(22 / 24)
    assert (row.complete.transmission, row.complete.validity, row.complete.effective) == (1.0, 1.0, 1.0)
    text = render_text([MnReport(MN, rates=[row])])
    assert "91.7%" in text and "100.0%" in text and "即时" in text and "补全" in text


def test_on_time_is_before_the_end_of_the_next_hour_plus_grace() -> None:
    """Hour 05:00-06:00 is on time when it arrives before 07:00 (+ grace), not RF=1, not fetched by a 2061 request."""
    hour = DAY + timedelta(hours=5)
    cases = [
        (HourGroup(MN, "a21026", hour, "N", received_at=hour + timedelta(minutes=119)), 0, 1),
        (HourGroup(MN, "a21026", hour, "N", received_at=hour + timedelta(hours=2)), 0, 0),
        (HourGroup(MN, "a21026", hour, "N", received_at=hour + timedelta(hours=2)), 600, 1),
        (HourGroup(MN, "a21026", hour, "N", received_at=hour + timedelta(minutes=130)), 600, 0),
        (HourGroup(MN, "a21026", hour, "N", received_at=hour + timedelta(minutes=65), rf=True), 0, 0),
        (HourGroup(MN, "a21026", hour, "N", received_at=hour + timedelta(minutes=65), fetched=True), 0, 0),
    ]
    for group, grace, realtime in cases:
        [row] = rate_rows([group], grace=timedelta(seconds=grace))
        assert (row.realtime.received, row.complete.received) == (realtime, 1), group


def test_stopped_hours_and_one_standard_check_hour_do_not_count() -> None:
    """Water COD: hours 20-23 停运 (F), 标样核查 (C) at 03 and 15 → 不参与 4 + 1; the second C hour stays invalid.

    有效率 = 有效 / (实报 − 不参与) = 18 / (24 − 5) = 94.7 %. A gas factor's C hour is not exempt: 23 / 24."""
    flags = {3: "C", 15: "C", 20: "F", 21: "F", 22: "F", 23: "F"}
    groups = []
    for h in range(24):
        t = DAY + timedelta(hours=h)
        groups.append(HourGroup(MN, "w01018", t, flags.get(h, "N"), received_at=_on_time(t)))
        groups.append(HourGroup(MN, "a21026", t, "C" if h == 3 else "N", received_at=_on_time(t)))
    cod, so2 = sorted(rate_rows(groups), key=lambda r: r.factor != "w01018")
    for tally in (cod.realtime, cod.complete):
        assert (tally.received, tally.excluded, tally.valid) == (24, 5, 18)
        assert tally.transmission == 1.0
        assert tally.validity == pytest.approx(18 / 19) and tally.effective == pytest.approx(18 / 19)
    assert (so2.complete.excluded, so2.complete.valid) == (0, 23)
    assert so2.complete.validity == pytest.approx(23 / 24)
    # configured otherwise: the gas factor's C hour exempt, COD's not
    cod2, so2b = sorted(rate_rows(groups, check_factors={MN: ("a21026",)}), key=lambda r: r.factor != "w01018")
    assert (cod2.complete.excluded, so2b.complete.excluded) == (4, 1)


def test_a_late_corrected_copy_counts_only_after_back_fill() -> None:
    """The on-time copy said D; a resend next day says N: 即时 has 1 received, 0 valid; 补全 1 and 1."""
    t = DAY + timedelta(hours=8)
    groups = [
        HourGroup(MN, "a21026", t, "D", received_at=_on_time(t)),
        HourGroup(MN, "a21026", t, "N", received_at=t + timedelta(days=1), rf=True),
    ]
    [row] = rate_rows(groups)
    assert (row.realtime.received, row.realtime.valid, row.complete.received, row.complete.valid) == (1, 0, 1, 1)
    assert row.realtime.validity == 0.0 and row.complete.validity == 1.0


def test_a_day_all_stopped_has_no_validity() -> None:
    groups = [HourGroup(MN, "a21026", DAY + timedelta(hours=h), "F") for h in range(24)]
    [row] = rate_rows(groups)
    assert (row.complete.received, row.complete.excluded, row.complete.valid) == (24, 24, 0)
    assert row.complete.transmission == 1.0 and row.complete.validity is None and row.complete.effective is None


class WallClock(SystemClock):
    """The platform's clock with a wall time the test sets (timers still run on the real monotonic clock)."""

    def __init__(self, wall: datetime) -> None:
        self.at = wall

    def wall(self) -> datetime:
        return self.at


async def test_report_realtime_and_complete_over_tcp(tmp_path: Path) -> None:
    """22 hours arrive on time, 10:00 and 11:00 the next morning with RF=1: 即时 22/24, 补全 24/24 (also --json)."""
    db = tmp_path / "p.sqlite"
    config = PlatformConfig(mns=(MnConfig(mn=MN, version=2025, factors=("w01018", "w21003")),))
    clock = WallClock(DAY)
    async with Platform(config, db, clock=clock) as server:
        das = await DasClient.connect("127.0.0.1", server.port, Dialect(version=2025))
        late = (10, 11)
        for h in [h for h in range(24) if h not in late] + list(late):
            backfill = h in late
            clock.at = DAY + timedelta(days=1, hours=9) if backfill else _on_time(DAY + timedelta(hours=h))
            await das.send(hour_frame(das, h, "N", rf=backfill))
            assert (await das.receive_frame()).cn == "9014"
        await das.close()
    with PlatformStore(db) as store:
        [report] = report_from_store(store)
    rates = {r.factor: r for r in report.rates}
    assert [(f, r.realtime.received, r.complete.received) for f, r in rates.items()] == [
        ("w01018", 22, 24),
        ("w21003", 22, 24),
    ]
    out = das_cli("platform", "report", "--db", str(db), "--json")
    assert out.returncode == 0, out.stderr
    [row, _] = json.loads(out.stdout)[0]["rates"]
    assert row["expected"] == 24
    assert row["realtime"] == {
        "received": 22,
        "excluded": 0,
        "valid": 22,
        "transmission_rate": pytest.approx(22 / 24),
        "validity_rate": 1.0,
        "effective_rate": pytest.approx(22 / 24),
    }
    assert row["complete"]["received"] == 24 and row["complete"]["effective_rate"] == 1.0
    # with a grace of a day, the back-filled hours still are not 即时: they came with RF=1
    out = das_cli("platform", "report", "--db", str(db), "--json", "--grace", "86400")
    assert json.loads(out.stdout)[0]["rates"][0]["realtime"]["received"] == 22
    text = das_cli("platform", "report", "--db", str(db))
    assert "91.7%" in text.stdout and "即时" in text.stdout and "不参与" in text.stdout
