"""3020 on change (HJ 212-2017 C.40): an analyzer's i12xxx/i13xxx value that differs from the stored history is
stored and enqueued as a 3020 for the outlet's platforms in the poll's transaction, once per change, also across a
restart (agent/daemon/acquisition.py, pipeline.py; uplink/manager.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from agent.daemon.acquisition import Acquisition
from agent.daemon.clock import AgentClock
from agent.daemon.pipeline import AlarmBook, OutletPipeline, Routing
from agent.stats import EquipmentParams, FactorParams, OutletParams
from buffer import Store
from drivers.reader import PointReading
from uplink.manager import UplinkManager
from uplink.settings import PlatformSettings, UploadKinds

T0 = datetime(2026, 1, 5, 8, 0, 0)
PARAMS = OutletParams(
    outlet="DW001",
    kind="water",
    factors=(FactorParams(code="w01018", unit="mg/L"),),
    equipment=(EquipmentParams(code="SB1", name="pump", role="treatment", source="SB1"),),
)
FEEDS = {("cod", "w01018"): "w01018", ("meter", "SB1"): "SB1"}


class Device:
    """What one poll of a profiled device returns (drivers.reader.ProfiledDevice.read): points sharing `info`."""

    def __init__(self, name: str, factor: str, info: dict[str, float | int | str]) -> None:
        self.name, self.factor, self.info = name, factor, info

    async def read(self) -> list[PointReading]:
        return [PointReading(self.name, "v", "value", self.factor, 20.0, "mg/L", "N", info=dict(self.info))]


def setup(store: Store, clock: AgentClock, devices: dict[str, Device]) -> Acquisition:
    national = PlatformSettings(name="national", host="127.0.0.1", port=9, st="32", mns={"DW001": "MN1"})
    quiet = PlatformSettings(
        name="quiet", host="127.0.0.1", port=9, st="32", mns={"DW001": "MN2"}, upload=UploadKinds(site_info=False)
    )
    routing = Routing([national, quiet], store=store)
    routing.attach(UplinkManager([national, quiet], store, clock=clock))
    pipeline = OutletPipeline(PARAMS, FEEDS, store, routing, AlarmBook(store, routing))
    return Acquisition(devices, store, clock, intervals=dict.fromkeys(devices, 60.0), consumers=[pipeline])


def site_info_items(store: Store, target: str) -> list[str]:
    return [i.payload or "" for i in store.pending(target, 100) if i.kind == "3020"]


async def test_a_changed_parameter_is_stored_and_enqueued_once(tmp_path: Path) -> None:
    clock = AgentClock(start=T0)
    cod = Device("cod", "w01018", {"i12001": 0, "i13004": 168.0})
    meter = Device("meter", "SB1", {"i12002": 0})
    with Store(tmp_path / "das.sqlite", clock=clock.now) as store:
        acquisition = setup(store, clock, {"cod": cod, "meter": meter})
        await acquisition.poll_once("cod")
        await acquisition.poll_once("meter")
        [first] = site_info_items(store, "national/DW001")
        assert "PolId=w01018" in first and "i12001-Info=0" in first and "i13004-Info=168" in first
        assert site_info_items(store, "quiet/DW001") == []  # upload.site_info off: nothing left pending forever
        assert {e.code for e in store.latest_device_info("meter")} == {"i12002"}  # stored, but no 3020: no factor

        await acquisition.poll_once("cod")  # unchanged: nothing new
        assert len(site_info_items(store, "national/DW001")) == 1

        cod.info["i13004"] = 170.0
        await acquisition.poll_once("cod")
        changed = site_info_items(store, "national/DW001")[1]
        assert "i13004-Info=170" in changed and "i12001" not in changed
        assert [e.value for e in store.device_info_history(T0, T0 + timedelta(days=1), code="i13004")] == [168.0, 170.0]

        # A restart starts with an empty memory: the store's history decides what changed.
        restarted = setup(store, clock, {"cod": cod, "meter": meter})
        await restarted.poll_once("cod")
        assert len(site_info_items(store, "national/DW001")) == 2
