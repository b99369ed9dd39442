"""`das run` publishes to its `[mqtt.*]` targets: the site's uplinks start one `MqttPublisher` per target
(agent/daemon/runner.py), records and alarms the pipeline commits reach a real mosquitto broker, and kinds a
target does not carry are not enqueued for it (docs/mqtt.md)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from agent.daemon.clock import AgentClock
from agent.daemon.plan import OutletPlan, SitePlan
from agent.daemon.runner import _uplinks
from agent.daemon.site import Site
from agent.model import Reading, RecordKind
from agent.stats import FactorParams, OutletParams
from buffer import Store
from drivers.profiles.config import DevicesConfig
from uplink.mqtt import MqttSettings

START = datetime(2026, 1, 5, 8, 0, 0)
PARAMS = OutletParams(
    outlet="DA001", kind="gas", factors=(FactorParams(code="a21026", unit="mg/m3", convert_o2=False),)
)


class Subscriber:
    def __init__(self, port: int, topic: str) -> None:
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="daemon-test-sub")
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
        self.client.on_message = lambda c, u, msg: self.messages.append(
            (msg.topic, json.loads(msg.payload) if msg.payload.startswith(b"{") else {})
        )
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def topics(self) -> list[str]:
        return [t for t, _ in list(self.messages)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


async def until(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_daemon_publishes_committed_records_to_its_mqtt_target(broker: int, tmp_path: Path) -> None:
    settings = MqttSettings(
        name="cloud", host="127.0.0.1", port=broker, site="plant", kinds=frozenset({"minute", "alarm"}), poll_s=30.0
    )
    plan = SitePlan(
        name="test",
        store_path=tmp_path / "das.sqlite",
        devices=DevicesConfig(links={}, devices={}),
        profiles={},
        outlets=(OutletPlan(PARAMS, {("cems", "a21026"): "a21026"}),),
        mqtt=(settings,),
    )
    subscriber = Subscriber(broker, "das/plant/#")
    clock = AgentClock(start=START)
    with Store(plan.store_path, clock=clock.now) as store:
        site = Site(plan, store, clock, uplink_factory=_uplinks)
        await site.start()
        try:
            await until(lambda: site.uplinks.publishers[0].state.connected, "the publisher to connect")
            pipeline = site.pipelines["DA001"]
            readings = [
                Reading("cems", "a21026", START + timedelta(seconds=s), 30.0, "mg/m3", "N") for s in range(0, 180, 5)
            ]
            store.add_readings(readings)
            pipeline.add(readings)
            pipeline.tick(START + timedelta(minutes=3))
            # poll_s is 30 s: a message within the wait below was woken by the commit, not found by polling.
            await until(lambda: "das/plant/DA001/minute" in subscriber.topics(), "a minute record at the broker", 15)
            minutes = [body for topic, body in subscriber.messages if topic == "das/plant/DA001/minute"]
            assert minutes[0]["kind"] == "minute" and minutes[0]["factors"]["a21026"]["Avg"] == 30.0
            # rtd records were made too (RtdInterval 30 s) but this target does not carry them.
            assert store.records("DA001", RecordKind.RTD, START, START + timedelta(minutes=3))
            kinds = {r[0] for r in store.db.execute("SELECT kind FROM outbox WHERE target = 'mqtt:cloud'")}
            assert "minute" in kinds and kinds <= {"minute", "alarm"}
            assert "das/plant/DA001/rtd" not in subscriber.topics()
            await until(lambda: store.backlog_stats("mqtt:cloud").pending == 0, "every item PUBACKed")
        finally:
            await site.stop(budget_s=3.0)
            subscriber.close()
