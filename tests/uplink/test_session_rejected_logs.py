"""A platform that refuses every upload (wrong PW, QnRtn 3) is refused again on each reconnect: the session logs
the first refusal at ERROR, the repeats at DEBUG (a summary at most every 10 min) and the recovery at INFO,
against the reference platform over TCP (style.md §5.5: log transitions)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path

import pytest

from buffer import Store
from hil.platform import MnConfig, Platform, PlatformConfig
from uplink.clock import SimClock
from uplink.manager import UplinkManager
from uplink.settings import PlatformSettings
from uplink.testing import DECIMALS, GAS_FACTORS, rtd_record

MN = "010000A8900016F000169DC0"


async def test_wrong_password_is_one_error_then_debug_then_one_info(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="uplink.session")
    clock = SimClock(datetime.now().replace(microsecond=0), speed=10)
    store = Store(tmp_path / "das.sqlite", clock=clock.now)
    cfg = PlatformConfig(mns=(MnConfig(mn=MN, pw="654321", factors=GAS_FACTORS),), poll_interval=0.05)
    async with Platform(cfg, tmp_path / "p.sqlite") as platform:
        settings = PlatformSettings(
            name="p",
            host="127.0.0.1",
            port=platform.port,
            pw="111111",
            mns={"o1": MN},
            backoff_min_s=1,
            backoff_max_s=2,
        )
        manager = UplinkManager(
            [settings], store, clock=clock, timer=clock.timer, handler=None, decimals={"o1": DECIMALS}
        )
        session = manager.sessions[settings.target("o1")]
        manager.start()
        try:
            manager.put_record(rtd_record("o1", clock.now(), 1))
            async with asyncio.timeout(30):
                while session.status().reconnects < 4:  # refused on at least 5 connections
                    await asyncio.sleep(0.05)
            session.adopt(settings.model_copy(update={"pw": "654321"}))
            async with asyncio.timeout(30):
                while store.backlog_stats(session.target).pending:
                    await asyncio.sleep(0.05)
        finally:
            await manager.stop()
    store.close()

    logs = [r for r in caplog.records if r.name == "uplink.session"]
    rejected = [r for r in logs if "upload rejected" in r.getMessage()]
    assert [r.levelno for r in rejected if r.levelno >= logging.WARNING] == [logging.ERROR]
    assert len([r for r in rejected if r.levelno == logging.DEBUG]) >= 3
    accepted = [r for r in logs if "uploads accepted again" in r.getMessage()]
    assert [r.levelno for r in accepted] == [logging.INFO]
    assert getattr(accepted[0], "fields", {}).get("failures", 0) >= 4
