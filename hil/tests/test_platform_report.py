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
    Platform,
    PlatformConfig,
    PlatformStore,
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
    assert w01018["transmission_rate"] == pytest.approx(20 / 24) and w01018["day"] == "2026-01-05"
    text = das_cli("platform", "report", "--db", str(recorded), "--mn", MN)
    assert text.returncode == 0 and "有效传输率" in text.stdout and "== MN ?" not in text.stdout
