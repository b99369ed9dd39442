"""The daemon's retained status on `<prefix>/<site>/status` through a real mosquitto (docs/mqtt.md "Status"):
set on start, again when a platform link goes up or down, every `status_every_s` without a change, and a last
`stopped` before `offline`; a late subscriber gets the latest at once."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from loopback import free_port
from paho.mqtt.enums import CallbackAPIVersion

from agent.daemon.clock import AgentClock
from agent.daemon.plan import OutletPlan, SitePlan
from agent.daemon.runner import _uplinks
from agent.daemon.site import Site
from agent.stats import FactorParams, OutletParams
from buffer import Store
from drivers.profiles import load_builtin
from drivers.profiles.config import DeviceConfig, DevicesConfig, TcpLinkConfig
from hil.platform import Platform, PlatformConfig
from uplink.mqtt import MqttSettings
from uplink.settings import PlatformSettings

START = datetime(2026, 1, 5, 8, 0, 0)
MN = "010000A8900016F000169DC0"
PARAMS = OutletParams(
    outlet="DA001", kind="gas", factors=(FactorParams(code="a21026", unit="mg/m3", convert_o2=False),)
)
TIMEOUT = 20.0  # s; the 2 cores are shared with other tests


class Subscriber:
    def __init__(self, port: int, topic: str, client_id: str) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
        self.client.on_message = lambda c, u, msg: self.messages.append((msg.topic, msg.payload, msg.retain))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def statuses(self) -> list[dict[str, Any]]:
        return [json.loads(p) for t, p, _ in list(self.messages) if t.endswith("/status")]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


async def until(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_status_on_start_on_link_changes_periodically_and_stopped_at_the_end(broker: int, tmp_path: Path) -> None:
    # no 1012 answer to the session's 1013: the test's agent clock stays where it started
    platform = Platform(PlatformConfig(poll_interval=0.05, sync_time_on_1013=False), tmp_path / "platform.sqlite")
    await platform.start()
    national = PlatformSettings(
        name="national", host="127.0.0.1", port=platform.port, mns={"DA001": MN}, backoff_min_s=0.1, backoff_max_s=0.3
    )
    cloud = MqttSettings(name="cloud", host="127.0.0.1", port=broker, site="plant", status_every_s=3.0)
    dead = free_port()  # nothing listens there: the analyzer never answers
    plan = SitePlan(
        name="test",
        store_path=tmp_path / "das.sqlite",
        devices=DevicesConfig(
            links={"gw": TcpLinkConfig(type="tcp", host="127.0.0.1", port=dead)},
            devices={"cems": DeviceConfig(profile="cems_sick_mcs100ft", link="gw", timeout=0.5, retries=0)},
        ),
        profiles={"cems": load_builtin("cems_sick_mcs100ft")},
        outlets=(OutletPlan(PARAMS, {("cems", "a21026"): "a21026"}),),
        platforms=(national,),
        mqtt=(cloud,),
        intervals={"cems": 1.0},
    )
    subscriber = Subscriber(broker, "das/plant/status", "status-sub")
    clock = AgentClock(start=START)
    try:
        with Store(plan.store_path, clock=clock.now) as store:
            site = Site(plan, store, clock, uplink_factory=_uplinks)
            await site.start()
            try:

                def platform_is(state: str) -> Callable[[], bool]:
                    return lambda: any(
                        s["platforms"].get("national/DA001", {}).get("state") == state for s in subscriber.statuses()
                    )

                await until(platform_is("up"), "a status with the platform up")
                await until(
                    lambda: any(s["devices"]["cems"]["state"] == "failing" for s in subscriber.statuses()),
                    "a status with the silent analyzer failing",
                )
                latest = subscriber.statuses()[-1]
                assert latest["site"] == "plant" and latest["time"].endswith("+08:00") and latest["state"] == "running"
                assert set(latest) == {
                    "site", "time", "state", "clock_speed", "devices", "outlets", "platforms", "mqtt", "pending"
                }  # fmt: skip
                up = latest["platforms"]["national/DA001"]
                assert up["connected"] is True and up["last_error"] is None
                assert latest["mqtt"] == {"cloud": {"connected": True, "backlog": 0, "last_error": None}}
                assert "DA001" in latest["outlets"]

                # no change for status_every_s: published again all the same (a consumer sees it is fresh)
                n = len(subscriber.statuses())
                t0 = time.monotonic()
                await until(lambda: len(subscriber.statuses()) > n, "a periodic status", 10)
                assert time.monotonic() - t0 >= 1.0  # not a burst: the next one waited for the interval

                await platform.stop()  # the platform goes away: a status saying so, without waiting 3 s
                await until(platform_is("down"), "a status with the platform down", 10)
            finally:
                await site.stop(budget_s=1.0)
        assert subscriber.statuses()[-1]["state"] == "stopped"
        late = Subscriber(broker, "das/plant/#", "status-late")
        await until(lambda: len(late.messages) >= 2, "the retained status and availability")
        retained = {t: (p, r) for t, p, r in late.messages}
        assert json.loads(retained["das/plant/status"][0])["state"] == "stopped"
        assert retained["das/plant/availability"] == (b"offline", True)
        late.close()
    finally:
        subscriber.close()
        await platform.stop()
