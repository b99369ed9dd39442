"""HJ 212-2025 identity flow against the reference platform over TCP (hj212-2025.md §4): a session with an empty
MN sends 1001 (i23005-i23008) on connect, the platform answers 9013, nothing is uploaded until the platform's
1002 assigns an MN, then the waiting record goes with the new MN; `send_identity` on_connect / auto / never."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from agent.model import RecordKind
from buffer import Store
from hil.platform import MnConfig, Platform, PlatformConfig
from hil.platform.config import DialectConfig
from uplink.clock import SimClock
from uplink.commands import CommandHandler, DasIdentity
from uplink.hj212 import Cp
from uplink.manager import UplinkManager
from uplink.session import PlatformSession
from uplink.settings import PlatformSettings
from uplink.testing import window_record

NEW_MN = "010000A8900016F000169DC0"
ME = DasIdentity("6970000000001ABCDEFG1234", "A800200A8C6D", ("E86A643C7BBC", "A763742C1AE1"))
TIMEOUT = 20.0  # s; loopback answers take milliseconds, but the 2 cores are shared


def settings(port: int, mn: str, **kw: object) -> PlatformSettings:
    return PlatformSettings.model_validate(
        {"name": "national", "host": "127.0.0.1", "port": port, "mns": {"o1": mn}, "version": 2025, "st": "32",
         "over_time": 5.0, "re_count": 1, "backoff_min_s": 0.1, "backoff_max_s": 0.5, **kw}
    )  # fmt: skip


@asynccontextmanager
async def session_on(
    db: Path, s: PlatformSettings, identity: DasIdentity | None = ME, hour: int = 8
) -> AsyncIterator[PlatformSession]:
    clock = SimClock(datetime(2026, 1, 5, 9, 0, 5))
    store = Store(db, clock=clock.now)
    manager = UplinkManager(
        [s], store, clock=clock, handler=CommandHandler(identity=identity), identity=identity, idle_poll_s=0.1
    )
    manager.put_record(window_record("o1", RecordKind.HOUR, datetime(2026, 1, 5, hour), hour, factors=("w01018",)))
    manager.start()
    try:
        yield manager.sessions["national/o1"]
    finally:
        await manager.stop(1.0)
        store.close()


async def test_an_unassigned_das_sends_1001_waits_for_1002_then_uploads_with_the_new_mn(tmp_path: Path) -> None:
    # A 2025 platform: a DAS it does not know yet (MN empty) is read in the 2025 dialect.
    config = PlatformConfig(
        mns=(MnConfig(mn=NEW_MN, version=2025),),
        dialect=DialectConfig(version=2025),
        poll_interval=0.05,
        command_timeout=8.0,
    )
    async with Platform(config, tmp_path / "platform.sqlite") as platform:
        async with session_on(tmp_path / "das.sqlite", settings(platform.port, "")) as session:
            [hello] = await platform.wait_frames(mn="", cn="1001", timeout=TIMEOUT)
            assert dict(Cp.parse(hello.cp_text or "").items()) == {
                "i23005-Info": ME.das_id,
                "i23006-Info": "A800200A8C6D",
                "i23007-Info": "E86A643C7BBC",
                "i23008-Info": "A763742C1AE1",
            }
            assert hello.flag == 9 and hello.st == "32"
            answers = await platform.wait_frames(cn="9013", direction="out", timeout=TIMEOUT)
            assert [a.qn for a in answers] == [hello.qn]
            await asyncio.sleep(0.5)  # five send-loop looks: the hour record must still wait for an MN
            assert platform.store.frames(cn="2061") == []
            assert session.status().backlog == 1

            platform._mn_conn[NEW_MN] = platform._mn_conn[""]  # the platform addresses the DAS by the MN it assigns
            row = await platform.command(NEW_MN, "raw", {"cn": "1002", "cp": f"i23005-Info={ME.das_id}"})
            assert (row.status, row.exe_rtn) == ("done", 1) and session.mn == NEW_MN
            [record] = await platform.wait_frames(mn=NEW_MN, cn="2061", verdict="accepted", timeout=TIMEOUT)
            assert record.cp_text.startswith("DataTime=20260105080000;")
            assert platform.store.frames(cn="1001", mn=NEW_MN) == []  # 1001 only while unassigned (auto)

        # The adopted MN was persisted: after a restart the session uploads with it and sends no 1001 (auto).
        seen = len(platform.store.frames(cn="1001"))
        async with session_on(tmp_path / "das.sqlite", settings(platform.port, ""), hour=7) as session:
            assert session.mn == NEW_MN
            await platform.wait_frames(mn=NEW_MN, cn="2061", count=2, timeout=TIMEOUT)
            assert len(platform.store.frames(cn="1001")) == seen


async def test_send_identity_on_connect_auto_and_never(tmp_path: Path) -> None:
    config = PlatformConfig(mns=(MnConfig(mn=NEW_MN, version=2025),), poll_interval=0.05)
    async with Platform(config, tmp_path / "platform.sqlite") as platform:
        s = settings(platform.port, NEW_MN, send_identity="on_connect")
        async with session_on(tmp_path / "a.sqlite", s):
            [hello] = await platform.wait_frames(mn=NEW_MN, cn="1001", timeout=TIMEOUT)
            assert Cp.parse(hello.cp_text or "").get("i23005-Info") == ME.das_id
            await platform.wait_frames(mn=NEW_MN, cn="2061", timeout=TIMEOUT)
        for kw, identity in (({}, ME), ({"send_identity": "never"}, ME), ({"send_identity": "on_connect"}, None)):
            before = len(platform.store.frames(cn="2061"))
            async with session_on(tmp_path / f"b{before}.sqlite", settings(platform.port, NEW_MN, **kw), identity):
                # the hour record arrives after whatever the session sends first on its connection
                await platform.wait_frames(mn=NEW_MN, cn="2061", count=before + 1, timeout=TIMEOUT)
        assert len(platform.store.frames(cn="1001")) == 1
