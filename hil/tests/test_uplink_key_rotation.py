"""HJ 212-2025 SM4 key rotation against the reference platform over TCP (hj212-2025.md §2 "Key management": keys
rotate every 90 days and the DAS asks for the next one ahead of time): a key due for rotation makes the session
send 1014 `SKCreateTime` (answered 9013); the platform's 1014 set stores the new key with its creation time, so
no further request goes; a young key asks nothing; a key of unknown age is dated from its first use."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from agent.model import RecordKind
from buffer import Store
from hil.platform import MnConfig, Platform, PlatformConfig
from uplink.clock import SimClock
from uplink.commands import CommandHandler
from uplink.hj212 import Cp
from uplink.manager import UplinkManager
from uplink.session import PlatformSession
from uplink.settings import PlatformSettings
from uplink.testing import window_record

MN = "010000A8900016F000169DC0"
KEY, NEW_KEY = "Q7wE9rT2yU4iO6pA", "Zx8Cv6Bn4Mm2Ll0K"
NOW = datetime(2026, 5, 1, 10, 0, 0)
TIMEOUT = 20.0  # s; loopback answers take milliseconds, but the 2 cores are shared


def settings(port: int, **kw: object) -> PlatformSettings:
    return PlatformSettings.model_validate(
        {"name": "national", "host": "127.0.0.1", "port": port, "mns": {"o1": MN}, "version": 2025,
         "encrypt": True, "sm4_key": KEY, "over_time": 5.0, "re_count": 1, "backoff_min_s": 0.1,
         "backoff_max_s": 0.5, **kw}
    )  # fmt: skip


@asynccontextmanager
async def session_on(db: Path, s: PlatformSettings) -> AsyncIterator[PlatformSession]:
    clock = SimClock(NOW)
    store = Store(db, clock=clock.now)
    manager = UplinkManager([s], store, clock=clock, handler=CommandHandler(), idle_poll_s=0.1)
    session = manager.sessions["national/o1"]
    session.key_check_s = 0.05  # look at the key's age often (hourly in service)
    manager.put_record(window_record("o1", RecordKind.HOUR, datetime(2026, 5, 1, 8), 1, factors=("a21026",)))
    manager.start()
    try:
        yield session
    finally:
        await manager.stop(1.0)
        store.close()


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    config = PlatformConfig(
        mns=(MnConfig(mn=MN, version=2025, encrypt=True, sm4_key=KEY),), poll_interval=0.05, command_timeout=8.0
    )
    async with Platform(config, tmp_path / "platform.sqlite") as server:
        yield server


# SKCreateTime: the request time (the agent clock runs on from NOW) or the current key's creation time.
@pytest.mark.parametrize(("mode", "stamp"), [("request", "202605011000"), ("key", "20260205103000000")])
async def test_a_key_due_for_rotation_is_asked_for_and_the_platforms_set_ends_the_asking(
    tmp_path: Path, platform: Platform, mode: str, stamp: str
) -> None:
    created = datetime(2026, 2, 5, 10, 30)  # 85 days before NOW: 90 - 7 days are over
    s = settings(platform.port, sm4_key_created=created, key_request_time=mode)
    async with session_on(tmp_path / "das.sqlite", s) as session:
        assert session.key_request_due() == datetime(2026, 4, 29, 10, 30)
        [ask] = await platform.wait_frames(mn=MN, cn="1014", verdict="accepted", timeout=TIMEOUT)
        sk_create_time = Cp.parse(ask.cp_text or "").get("SKCreateTime") or ""
        assert len(sk_create_time) == 17 and sk_create_time.startswith(stamp) and ask.flag == 9
        assert ask.cp_text is not None and ask.cp_text.encode() not in ask.raw  # 1014 goes encrypted (§6.4.4)
        await platform.wait_frames(cn="9013", direction="out", timeout=TIMEOUT)

        row = await platform.command(MN, "raw", {"cn": "1014", "cp": f"SKCreateTime=20260501095500123,NewSK={NEW_KEY}"})
        assert (row.status, row.exe_rtn) == ("done", 1)
        assert session.settings.sm4_key == NEW_KEY
        assert session.settings.sm4_key_created == datetime(2026, 5, 1, 9, 55, 0, 123000)
        assert session.key_request_due() == datetime(2026, 7, 23, 9, 55, 0, 123000)
        await asyncio.sleep(0.5)  # ten looks at the key's age: the new key is young, nothing more is asked
        assert len(platform.store.frames(cn="1014", direction="in")) == 1
    with Store(tmp_path / "das.sqlite") as store:  # key and creation time survive a restart
        assert store.get_settings("national/o1") == {
            "sm4_key": NEW_KEY,
            "sm4_key_created": "2026-05-01 09:55:00.123000",
        }


async def test_a_young_key_asks_nothing_and_a_key_of_unknown_age_is_dated_from_its_first_use(
    tmp_path: Path, platform: Platform
) -> None:
    for n, s in enumerate((settings(platform.port, sm4_key_created=NOW - timedelta(days=10)), settings(platform.port))):
        async with session_on(tmp_path / f"das{n}.sqlite", s) as session:
            # the hour record arrives (decrypted with the key), and ten looks at the key's age pass
            await platform.wait_frames(mn=MN, cn="2061", verdict="accepted", count=n + 1, timeout=TIMEOUT)
            await asyncio.sleep(0.5)
            assert platform.store.frames(cn="1014") == []
            assert session.settings.sm4_key_created == (NOW - timedelta(days=10) if n == 0 else NOW)
    with Store(tmp_path / "das1.sqlite") as store:
        assert store.get_settings("national/o1") == {"sm4_key_created": "2026-05-01 10:00:00"}
