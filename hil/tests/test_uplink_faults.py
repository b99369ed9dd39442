"""Answers withheld, delayed, corrupted; a wrong password; a dropped connection; platform commands routed.

Against the reference platform's fault modes over real TCP (docs/platform.md "Fault modes"). The rule under
test: an item is done only when a valid 9014 with its QN came back; anything else leaves it pending and it is
resent, and nothing is acked twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from agent.model import RecordKind
from buffer import Store
from hil.platform import MnConfig, Platform, PlatformConfig
from uplink.clock import SimClock
from uplink.manager import UplinkManager
from uplink.session import PlatformSession, default_handler
from uplink.settings import PlatformSettings
from uplink.testing import DECIMALS, series

pytestmark = pytest.mark.hil

MN = "MNFAULT01"
T0 = datetime(2026, 1, 5)


@contextlib.asynccontextmanager
async def rig(
    tmp_path: Path, *, platform_pw: str = "123456", handler: object = None, version: int = 2017, **overrides: object
) -> AsyncIterator[tuple[Platform, UplinkManager, PlatformSession, Store]]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    clock = SimClock(T0 + timedelta(days=1), speed=1)
    store = Store(tmp_path / "das.sqlite", clock=clock.now)
    mn_config = MnConfig(mn=MN, pw=platform_pw, version=version)  # type: ignore[arg-type]
    config = PlatformConfig(mns=(mn_config,), poll_interval=0.05, command_timeout=5)
    async with Platform(config, tmp_path / "platform.sqlite") as platform:
        fields: dict[str, object] = {
            "over_time": 0.3,
            "re_count": 1,
            "backoff_min_s": 0.05,
            "backoff_max_s": 0.2,
            "version": version,
            **overrides,
        }
        settings = PlatformSettings(name="city", host="127.0.0.1", port=platform.port, mns={"o1": MN}, **fields)  # type: ignore[arg-type]
        manager = UplinkManager(
            [settings],
            store,
            clock=clock,
            timer=clock.timer,
            handler=handler,
            decimals={"o1": DECIMALS},
            idle_poll_s=0.05,
        )
        try:
            yield platform, manager, manager.sessions["city/o1"], store
        finally:
            await manager.stop(budget=1)


async def until(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


def hours(manager: UplinkManager, n: int) -> None:
    for record in series("o1", RecordKind.HOUR, T0, timedelta(hours=1), n):
        manager.put_record(record)


async def test_withheld_answers_keep_items_pending_until_answers_come_back(tmp_path: Path) -> None:
    async with rig(tmp_path) as (platform, manager, session, store):
        await platform.set_fault("withhold", True)
        hours(manager, 3)
        manager.start()
        await platform.wait_frames(mn=MN, cn="2061", count=4, timeout=15)  # first send + ReCount resend, twice
        assert store.backlog_stats("city/o1").pending == 3 and session.status().acked == 0
        assert session.status().timeouts >= 2
        await platform.set_fault("withhold", False)
        await until(lambda: store.backlog_stats("city/o1").pending == 0)
        assert session.status().acked == 3
        got = {f.data_time for f in platform.store.frames(mn=MN, cn="2061", direction="in")}
        assert got == {f"{T0 + timedelta(hours=h):%Y%m%d%H%M%S}" for h in range(3)}


async def test_delayed_answer_counts_once_and_the_late_duplicate_is_ignored(tmp_path: Path) -> None:
    async with rig(tmp_path, re_count=3) as (platform, manager, session, store):
        await platform.set_fault("delay", 0.5)  # past OverTime 0.3 s: the DAS resends (same QN) before it arrives
        hours(manager, 1)
        manager.start()
        await until(lambda: store.backlog_stats("city/o1").pending == 0)
        await until(lambda: session.status().stray_answers >= 1)  # the answer to the resend, after the ack
        status = session.status()
        assert status.acked == 1 and status.reconnects == 0 and status.state == "up"
        frames = platform.store.frames(mn=MN, cn="2061", direction="in")
        assert len(frames) >= 2 and len({f.qn for f in frames}) == 1


async def test_corrupted_answers_are_not_acks(tmp_path: Path) -> None:
    async with rig(tmp_path) as (platform, manager, session, store):
        await platform.set_fault("bad-crc", True)
        hours(manager, 2)
        manager.start()
        await until(lambda: session.status().bad_frames >= 3)
        assert store.backlog_stats("city/o1").pending == 2 and session.status().acked == 0
        await platform.set_fault("bad-crc", False)
        await until(lambda: store.backlog_stats("city/o1").pending == 0)
        assert session.status().acked == 2


async def test_wrong_password_is_reported_and_nothing_is_acked(tmp_path: Path) -> None:
    async with rig(tmp_path, platform_pw="654321") as (_platform, manager, session, store):
        hours(manager, 1)
        manager.start()
        await until(lambda: "QnRtn=3" in (session.status().last_error or ""))
        status = session.status()
        assert "密码" in (status.last_error or "") and status.acked == 0
        assert store.backlog_stats("city/o1").pending == 1
        item = store.pending("city/o1")[0]
        assert item.attempts >= 1 and "QnRtn=3" in (item.last_error or "")


async def test_connection_dropped_mid_upload_is_resent(tmp_path: Path) -> None:
    async with rig(tmp_path, version=2025) as (platform, manager, session, store):
        await platform.set_fault("drop-next", True)
        hours(manager, 2)
        manager.start()
        await until(lambda: store.backlog_stats("city/o1").pending == 0)
        assert session.status().reconnects >= 1
        frames = platform.store.frames(mn=MN, cn="2061", direction="in")
        first = f"{T0:%Y%m%d%H%M%S}"
        resent = [f for f in frames if f.data_time == first]
        assert len(resent) == 2 and resent[1].rf  # dropped, then resent as 补传


async def test_platform_commands_reach_the_handler_and_unknown_ones_are_refused(tmp_path: Path) -> None:
    async with rig(tmp_path, handler=default_handler) as (platform, manager, _session, _store):
        manager.start()
        hours(manager, 1)
        await platform.wait_connected(MN)
        row = await platform.command(MN, "get-time", timeout=10)
        assert row.status == "done"
    async with rig(tmp_path / "bare", handler=None) as (platform, manager, _session, _store):
        manager.start()
        hours(manager, 1)
        await platform.wait_connected(MN)
        row = await platform.command(MN, "get-time", timeout=10)
        assert row.status == "refused" and row.qn_rtn == 2  # no command handler: 9011 QnRtn=2


async def test_window_keeps_several_packets_unanswered_in_flight(tmp_path: Path) -> None:
    async with rig(tmp_path, window=4, over_time=2) as (platform, manager, _session, store):
        await platform.set_fault("delay", 0.3)
        hours(manager, 8)
        manager.start()
        await until(lambda: store.backlog_stats("city/o1").pending == 0)
        rows = platform.store.frames(mn=MN)
        first_answer = min(f.id for f in rows if f.direction == "out" and f.cn == "9014")
        sent_before = [f for f in rows if f.direction == "in" and f.cn == "2061" and f.id < first_answer]
        assert len(sent_before) == 4  # four packets out before the first 9014 came back; never more


async def test_staged_stop_waits_for_in_flight_answers_then_leaves_the_rest_pending(tmp_path: Path) -> None:
    async with rig(tmp_path, over_time=5) as (platform, manager, session, store):
        await platform.set_fault("delay", 0.3)
        hours(manager, 3)
        manager.start()
        await platform.wait_frames(mn=MN, cn="2061", count=1)
        await manager.stop(budget=3)  # the answer in flight (0.3 s away) is still taken
        assert session.status().acked == 1 and session.status().state == "stopped"
        assert store.backlog_stats("city/o1").pending == 2
    async with rig(tmp_path / "again", over_time=5) as (platform, manager, session, store):
        await platform.set_fault("withhold", True)
        hours(manager, 1)
        manager.start()
        await platform.wait_frames(mn=MN, cn="2061", count=1)
        await manager.stop(budget=0.3)  # no answer within the budget: closed, the item stays pending
        assert session.status().acked == 0 and store.backlog_stats("city/o1").pending == 1
