"""DAS clock drift (regs.md §1, docs/statistics.md): the session asks the platform for the time (1013) on each
connection and whenever the clock may have drifted past `clock_drift_limit_s`; the reference platform
(hil/platform) answers 9013 and then sets the clock with a 1012; a step beyond the outlet's
`alarms.clock_drift_s` is a stored clock_drift alarm. Real TCP, the daemon's AgentClock and alarm book.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from agent.daemon.clock import AgentClock
from agent.daemon.clockdrift import ClockDriftAlarms, enable_time_sync
from agent.daemon.pipeline import AlarmBook, OutletPipeline, Routing
from agent.stats import FactorParams, OutletParams
from buffer import Store
from hil.platform import MnConfig, Platform, PlatformConfig
from uplink.commands import CommandHandler
from uplink.manager import UplinkManager
from uplink.services import Services
from uplink.settings import PlatformSettings

MN = "010000A8900016F000169DC0"
TIMEOUT = 20.0  # s; answers come within milliseconds on loopback, but other work may load the 2 cores
PARAMS = OutletParams(outlet="DA001", kind="gas", factors=(FactorParams(code="a21026", unit="mg/m3"),))


@dataclass
class Das:
    clock: AgentClock
    store: Store
    manager: UplinkManager


@asynccontextmanager
async def das(tmp_path: Path, port: int, slow_s: float, **settings: object) -> AsyncIterator[Das]:
    """The daemon's parts for one outlet: its clock `slow_s` behind the platform's, the alarm listener as
    `das run` registers it, and the platform session."""
    clock = AgentClock(start=datetime.now() - timedelta(seconds=slow_s))
    platform = PlatformSettings(
        name="national",
        host="127.0.0.1",
        port=port,
        mns={"DA001": MN},
        **({"over_time": 8.0, "re_count": 1, "backoff_min_s": 0.1, "backoff_max_s": 0.5} | settings),  # type: ignore[arg-type]
    )
    store = Store(tmp_path / "das.sqlite", clock=clock.now)
    routing = Routing([platform], store=store)
    pipeline = OutletPipeline(PARAMS, {("cems", "a21026"): "a21026"}, store, routing, AlarmBook(store, routing))
    drift = ClockDriftAlarms({"DA001": pipeline})
    clock.add_listener(drift)
    manager = UplinkManager(
        [platform], store, clock=clock, services=Services(clock=clock), handler=CommandHandler(), idle_poll_s=0.2
    )
    routing.attach(manager)
    enable_time_sync(manager.sessions.values(), clock.speed)  # as `das run` does (agent/daemon/runner.py)
    manager.start()
    try:
        yield Das(clock, store, manager)
    finally:
        await manager.stop(1.0)
        clock.remove_listener(drift)
        store.close()


@asynccontextmanager
async def reference_platform(tmp_path: Path) -> AsyncIterator[Platform]:
    config = PlatformConfig(mns=(MnConfig(mn=MN),), poll_interval=0.05, command_timeout=8.0)
    async with Platform(config, tmp_path / "platform.sqlite") as server:
        yield server


async def test_1013_on_connect_and_a_1012_beyond_the_limit_is_a_stored_clock_drift_alarm(tmp_path: Path) -> None:
    async with reference_platform(tmp_path) as platform, das(tmp_path, platform.port, slow_s=120) as d:
        await platform.wait_frames(mn=MN, cn="1013", count=1, timeout=TIMEOUT)  # asked at once on connecting
        await platform.wait_frames(mn=MN, cn="9012", count=1, timeout=TIMEOUT)  # the 1012 that followed, done
        assert abs((d.clock.now() - datetime.now()).total_seconds()) < 5  # set to the platform's time
        [alarm] = [s.alarm for s in d.store.alarms(datetime(2000, 1, 1), datetime(2100, 1, 1), kind="clock_drift")]
        assert alarm.outlet == "DA001" and alarm.end == alarm.start
        assert alarm.start < datetime.now() - timedelta(seconds=100)  # stamped with the DAS time before the set
        assert alarm.detail.startswith("时钟偏差 / DAS clock drift: -1")  # about -120 s: the DAS was behind
        assert "national/DA001 CN 1012" in alarm.detail and "30 s" in alarm.detail
        assert d.manager.sessions["national/DA001"].time_sync_period() == 30 / 0.5e-3  # 16 h 40 min (HJ 477)


async def test_1013_again_after_the_drift_budget_and_after_a_reconnect_small_steps_raise_nothing(
    tmp_path: Path,
) -> None:
    """clock_drift_limit_s = 0.0005 s: at 0.5 ‰ that budget is spent in 1 s, so the session asks every second.
    The DAS is 10 s behind: the first 1012 moves it by 10 s, under the outlet's 30 s, so no alarm."""
    async with (
        reference_platform(tmp_path) as platform,
        das(tmp_path, platform.port, slow_s=10, clock_drift_limit_s=0.0005) as d,
    ):
        session = d.manager.sessions["national/DA001"]
        assert session.time_sync_period() == 1.0
        await platform.wait_frames(mn=MN, cn="1013", count=3, timeout=TIMEOUT)
        await platform.wait_frames(mn=MN, cn="1012", direction="out", count=2, timeout=TIMEOUT)  # 9013, then 1012
        before = len(platform.store.frames(mn=MN, cn="1013"))
        assert platform.drop(MN) == 1
        await platform.wait_frames(mn=MN, cn="1013", count=before + 1, timeout=TIMEOUT)  # asked again on reconnect
        assert session.status().reconnects >= 1
        assert abs((d.clock.now() - datetime.now()).total_seconds()) < 5
        assert d.store.alarms(datetime(2000, 1, 1), datetime(2100, 1, 1), kind="clock_drift") == []


def test_no_time_requests_under_an_accelerated_clock(tmp_path: Path) -> None:
    """A demo or test at 480x: 10 ms on the wire would be a 5 s error in every 1012; the simulated time is not
    Beijing time either. The sessions do not ask."""
    with Store(tmp_path / "das.sqlite") as store:
        manager = UplinkManager(
            [PlatformSettings(name="national", host="127.0.0.1", port=9, mns={"DA001": MN})],
            store,
            clock=AgentClock(speed=480),
        )
        enable_time_sync(manager.sessions.values(), 480.0)
        assert [s.time_sync for s in manager.sessions.values()] == [False]
        enable_time_sync(manager.sessions.values(), 1.0)
        assert [s.time_sync for s in manager.sessions.values()] == [True]
