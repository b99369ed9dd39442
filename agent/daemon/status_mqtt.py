"""The daemon's retained MQTT status (`<prefix>/<site>/status`, docs/mqtt.md "Status").

A plant's SCADA or dashboard subscribes once and must see at once whether the DAS runs, which analyzers answer
and whether the regulators' platforms are reachable. So the status is set on start, whenever a device starts or
stops answering or a platform or broker link goes up or down, and at least every `status_every_s` (so a
consumer can tell a stale status from a quiet site); the publisher keeps only the latest and sends it again on
every connect. What is sent is `Site.status()` trimmed to the documented shape (`status_fields`): the full
snapshot (with every device value) stays in `status.json` beside the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from agent.logs import event, get_logger
from drivers.clock import Clock

__all__ = ["StatusBroadcast", "status_fields"]

log = get_logger("status")


def _time(value: object) -> str | None:
    """Snapshot times are agent-clock text `YYYY-MM-DD HH:MM:SS[.ffffff]`; sent as ISO 8601 without a zone."""
    return None if value is None else str(value).replace(" ", "T", 1)


def status_fields(snapshot: Mapping[str, Any], state: str = "running") -> dict[str, Any]:
    """`Site.status()` trimmed to the documented status fields (docs/mqtt.md); `site` and `time` are added by
    the publisher."""
    backlog: Mapping[str, Mapping[str, Any]] = snapshot.get("backlog") or {}
    devices = {
        d["name"]: {
            "state": d.get("state"),
            "last_ok": _time(d.get("last_ok")),
            "failures": d.get("failures", 0),
            "last_error": d.get("last_error"),
        }
        for d in snapshot.get("devices") or ()
    }
    outlets = {
        o["outlet"]: {kind: _time(t) for kind, t in sorted((o.get("latest") or {}).items())}
        for o in snapshot.get("outlets") or ()
    }
    platforms: dict[str, Any] = {}
    mqtt: dict[str, Any] = {}
    for row in snapshot.get("uplinks") or ():
        target = str(row.get("target"))
        if "platform" in row:  # an HJ 212 session (uplink.session.SessionStatus)
            platforms[target] = {
                "state": row.get("state"),
                "connected": row.get("connected"),
                "since": _time(row.get("since")),
                "last_ack": _time(row.get("last_ack")),
                "backlog": row.get("backlog", 0),
                "oldest_pending": _time(row.get("oldest_data_time")),
                "last_error": row.get("last_error"),
            }
        else:  # an MQTT publisher (uplink.mqtt.PublisherState)
            mqtt[target.removeprefix("mqtt:")] = {
                "connected": row.get("connected"),
                "backlog": (backlog.get(target) or {}).get("pending", 0),
                "last_error": row.get("last_error"),
            }
    return {
        "state": state,
        "clock_speed": snapshot.get("speed"),
        "devices": devices,
        "outlets": outlets,
        "platforms": platforms,
        "mqtt": mqtt,
        "pending": sum(int((b or {}).get("pending", 0)) for b in backlog.values()),
    }


class StatusBroadcast:
    """Sets the publishers' retained status on start, on a change of link states, and every `status_every_s`.

    `site` is the running `agent.daemon.site.Site`; `timer` the real monotonic clock (a broker is physical, and
    "every five minutes" is wall time also under `--clock-speed`). Changes are looked for every `check_s`.
    """

    def __init__(self, site: Any, publishers: Sequence[Any], timer: Clock, *, check_s: float = 1.0) -> None:
        self.site = site
        self.publishers = list(publishers)
        self.timer = timer
        self.check_s = check_s
        self._last: Hashable = None
        self._sent_at: dict[int, float] = {}
        self._task: asyncio.Task[None] | None = None

    def signature(self) -> Hashable:
        """What a change is: a device's state, a platform session's state or connection, a broker connection."""
        site = self.site
        acquisition = site.acquisition
        devices = tuple(
            (name, "never" if s.last_poll is None else ("failing" if s.last_error else "ok"))
            for name, s in (acquisition.state.items() if acquisition is not None else ())
        )
        manager = getattr(site.uplinks, "manager", None)
        sessions = tuple(
            (target, s.link_state, s.connected) for target, s in (manager.sessions.items() if manager else ())
        )
        brokers = tuple(p.state.connected for p in self.publishers)
        return devices, sessions, brokers

    def publish(self, state: str = "running") -> None:
        """Set the status on every publisher now (sent at once if connected, else on the next connect)."""
        fields = status_fields(self.site.status(), state)
        now = self.timer.now()
        for publisher in self.publishers:
            publisher.publish_status(fields)
            self._sent_at[id(publisher)] = now

    def step(self) -> bool:
        """One look: publish when the signature changed or a publisher's interval is over. True if published."""
        signature = self.signature()
        now = self.timer.now()
        due = any(
            p.settings.status_every_s > 0 and now - self._sent_at.get(id(p), -1e18) >= p.settings.status_every_s
            for p in self.publishers
        )
        if signature == self._last and not due:
            return False
        self._last = signature
        self.publish()
        return True

    async def run(self) -> None:
        while True:
            try:
                self.step()
            except Exception as err:  # a status must never stop the agent
                event(log, logging.WARNING, "mqtt_status_failed", error=err)
            await self.timer.sleep(self.check_s)

    def start(self) -> None:
        if self.publishers and self._task is None:
            self._task = asyncio.create_task(self.run(), name="mqtt-status")

    async def stop(self) -> None:
        """End the loop and set a last status `stopped` (the publishers send it before their `offline`)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            with contextlib.suppress(Exception):
                self.publish("stopped")
