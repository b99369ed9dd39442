"""3019 on instrument replacement (HJ 212-2017 C.39, hj212.md §4/§8): a profile declares its serial-number
register (`[[info]] code = "SN"`); the daemon reads it with every poll, stores it in device info, and when a
simulated analyzer on Modbus TCP changes its SN a 3019 `PolId;<PolId>-SN` reaches the reference platform. The
first SN seen is only recorded; the platform's own 3019 request is answered with the current SN."""

from __future__ import annotations

import asyncio
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
from hil.platform import Platform, PlatformConfig
from hil.sim import SimBus, TcpSimServer
from hil.sim_profiles import ProfileSim
from uplink.hj212 import Cp
from uplink.settings import PlatformSettings

MN = "010000A8900016F000169DC0"
TIMEOUT = 20.0  # s; the 2 cores are shared with other tests
PROFILE = parse_profile(
    """
[device]
name = "cod_with_sn"
title = "测试 COD 分析仪 / test COD analyzer with a serial number"
vendor = "test"
model = "COD-SN"
kind = "water_analyzer"
protocol = "modbus"
source = "test profile (hil/tests/test_daemon_instrument_sn.py)"

[[points]]
name = "cod"
fc = 3
address = 0
type = "float32"
unit = "mg/L"
factor = "w01018"
range = [0, 500]

[[info]]
name = "serial"
code = "SN"
fc = 3
address = 100
type = "string"
count = 6
""",
    "cod_with_sn.toml",
)


def set_sn(sim: ProfileSim, text: str) -> None:
    """The analyzer's SN register: 12 ASCII characters, NUL-padded (as the driver strips them)."""
    raw = text.encode("ascii").ljust(12, b"\0")
    sim.device.set_registers(3, 100, [int.from_bytes(raw[k : k + 2], "big") for k in range(0, 12, 2)])


async def until(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_a_changed_serial_number_is_reported_with_3019(tmp_path: Path) -> None:
    sim = ProfileSim(PROFILE)
    set_sn(sim, "COD2024A0017")
    params = OutletParams(outlet="DW001", kind="water", factors=(FactorParams(code="w01018", unit="mg/L"),))
    config = PlatformConfig(poll_interval=0.05, sync_time_on_1013=False, command_timeout=8.0)
    async with TcpSimServer(SimBus([sim.device])) as server, Platform(config, tmp_path / "p.sqlite") as platform:
        national = PlatformSettings(name="national", host="127.0.0.1", port=platform.port, st="32", mns={"DW001": MN})
        plan = SitePlan(
            name="test",
            store_path=tmp_path / "das.sqlite",
            devices=DevicesConfig(
                links={"gw": TcpLinkConfig(type="tcp", host="127.0.0.1", port=server.port)},
                devices={"cod": DeviceConfig(profile="cod_with_sn", link="gw")},
            ),
            profiles={"cod": PROFILE},
            outlets=(OutletPlan(params, {("cod", "w01018"): "w01018"}),),
            platforms=(national,),
            intervals={"cod": 1.0},
        )
        clock = AgentClock(start=datetime.now().replace(microsecond=0))
        with Store(plan.store_path, clock=clock.now) as store:
            site = Site(plan, store, clock, uplink_factory=_uplinks)
            await site.start()
            try:
                await until(lambda: any(e.code == "SN" for e in store.latest_device_info("cod")), "the first SN")
                await platform.wait_connected(MN, timeout=TIMEOUT)
                await asyncio.sleep(2.5)  # two more polls with the same SN: nothing to report
                assert platform.store.frames(cn="3019") == []
                assert not any("SN-Info" in (f.cp_text or "") for f in platform.store.frames(cn="3020"))

                set_sn(sim, "COD2025B0042")  # the analyzer was replaced
                [report] = await platform.wait_frames(mn=MN, cn="3019", verdict="accepted", timeout=TIMEOUT)
                cp = Cp.parse(report.cp_text or "")
                assert (cp.get("PolId"), cp.get("w01018-SN")) == ("w01018", "COD2025B0042")
                assert cp.get("DataTime") is not None
                history = [e.value for e in store.device_info_history(datetime(2000, 1, 1), clock.now(), code="SN")]
                assert history == ["COD2024A0017", "COD2025B0042"]
                await asyncio.sleep(2.5)
                assert len(platform.store.frames(cn="3019", direction="in")) == 1  # once per change

                row = await platform.command(MN, "raw", {"cn": "3019", "cp": "PolId=w01018"})
                assert (row.status, row.exe_rtn) == ("done", 1)
                [answer] = platform.store.frames(command_id=row.id, cn="3019", direction="in")
                assert Cp.parse(answer.cp_text or "").get("w01018-SN") == "COD2025B0042"
            finally:
                await site.stop(budget_s=1.0)
