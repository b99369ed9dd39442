"""Platform commands carried out on a simulated analyzer by `das run`'s Site (docs/commands.md, 3011/3012/3021/
3024; HJ 212-2025): the reference platform sends them over TCP, the Site writes the registers its profile declares
through the Modbus TCP link owner, the simulator (a real TCP server) records each write and starts the operation;
a write the profile does not declare is refused with ExeRtn 3; a finished standard check reaches the platform as
a 2062."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from agent.daemon.clock import AgentClock
from agent.daemon.plan import OutletPlan, SitePlan
from agent.daemon.runner import _uplinks
from agent.daemon.site import Site
from agent.stats import FactorParams, OutletParams
from buffer import Store
from drivers.profiles import parse_profile
from drivers.profiles.config import DeviceConfig, DevicesConfig, TcpLinkConfig
from hil.platform import MnConfig, Platform, PlatformConfig
from hil.sim import SimBus, TcpSimServer
from hil.sim_profiles import ProfileSim
from uplink.hj212 import Cp
from uplink.settings import PlatformSettings

MN = "010000A8900016F000169DC0"
TIMEOUT = 20.0  # s; the 2 cores are shared with other tests
# A test analyzer: devices.md gives no vendor's command registers, so these addresses are the test's own.
PROFILE = parse_profile(
    """
[device]
name = "cod_with_commands"
title = "测试 COD 分析仪 / test COD analyzer with command registers"
vendor = "test"
model = "COD-CMD"
kind = "water_analyzer"
protocol = "modbus"
source = "test profile (hil/tests/test_daemon_commands.py)"

[[points]]
name = "cod"
fc = 3
address = 0
type = "float32"
unit = "mg/L"
factor = "w01018"
range = [0, 500]

[[commands]]
kind = "zero_calibration"
fc = 6
address = 0x3000
value = 1

[[commands]]
kind = "span_calibration"
fc = 6
address = 0x3000
value = 2

[[commands]]
kind = "measure_now"
fc = 16
address = 0x3001
value = [3, 1]

[[commands]]
kind = "standard_check"
fc = 6
address = 0x3000
value = 4

[[info]]
name = "digest_temp"
code = "i13004"
fc = 3
address = 0x1000
type = "uint16"
writable = true
range = [100, 200]

[[info]]
name = "slope"
code = "i13008"
fc = 3
address = 0x1009
type = "float32"

[[info]]
name = "check_conc"
code = "i13130"
fc = 3
address = 0x1305
type = "float32"

[[info]]
name = "check_deviation"
code = "i13129"
fc = 3
address = 0x1309
type = "float32"

[[info]]
name = "check_time"
code = "i13128"
fc = 3
address = 0x130C
type = "bcd_datetime"

[standard_check]
time = "i13128"
measured = "i13130"
deviation = "i13129"
limit = 10
""",
    "cod_with_commands.toml",
)


async def until(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_platform_commands_reach_the_analyzer_and_a_standard_check_comes_back_as_2062(tmp_path: Path) -> None:
    sim = ProfileSim(PROFILE, speed=60, command_duration=120)  # a 2-minute check lasts 2 real seconds
    params = OutletParams(outlet="DW001", kind="water", factors=(FactorParams(code="w01018", unit="mg/L"),))
    config = PlatformConfig(
        mns=(MnConfig(mn=MN, version=2025),), poll_interval=0.05, sync_time_on_1013=False, command_timeout=8.0
    )
    async with TcpSimServer(SimBus([sim.device])) as server, Platform(config, tmp_path / "p.sqlite") as platform:
        national = PlatformSettings(
            name="national", host="127.0.0.1", port=platform.port, st="32", mns={"DW001": MN}, version=2025
        )
        plan = SitePlan(
            name="test",
            store_path=tmp_path / "das.sqlite",
            devices=DevicesConfig(
                links={"gw": TcpLinkConfig(type="tcp", host="127.0.0.1", port=server.port)},
                devices={"cod": DeviceConfig(profile="cod_with_commands", link="gw")},
            ),
            profiles={"cod": PROFILE},
            outlets=(OutletPlan(params, {("cod", "w01018"): "w01018"}),),
            platforms=(national,),
            intervals={"cod": 1.0},
        )
        clock = AgentClock(start=datetime.now().replace(microsecond=0))
        ticking = asyncio.create_task(sim.run(0.1))
        with Store(plan.store_path, clock=clock.now) as store:
            site = Site(plan, store, clock, uplink_factory=_uplinks)
            await site.start()
            try:
                await platform.wait_connected(MN, timeout=TIMEOUT)

                async def command(cn: str, cp: str) -> int | None:
                    row = await platform.command(MN, "raw", {"cn": cn, "cp": cp}, timeout=TIMEOUT)
                    [ack] = platform.store.frames(command_id=row.id, cn="9011", direction="in")
                    assert Cp.parse(ack.cp_text or "").get("QnRtn") == "1"
                    return row.exe_rtn

                # 3021 on a writable parameter: the register is written through the link owner
                assert await command("3021", "PolId=w01018;InfoId=i13004;i13004-Info=180") == 1
                assert (6, 0x1000, [180]) in sim.device.writes
                assert sim.device.tables[3][0x1000] == 180
                await until(lambda: site.acquisition.state["cod"].info.get("i13004") == 180, "the new value read")
                writes = len(sim.device.writes)
                # refused: not writable, out of the profile's range, not a number; nothing reaches the analyzer
                assert await command("3021", "PolId=w01018;InfoId=i13008;i13008-Info=1.1") == 3
                assert await command("3021", "PolId=w01018;InfoId=i13004;i13004-Info=250") == 3
                assert await command("3021", "PolId=w02006;InfoId=i13004;i13004-Info=150") == 3  # no such factor
                assert len(sim.device.writes) == writes

                assert await command("3011", "PolId=w01018;CalibrationType=0") == 1
                assert await command("3011", "PolId=w01018;CalibrationType=1") == 1
                assert await command("3011", "PolId=w01018") == 3  # the profile has no untyped calibration
                assert await command("3012", "PolId=w01018") == 1
                assert (16, 0x3001, [3, 1]) in sim.device.writes
                assert [kind for kind, _ in sim.commands] == ["zero_calibration", "span_calibration", "measure_now"]
                assert await command("3022", "PolId=w01018") == 3  # 3022 → no sample-retain command here

                await until(lambda: sim.mode != "calibration", "the calibration to end")
                assert platform.store.frames(cn="2062") == []
                assert await command("3024", "PolId=w01018") == 1
                assert sim.commands[-1][0] == "standard_check"
                [report] = await platform.wait_frames(mn=MN, cn="2062", verdict="accepted", timeout=TIMEOUT)
                cp = Cp.parse(report.cp_text or "")
                measured = sim.device.tables[3][0x1305 : 0x1305 + 2]
                assert measured.tolist() != [0, 0]
                sample = float(cp.get("w01018-SampleRd") or "nan")
                standard = float(cp.get("w01018-StandardValue") or "nan")
                assert 200 < sample < 300 and abs(standard - 250) < 0.1  # the sim's standard: half of 500
                assert cp.get("w01018-ResultType") == "1"
                stamp = next(e.value for e in store.latest_device_info("cod") if e.code == "i13128")
                assert cp.get("DataTime") == stamp
                await asyncio.sleep(2.5)  # further polls see the same check time: no second 2062
                assert len(platform.store.frames(cn="2062", direction="in")) == 1

                # 2062 history: the same result again, rebuilt from the stored info (HJ 212-2025 §5)
                day = f"BeginTime={stamp[:8]}000000;EndTime={stamp[:8]}235959"
                assert await command("2062", day) == 1
                fetched = [f for f in platform.store.frames(cn="2062", direction="in") if f.id != report.id]
                assert [(f.cp_text, f.pnum, f.pno) for f in fetched] == [(report.cp_text, 1, 1)]
                assert await command("2062", "BeginTime=20000101000000;EndTime=20000101235959") == 100
            finally:
                await site.stop(budget_s=1.0)
                ticking.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ticking
