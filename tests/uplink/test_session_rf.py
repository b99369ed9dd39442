"""RF=1 (HJ 212-2025 §8 补传) only for data whose on-time upload failed (PlatformSession.is_resend), against the
reference platform over TCP: a fresh start that connects at once sends RF=0; data due during an outage longer
than OverTime × (1 + ReCount) go with RF=1 when the link is back."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from agent.model import RecordKind
from buffer import Store
from hil.platform import MnConfig, Platform, PlatformConfig
from uplink.clock import SimClock
from uplink.manager import UplinkManager
from uplink.settings import PlatformSettings
from uplink.testing import DECIMALS, GAS_FACTORS, rtd_record, window_record

MN = "010000A8900016F000169DC0"


def _stamp(t: datetime) -> str:
    return t.strftime("%Y%m%d%H%M%S")


async def _until(check: object, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():  # type: ignore[operator]
            await asyncio.sleep(0.05)


async def test_fresh_start_sends_rf0_and_outage_backlog_rf1(tmp_path: Path) -> None:
    clock = SimClock(datetime.now().replace(microsecond=0), speed=10)
    store = Store(tmp_path / "das.sqlite", clock=clock.now)
    cfg = PlatformConfig(mns=(MnConfig(mn=MN, version=2025, factors=GAS_FACTORS),), poll_interval=0.05)
    async with Platform(cfg, tmp_path / "p.sqlite") as platform:
        settings = PlatformSettings(
            name="p", host="127.0.0.1", port=platform.port, version=2025, mns={"o1": MN},
            over_time=1, re_count=1, backoff_min_s=1, backoff_max_s=2,
        )  # fmt: skip
        manager = UplinkManager(
            [settings], store, clock=clock, timer=clock.timer, handler=None, decimals={"o1": DECIMALS}
        )
        manager.start()
        try:
            # a fresh start: the record and the 2081 are enqueued before the first connect completes
            manager.put_record(rtd_record("o1", clock.now(), 1))
            manager.report_restart("o1", clock.now(), clock.now())
            await _until(lambda: {f.cn for f in platform.store.frames(mn=MN, direction="in")} >= {"2011", "2081"})
            first = platform.store.frames(mn=MN, direction="in")
            assert [(f.cn, f.rf) for f in first if f.cn in ("2011", "2081")] == [("2011", False), ("2081", False)]

            # an outage: the platform refuses connects for ~60 s of agent time (grace: 1 × (1 + 1) = 2 s)
            await platform.set_fault("refuse", True)
            platform.drop()
            await asyncio.sleep(0.5)
            outage_at = clock.now()
            manager.put_record(window_record("o1", RecordKind.MINUTE, outage_at, 2))
            await asyncio.sleep(6)
            await platform.set_fault("refuse", False)
            await _until(lambda: any(f.data_time == _stamp(outage_at) for f in platform.store.frames(mn=MN, cn="2051")))
            late = [
                f for f in platform.store.frames(mn=MN, cn="2051", direction="in") if f.data_time == _stamp(outage_at)
            ]
            assert late and all(f.rf for f in late)

            # live again: new data go on time, RF=0 (minute records: the RtdInterval spaces real-time ones)
            now = clock.now()
            manager.put_record(window_record("o1", RecordKind.MINUTE, now, 3))
            await _until(lambda: any(f.data_time == _stamp(now) for f in platform.store.frames(mn=MN, cn="2051")))
            fresh = [f for f in platform.store.frames(mn=MN, cn="2051", direction="in") if f.data_time == _stamp(now)]
            assert [f.rf for f in fresh] == [False]
        finally:
            await manager.stop()
    store.close()
