"""A platform down for a simulated week, then back (issue 5, points 3 and 7).

What runs: the agent clock starts at 2026-01-08 00:00 and runs 20× faster than real time (OverTime 10 s and
the 30 s real-time interval pass in 0.5 s and 1.5 s). The platform refuses connections while the week
2026-01-01 … 01-07 is written straight into the store: 1008 minute records (10-minute interval), 168 hour
records and 7 day records of 4 factors; meanwhile real-time records keep coming every 30 s (agent time).
Then the refusal is lifted. Every record must arrive exactly as stored, with RF=1; real-time data must resume
within one interval of the reconnect; the platform's report must show 100 % transmission for every factor
and day; and the outage must be two log lines (one WARNING down, one INFO back).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from agent.model import RecordKind
from buffer import Store
from hil.platform import MnConfig, Platform, PlatformConfig, report_from_store
from uplink.clock import SimClock
from uplink.cp_build import record_to_cp
from uplink.manager import UplinkManager
from uplink.settings import PlatformSettings
from uplink.testing import DECIMALS, GAS_FACTORS, rtd_record, series

pytestmark = [pytest.mark.hil, pytest.mark.slow]

MN = "010000A8900016F000169DC0"
WEEK = datetime(2026, 1, 1)
SPEED = 20.0
RTD_INTERVAL = 30


@pytest.mark.timeout(180)  # guards a hang; speed is measured in bench/, never asserted
async def test_week_outage_backfills_everything_and_live_data_resumes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="uplink.session")
    clock = SimClock(WEEK + timedelta(days=7), speed=SPEED)
    store = Store(tmp_path / "das.sqlite", clock=clock.now)
    config = PlatformConfig(mns=(MnConfig(mn=MN, version=2025, factors=GAS_FACTORS),), poll_interval=0.05)
    async with Platform(config, tmp_path / "platform.sqlite") as platform:
        await platform.set_fault("refuse", True)
        settings = PlatformSettings(
            name="national",
            host="127.0.0.1",
            port=platform.port,
            version=2025,
            mns={"o1": MN},
            rtd_interval=RTD_INTERVAL,
            backoff_min_s=1,
            backoff_max_s=10,
        )
        manager = UplinkManager(
            [settings], store, clock=clock, timer=clock.timer, handler=None, decimals={"o1": DECIMALS}, idle_poll_s=0.1
        )
        target = settings.target("o1")
        week = [
            *series("o1", RecordKind.MINUTE, WEEK, timedelta(minutes=10), 7 * 144),
            *series("o1", RecordKind.HOUR, WEEK, timedelta(hours=1), 7 * 24),
            *series("o1", RecordKind.DAY, WEEK, timedelta(days=1), 7),
        ]

        async def realtime() -> None:
            n = 0
            while True:
                manager.put_record(rtd_record("o1", clock.now().replace(microsecond=0), n))
                n += 1
                await clock.timer.sleep(RTD_INTERVAL)

        manager.start()
        live = asyncio.create_task(realtime(), name="test-realtime")
        try:
            ids = store.put_records(week, [target])
            for session in manager.sessions.values():
                session.wake()
            # down for 60 s of agent time, longer than the 40 s OverTime × (1 + ReCount) after which the records
            # due at the start count as failed (RF=1, docs/uplink.md)
            await asyncio.sleep(3.0)
            down = manager.status()[0]
            assert down.state == "down" and not down.connected
            assert down.backlog >= len(week)
            assert not platform.store.frames(mn=MN, direction="in")

            lift_wall = datetime.now()
            await platform.set_fault("refuse", False)
            async with asyncio.timeout(45):
                while store.backlog_stats(target).pending > 1:  # at most the newest real-time record in flight
                    await asyncio.sleep(0.1)
            up = manager.status()[0]
        finally:
            live.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await live
            await manager.stop()

        assert up.state == "up" and up.backlog <= 1
        frames = platform.store.frames(mn=MN, direction="in")
        assert all(f.verdict == "accepted" for f in frames)
        by_key = {(f.cn, f.data_time): f for f in frames}
        cn_of = {RecordKind.MINUTE: "2051", RecordKind.HOUR: "2061", RecordKind.DAY: "2031"}
        for rid in ids:
            stored = store.get_record(rid)
            assert stored is not None
            frame = by_key.get((cn_of[stored.kind], f"{stored.data_time:%Y%m%d%H%M%S}"))
            assert frame is not None, f"{stored.kind} {stored.data_time} never arrived"
            assert frame.cp == record_to_cp(stored, DECIMALS)
            assert frame.rf, f"a backfilled record goes with RF=1 (HJ 212-2025): {stored.kind} {stored.data_time}"
        assert len([f for f in frames if f.cn in ("2051", "2061", "2031")]) == len(week)  # each exactly once

        # real-time data resumed within one interval of the reconnect
        opened = min(
            datetime.fromisoformat(c["opened"]) if isinstance(c["opened"], str) else c["opened"]
            for c in platform.store.connections()
        )
        assert opened >= lift_wall - timedelta(seconds=1)
        first_rtd = min(f.at for f in frames if f.cn == "2011")
        assert first_rtd - opened <= timedelta(seconds=RTD_INTERVAL / SPEED)

        # the platform's report: 100 % transmission for every factor on every day of the week
        report = report_from_store(platform.store, mn=MN)
        rows = [r for r in report[0].rates if WEEK.date() <= r.day < (WEEK + timedelta(days=7)).date()]
        assert {(r.factor, r.day) for r in rows} == {
            (f, (WEEK + timedelta(days=d)).date()) for f in GAS_FACTORS for d in range(7)
        }
        assert all(r.transmission == 1.0 and r.effective == 1.0 for r in rows)

        # a week's outage is two log lines
        session_logs = [r for r in caplog.records if r.name == "uplink.session"]
        assert len([r for r in session_logs if r.levelno == logging.WARNING]) == 1
        assert len([r for r in session_logs if r.levelno == logging.INFO and "恢复" in r.getMessage()]) == 1
