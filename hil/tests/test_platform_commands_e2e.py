"""Platform commands end to end: the reference platform (hil/platform) sends them over real TCP to the real
session (uplink/session.py) with the command handler (uplink/commands); answers are checked as the platform
recorded them, and what was changed is checked on the DAS side, also after a restart (issue 5 point 4).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from agent.model import FactorValues, Record, RecordKind
from buffer import Store
from hil.platform import MnConfig, Platform, PlatformConfig
from uplink.clock import SimClock
from uplink.commands import CommandHandler, request_time_calibration
from uplink.cp_build import record_to_cp
from uplink.manager import UplinkManager
from uplink.services import Services
from uplink.session import PlatformSession
from uplink.settings import ClockSetBounds, PlatformSettings
from uplink.testing import rtd_record, window_record

MN = "010000A8900016F000169DC0"
OTHER_MN = "010000A8900016F000169DC1"
DECIMALS = {"a21026": 2, "a34013": 1}
TIMEOUT = 20.0  # s; answers come within milliseconds on loopback, but other work may load the 2 cores


class Das:
    """The agent side: store + UplinkManager (which applies persisted overrides at start) + CommandHandler."""

    def __init__(self, db: Path, settings: PlatformSettings, clock: SimClock) -> None:
        self.store = Store(db, clock=clock.now)
        self.manager = UplinkManager(
            [settings],
            self.store,
            clock=clock,
            services=Services(clock=clock),
            handler=CommandHandler(),
            decimals={"o1": DECIMALS},
            idle_poll_s=0.2,
        )
        self.session: PlatformSession = self.manager.sessions[settings.target("o1")]

    @property
    def settings(self) -> PlatformSettings:
        return self.session.settings


@asynccontextmanager
async def running(db: Path, settings: PlatformSettings, clock: SimClock, platform: Platform) -> AsyncIterator[Das]:
    """Start the DAS, let it upload one minute record so the platform knows its MN; stop it on exit."""
    das = Das(db, settings, clock)
    das.manager.start()
    try:
        seen = len(platform.store.frames(mn=MN, cn="2051", direction="in"))
        start = clock.now().replace(second=0) + timedelta(minutes=seen)
        das.manager.put_record(window_record("o1", RecordKind.MINUTE, start, seen, factors=("a21026", "a34013")))
        await platform.wait_frames(mn=MN, cn="2051", count=seen + 1, timeout=TIMEOUT)
        await platform.wait_connected(MN, timeout=TIMEOUT)
        yield das
    finally:
        await das.manager.stop(1.0)
        das.store.close()


def base_settings(port: int, **changes: object) -> PlatformSettings:
    values: dict[str, object] = {"name": "national", "host": "127.0.0.1", "port": port, "mns": {"o1": MN}}
    values |= {"over_time": 8.0, "re_count": 1, "backoff_min_s": 0.1, "backoff_max_s": 0.5}
    return PlatformSettings(**(values | changes))


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    config = PlatformConfig(mns=(MnConfig(mn=MN),), poll_interval=0.05, command_timeout=8.0)
    async with Platform(config, tmp_path / "platform.sqlite") as server:
        yield server


@pytest.fixture
def clock() -> SimClock:
    return SimClock(datetime.now().replace(microsecond=0))


async def command(platform: Platform, kind: str, args: dict[str, object] | None = None, mn: str = MN):  # type: ignore[no-untyped-def]
    return await platform.command(mn, kind, args, timeout=TIMEOUT)


def linked(platform: Platform, command_id: int) -> list[tuple[str, str, str]]:
    """(direction, CN, CP) of the frames the platform linked to a command, in order."""
    return [(f.direction, f.cn or "", f.cp_text or "") for f in platform.store.frames(command_id=command_id)]


async def test_intervals_and_timeouts_are_set_read_and_survive_a_restart(
    tmp_path: Path, platform: Platform, clock: SimClock
) -> None:
    db = tmp_path / "das.sqlite"
    settings = base_settings(platform.port)
    async with running(db, settings, clock, platform) as das:
        for kind, args in [
            ("set-rtd-interval", {"seconds": 120}),
            ("set-min-interval", {"minutes": 5}),
            ("set-overtime", {"overtime": 5, "recount": 2}),
        ]:
            row = await command(platform, kind, args)
            assert (row.status, row.qn_rtn, row.exe_rtn) == ("done", 1, 1), kind
        assert (das.settings.rtd_interval, das.settings.min_interval) == (120, 5)
        assert (das.settings.over_time, das.settings.re_count) == (5.0, 2)
    async with running(db, settings, clock, platform) as das:  # a new store and session: the file says 30/10
        assert (das.settings.rtd_interval, das.settings.min_interval, das.settings.over_time) == (120, 5, 5.0)
        row = await command(platform, "raw", {"cn": "1061", "cp": ""})
        assert row.status == "done"
        assert linked(platform, row.id) == [
            ("out", "1061", ""),
            ("in", "9011", "QnRtn=1"),
            ("in", "1061", "RtdInterval=120"),
            ("in", "9012", "ExeRtn=1"),
        ]
        row = await command(platform, "raw", {"cn": "1063", "cp": ""})
        assert ("in", "1063", "MinInterval=5") in linked(platform, row.id)


async def test_a_new_password_is_used_after_a_restart(tmp_path: Path, platform: Platform, clock: SimClock) -> None:
    db = tmp_path / "das.sqlite"
    settings = base_settings(platform.port)
    async with running(db, settings, clock, platform) as das:
        row = await command(platform, "set-password", {"password": "a1B2c3"})
        assert (row.status, row.exe_rtn) == ("done", 1)
        assert das.settings.pw == "a1B2c3"
    async with running(db, settings, clock, platform) as das:
        assert das.settings.pw == "a1B2c3"
        uploads = platform.store.frames(mn=MN, cn="2051", direction="in")
        assert uploads[-1].pw == "a1B2c3" and uploads[-1].verdict == "accepted"
        row = await command(platform, "get-time")  # the platform now signs with the new PW, the DAS accepts it
        assert (row.status, row.exe_rtn) == ("done", 1)
    rejected = platform.store.frames(mn=MN, direction="in", verdict="rejected")
    assert rejected == []


def hour(n: int) -> Record:
    t = datetime(2026, 1, 5, n)
    factors = (
        FactorValues("a21026", {"Avg": 20.0 + n / 4, "Max": 30.5, "Flag": "N"}, 60),
        FactorValues("a34013", {"Avg": 5.5 + n, "Flag": "N" if n % 5 else "D"}, 60),
    )
    return Record("o1", RecordKind.HOUR, t, factors)


async def test_history_after_a_restart_comes_from_the_reopened_store(
    tmp_path: Path, platform: Platform, clock: SimClock
) -> None:
    db = tmp_path / "das.sqlite"
    with Store(db) as store:
        store.put_records([hour(n) for n in range(24)])  # stored earlier; not in any outbox
    settings = base_settings(platform.port)
    async with running(db, settings, clock, platform):
        row = await command(platform, "history", {"kind": "hour", "begin": "20260105080000", "end": "20260105100000"})
        assert (row.status, row.qn_rtn, row.exe_rtn) == ("done", 1, 1)
        frames = linked(platform, row.id)
        assert [f[1] for f in frames] == ["2061", "9011", "2061", "2061", "2061", "9012"]
        assert [f[2] for f in frames if f[0] == "in" and f[1] == "2061"] == [
            record_to_cp(hour(n), DECIMALS).text for n in (8, 9, 10)
        ]
        answered = platform.store.frames(mn=MN, cn="9014", direction="out")
        data_qns = {f.qn for f in platform.store.frames(command_id=row.id, cn="2061", direction="in")}
        assert data_qns <= {f.qn for f in answered}  # each record waited for its own 9014 (C.50)

        row = await command(platform, "history", {"kind": "minute", "begin": "20260105080000", "end": "20260105100000"})
        assert (row.status, row.exe_rtn) == ("failed", 100)  # 没有数据
        row = await command(platform, "raw", {"cn": "2061", "cp": "BeginTime=20260105100000;EndTime=20260105080000"})
        assert (row.status, row.qn_rtn, row.exe_rtn) == ("failed", 1, 3)  # 命令请求条件错误


@contextmanager
def alias(platform: Platform, mn: str) -> Iterator[None]:
    """Let the platform address the DAS's connection under another MN (to send it a request for a wrong MN)."""
    platform._mn_conn[mn] = platform._mn_conn[MN]
    try:
        yield
    finally:
        platform._mn_conn.pop(mn, None)


@contextmanager
def platform_password(platform: Platform, pw: str) -> Iterator[None]:
    """Make the platform sign (and expect) another PW, as a platform with a wrong PW configured would."""
    platform._passwords[MN] = pw
    try:
        yield
    finally:
        platform._passwords.pop(MN, None)


async def test_wrong_pw_mn_and_cn_are_refused_logged_and_change_nothing(
    tmp_path: Path, platform: Platform, clock: SimClock, caplog: pytest.LogCaptureFixture
) -> None:
    settings = base_settings(platform.port)
    async with running(tmp_path / "das.sqlite", settings, clock, platform) as das:
        with caplog.at_level(logging.WARNING, logger="uplink.commands"):
            with platform_password(platform, "000000"):
                row = await command(platform, "set-rtd-interval", {"seconds": 300})
            assert (row.status, row.qn_rtn) == ("refused", 3)
            with alias(platform, OTHER_MN):
                row = await command(platform, "set-rtd-interval", {"seconds": 300}, mn=OTHER_MN)
            assert (row.status, row.qn_rtn) == ("refused", 4)
            row = await command(platform, "raw", {"cn": "1999", "cp": "RtdInterval=300"})
            assert (row.status, row.qn_rtn) == ("refused", 8)
        assert das.settings == settings and das.store.get_settings(das.session.target) == {}
        for qn_rtn in (3, 4, 8):
            assert f"QnRtn={qn_rtn}" in caplog.text
        row = await command(platform, "set-rtd-interval", {"seconds": 300})  # the session is still fine
        assert row.status == "done" and das.settings.rtd_interval == 300


async def test_a_request_with_a_bad_crc_gets_no_answer_and_changes_nothing(
    tmp_path: Path, platform: Platform, clock: SimClock
) -> None:
    settings = base_settings(platform.port)
    async with running(tmp_path / "das.sqlite", settings, clock, platform) as das:
        await platform.set_fault("bad-crc", True)
        row = await command(platform, "set-rtd-interval", {"seconds": 300})
        assert row.status == "timeout"  # hj212.md §1: a wrong CRC ends the exchange (执行结束), nothing is answered
        assert platform.store.frames(command_id=row.id, direction="in") == []
        assert das.settings.rtd_interval == 30 and das.store.get_settings(das.session.target) == {}
        await platform.set_fault("bad-crc", False)
        row = await command(platform, "set-rtd-interval", {"seconds": 300})
        assert row.status == "done" and das.settings.rtd_interval == 300


async def test_time_get_calibration_request_and_bounds(
    tmp_path: Path, platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    clock = SimClock(datetime.now().replace(microsecond=0) - timedelta(minutes=10))  # the DAS clock is 10 min slow
    settings = base_settings(platform.port, clock_set_bounds=ClockSetBounds(max_step_s=3600))
    async with running(tmp_path / "das.sqlite", settings, clock, platform) as das:
        row = await command(platform, "get-time")
        data = [f for f in platform.store.frames(command_id=row.id, cn="1011", direction="in")]
        assert row.status == "done" and len(data) == 1
        assert abs((data[0].cp.time("SystemTime") - clock.now()).total_seconds()) < 5  # type: ignore[union-attr]

        with caplog.at_level(logging.INFO, logger="uplink.commands"):
            assert await request_time_calibration(das.session.context)  # answered 9013
            await platform.wait_frames(mn=MN, cn="9012", count=2, timeout=TIMEOUT)  # then the platform's 1012
        assert abs((clock.now() - datetime.now()).total_seconds()) < 5
        assert "1012" in caplog.text and "→" in caplog.text
        sets = [r for r in platform.store.commands(mn=MN) if r.cn == "1012"]
        assert [(r.source, r.status, r.exe_rtn) for r in sets] == [("auto", "done", 1)]

        before = clock.now()
        with caplog.at_level(logging.WARNING, logger="uplink.commands"):
            row = await command(platform, "set-time", {"time": f"{before + timedelta(hours=3):%Y%m%d%H%M%S}"})
        assert (row.status, row.qn_rtn, row.exe_rtn) == ("failed", 1, 3)
        assert abs((clock.now() - before).total_seconds()) < 5  # not moved
        assert "拒绝校时" in caplog.text


async def test_realtime_upload_stop_and_start_persist(tmp_path: Path, platform: Platform, clock: SimClock) -> None:
    db = tmp_path / "das.sqlite"
    settings = base_settings(platform.port)
    async with running(db, settings, clock, platform) as das:
        row = await command(platform, "stop-rtd")
        assert row.status == "done" and linked(platform, row.id) == [("out", "2012", ""), ("in", "9013", "")]
        assert das.settings.upload.rtd is False
        assert das.manager.targets_for(rtd_record("o1", clock.now(), 2)) == []  # real-time data is not queued
    async with running(db, settings, clock, platform) as das:
        assert das.settings.upload.rtd is False  # still stopped after a restart
        row = await command(platform, "start-rtd")
        assert (row.status, row.exe_rtn) == ("done", 1) and das.settings.upload.rtd is True
        das.manager.put_record(rtd_record("o1", clock.now(), 3))
        await platform.wait_frames(mn=MN, cn="2011", count=1, timeout=TIMEOUT)
    with Store(db) as store:
        assert store.get_settings("national/o1") == {"upload.rtd": "1"}
