"""HJ 212-2025 platform commands end to end (reference platform ↔ real session over TCP, SM4 on): history
numbered PNUM/PNO, ST=44 2011 history, 1002 MN assignment, 1014 key change, 3021 through a device service;
each checked again after a restart where it persists (hj212-2025.md §2, §4-§6, §8)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from agent.model import FactorValues, Record, RecordKind
from buffer import Store
from hil.platform import MnConfig, Platform, PlatformConfig
from uplink.clock import SimClock
from uplink.commands import CommandHandler, DasIdentity
from uplink.cp_build import record_to_cp
from uplink.manager import UplinkManager
from uplink.services import Services
from uplink.session import PlatformSession
from uplink.settings import PlatformSettings
from uplink.testing import window_record

MN = "010000A8900016F000169DC0"
NEW_MN = "010000A8900016F000169DC9"
KEY, NEW_KEY = "0000000000000000", "Ab3dEf6hIj9lMn0p"
ME = DasIdentity("6970000000001ABCDEFG1234", "A800200A8C6D", ("E86A643C7BBC",))
DECIMALS = {"a21026": 2, "a34013": 1, "d20105": 2}
TIMEOUT = 20.0  # s; answers come within milliseconds on loopback, but other work may load the 2 cores


class ParamTable:
    """A stand-in device service over a parameter table, for the session's 3021 flow only: nothing is written to
    an analyzer here. `das run`'s real one (agent/daemon/devicecontrol.py) writes the registers a profile declares
    writable; hil/tests/test_daemon_commands.py runs that against a simulated analyzer.

    Only i13004 (消解温度) is in the table; anything else is refused (None).
    """

    def __init__(self) -> None:
        self.params: dict[str, str] = {"i13004": "165.0"}

    async def serial_numbers(self, outlet: str) -> Mapping[str, str] | None:
        return None

    async def info(self, outlet: str, pol_id: str | None, info_ids: Sequence[str]) -> Mapping[str, str | float] | None:
        return {k: v for k, v in self.params.items() if not info_ids or k in info_ids}

    async def set_param(self, outlet: str, pol_id: str | None, info_id: str, value: str) -> bool | None:
        if info_id not in self.params:
            return None
        self.params[info_id] = value
        return True

    async def calibrate(self, outlet: str, pol_id: str, kind: int | None) -> bool | None:
        return None

    async def sample_now(self, outlet: str, pol_id: str) -> bool | None:
        return None

    async def standard_check(self, outlet: str, pol_id: str) -> bool | None:
        return None


def mn_config(mn: str, key: str = KEY) -> MnConfig:
    return MnConfig(mn=mn, version=2025, encrypt=True, sm4_key=key)


def platform_config(key: str = KEY) -> PlatformConfig:
    return PlatformConfig(mns=(mn_config(MN, key), mn_config(NEW_MN, key)), poll_interval=0.05, command_timeout=8.0)


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    async with Platform(platform_config(), tmp_path / "platform.sqlite") as server:
        yield server


def settings_for(port: int) -> PlatformSettings:
    return PlatformSettings(
        name="national", host="127.0.0.1", port=port, mns={"o1": MN}, version=2025, encrypt=True, sm4_key=KEY,
        over_time=8.0, re_count=1, backoff_min_s=0.1, backoff_max_s=0.5,
    )  # fmt: skip


@asynccontextmanager
async def running(
    db: Path, settings: PlatformSettings, clock: SimClock, platform: Platform, devices: ParamTable | None = None
) -> AsyncIterator[PlatformSession]:
    store = Store(db, clock=clock.now)
    manager = UplinkManager(
        [settings], store, clock=clock, services=Services(clock=clock, devices=devices),
        handler=CommandHandler(identity=ME), decimals={"o1": DECIMALS}, idle_poll_s=0.2,
    )  # fmt: skip
    session = manager.sessions["national/o1"]
    manager.start()
    try:
        mn = session.mn
        seen = len(platform.store.frames(mn=mn, cn="2051", direction="in", verdict="accepted"))
        start = clock.now().replace(second=0) + timedelta(minutes=len(platform.store.frames(cn="2051")))
        manager.put_record(window_record("o1", RecordKind.MINUTE, start, seen, factors=("a21026",)))
        await platform.wait_frames(mn=mn, cn="2051", count=seen + 1, timeout=TIMEOUT)
        await platform.wait_connected(mn, timeout=TIMEOUT)
        yield session
    finally:
        await manager.stop(1.0)
        store.close()


@pytest.fixture
def clock() -> SimClock:
    return SimClock(datetime.now().replace(microsecond=0))


def hour(n: int) -> Record:
    factors = (
        FactorValues("a21026", {"Avg": 20.0 + n, "Flag": "N"}, 60),
        FactorValues("a34013", {"Avg": 1.5, "Flag": "N"}),
    )
    return Record("o1", RecordKind.HOUR, datetime(2026, 1, 5, n), factors)


async def test_history_records_are_numbered_pnum_pno_and_encrypted(
    tmp_path: Path, platform: Platform, clock: SimClock
) -> None:
    db = tmp_path / "das.sqlite"
    with Store(db) as store:
        store.put_records([hour(n) for n in range(6)])
    async with running(db, settings_for(platform.port), clock, platform):
        row = await platform.command(
            MN, "history", {"kind": "hour", "begin": "20260105020000", "end": "20260105040000"}
        )
        assert (row.status, row.exe_rtn) == ("done", 1)
        data = platform.store.frames(command_id=row.id, cn="2061", direction="in")
        assert [(f.pnum, f.pno, f.flag) for f in data] == [(3, 1, 11), (3, 2, 11), (3, 3, 11)]
        assert [f.cp_text for f in data] == [record_to_cp(hour(n), DECIMALS).text for n in (2, 3, 4)]
        assert all(f.cp_text.encode() not in f.raw for f in data)  # the CP went SM4-encrypted (§6.4.4)


async def test_st_44_history_is_a_2011_fetch_of_electricity_records(
    tmp_path: Path, platform: Platform, clock: SimClock
) -> None:
    db = tmp_path / "das.sqlite"
    t = datetime(2026, 1, 5, 8, 45)
    power = Record("o1", RecordKind.RTD, t, (FactorValues("d20105", {"Rtd": 220.2, "Flag": "N"}),))
    with Store(db) as store:
        store.put_record(power)
    async with running(db, settings_for(platform.port), clock, platform):
        platform._mn_seen[MN] = ("44", "123456")  # the ST a platform uses for an electricity fetch (§6)
        row = await platform.command(MN, "raw", {"cn": "2011", "cp": "BeginTime=20260105080000;EndTime=20260105090000"})
        assert (row.status, row.exe_rtn) == ("done", 1)
        data = platform.store.frames(command_id=row.id, cn="2011", direction="in")
        assert [(f.st, f.pnum, f.pno, f.cp_text) for f in data] == [
            ("44", 1, 1, "DataTime=20260105084500;d20105-Rtd=220.20,d20105-Flag=N")
        ]


async def test_1002_assigns_a_new_mn_that_is_kept_after_a_restart(
    tmp_path: Path, platform: Platform, clock: SimClock
) -> None:
    db = tmp_path / "das.sqlite"
    settings = settings_for(platform.port)
    async with running(db, settings, clock, platform) as session:
        platform._mn_conn[NEW_MN] = platform._mn_conn[MN]  # the platform addresses the DAS by its new MN
        platform._mn_seen[NEW_MN] = platform._mn_seen[MN]  # with the station's ST and PW
        row = await platform.command(NEW_MN, "raw", {"cn": "1002", "cp": "i23005-Info=6970000000001ABCDEFG0000"})
        assert (row.status, row.qn_rtn) == ("refused", 4) and session.mn == MN  # for another DAS
        row = await platform.command(NEW_MN, "raw", {"cn": "1002", "cp": f"i23005-Info={ME.das_id}"})
        assert (row.status, row.exe_rtn) == ("done", 1) and session.mn == NEW_MN
    async with running(db, settings, clock, platform) as session:  # uploads now come from the new MN
        assert session.mn == NEW_MN
        assert platform.store.frames(mn=NEW_MN, cn="2051", direction="in", verdict="accepted")


async def test_1014_changes_the_sm4_key_for_what_follows(tmp_path: Path, platform: Platform, clock: SimClock) -> None:
    db = tmp_path / "das.sqlite"
    settings = settings_for(platform.port)
    async with running(db, settings, clock, platform) as session:
        cp = f"SKCreateTime=20260105120000000,NewSK={NEW_KEY}"
        row = await platform.command(MN, "raw", {"cn": "1014", "cp": cp})
        assert (row.status, row.exe_rtn) == ("done", 1)
        assert session.settings.sm4_key == NEW_KEY
    platform.config = platform_config(NEW_KEY)  # the platform operator switches to the key it handed out
    async with running(db, settings, clock, platform) as session:  # the store gave the session the new key
        assert session.settings.sm4_key == NEW_KEY
        rejected = platform.store.frames(mn=MN, direction="in", verdict="rejected")
        assert rejected == []


async def test_3021_sets_what_the_profile_allows_and_refuses_the_rest(
    tmp_path: Path, platform: Platform, clock: SimClock
) -> None:
    devices = ParamTable()
    async with running(tmp_path / "das.sqlite", settings_for(platform.port), clock, platform, devices):
        row = await platform.command(MN, "raw", {"cn": "3021", "cp": "PolId=w01018;InfoId=i13004;i13004-Info=170.0"})
        assert (row.status, row.exe_rtn) == ("done", 1) and devices.params["i13004"] == "170.0"
        row = await platform.command(MN, "raw", {"cn": "3021", "cp": "PolId=w01018;InfoId=i13008;i13008-Info=1.2"})
        assert (row.status, row.qn_rtn, row.exe_rtn) == ("failed", 1, 3) and "i13008" not in devices.params
        row = await platform.command(MN, "raw", {"cn": "3020", "cp": "PolId=w01018;InfoId=i13004"})
        data = platform.store.frames(command_id=row.id, cn="3020", direction="in")
        assert row.status == "done" and [f.cp.get("i13004-Info") for f in data] == ["170.0"]  # type: ignore[union-attr]
