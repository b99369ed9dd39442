"""One running site: link owners, poll loops, statistics per outlet and uplinks, under one supervisor.

`start()` resumes every outlet from the store before the first poll, then starts the named tasks; `stop()` is
the staged shutdown of style.md §5.2: stop polling → close the statistics windows that are complete → give the
uplinks a budget to take in-flight acknowledgements → close the links. The store belongs to the caller (the
runner), which opened it first and closes it last; a reload (SIGHUP) stops one `Site` and starts the next on the
same store.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from agent.daemon.acquisition import Acquisition
from agent.daemon.clock import AgentClock
from agent.daemon.devicecontrol import SiteDeviceControl
from agent.daemon.pipeline import AlarmBook, OutletPipeline, Routing, sn_text
from agent.daemon.plan import SitePlan, poll_intervals
from agent.daemon.supervisor import Supervisor
from agent.logs import event, get_logger
from agent.model import Record, RecordKind
from buffer import Store
from drivers.link import LinkRegistry
from drivers.profiles.schema import SERIAL_NUMBER
from drivers.reader import ProfiledDevice, build_devices

__all__ = ["Site", "SiteServices"]

log = get_logger("site")


class SiteServices:
    """`uplink.services` LiveValues and DeviceControl on top of the running site."""

    def __init__(self, site: Site) -> None:
        self._site = site
        self._control = SiteDeviceControl(lambda: site.devices, self._routes)

    def _routes(self, outlet: str) -> list[tuple[str, str]]:
        """(device, factor code) of each feed of the outlet: which analyzer measures which PolId."""
        pipeline = self._site.pipelines.get(outlet)
        return [] if pipeline is None else [(device, code) for (device, _), code in pipeline.feeds.items()]

    def latest_rtd(self, outlet: str) -> Record | None:
        pipeline = self._site.pipelines.get(outlet)
        return None if pipeline is None else pipeline.latest.get(RecordKind.RTD)

    def latest_state(self, outlet: str) -> Record | None:
        pipeline = self._site.pipelines.get(outlet)
        return None if pipeline is None else pipeline.latest.get(RecordKind.STATE)

    def _devices_for(self, outlet: str, pol_id: str | None) -> list[str]:
        pipeline = self._site.pipelines.get(outlet)
        if pipeline is None:
            return []
        return list(dict.fromkeys(device for (device, _), code in pipeline.feeds.items() if pol_id in (None, "", code)))

    async def serial_numbers(self, outlet: str) -> Mapping[str, str] | None:
        """3019: the SN each analyzer reported (info code `SN` or i13xxx SN items), by factor."""
        pipeline = self._site.pipelines.get(outlet)
        acquisition = self._site.acquisition
        if pipeline is None or acquisition is None:
            return None
        out: dict[str, str] = {}
        for (device, _), code in pipeline.feeds.items():
            sn = acquisition.state[device].info.get(SERIAL_NUMBER) if device in acquisition.state else None
            if sn is not None and sn_text(sn):
                out[code] = sn_text(sn)
        return out or None

    async def info(self, outlet: str, pol_id: str | None, info_ids: Sequence[str]) -> Mapping[str, str | float] | None:
        """3020: the newest i1xxxx values the analyzer behind `pol_id` reported (from its last poll)."""
        acquisition = self._site.acquisition
        if acquisition is None:
            return None
        out: dict[str, str | float] = {}
        for device in self._devices_for(outlet, pol_id):
            state = acquisition.state.get(device)
            if state is None:
                continue
            for code, value in state.info.items():
                if (not info_ids or code in info_ids) and isinstance(value, int | float | str):
                    out[code] = value
        return out or None

    def standard_checks(self, outlet: str) -> list[tuple[str, Any, list[str]]]:
        """2062 history: (device, its profile's `[standard_check]`, the outlet factors it measures), as the upload
        on a new check (OutletPipeline.info_changed) picks them."""
        pipeline = self._site.pipelines.get(outlet)
        if pipeline is None:
            return []
        measured = {f.code for f in pipeline.params.factors}
        out = []
        for device, spec in pipeline.standard_checks.items():  # every profile's: keep the outlet's measuring ones
            pol_ids = sorted({c for (d, _), c in pipeline.feeds.items() if d == device and c in measured})
            if pol_ids:
                out.append((device, spec, pol_ids))
        return out

    # Writes to analyzers (3021, 3011, 3012, 3022, 3024): as the device's profile allows (agent.daemon.devicecontrol).
    async def set_param(self, outlet: str, pol_id: str | None, info_id: str, value: str) -> bool | None:
        return await self._control.set_param(outlet, pol_id, info_id, value)

    async def calibrate(self, outlet: str, pol_id: str, kind: int | None) -> bool | None:
        return await self._control.calibrate(outlet, pol_id, kind)

    async def sample_now(self, outlet: str, pol_id: str) -> bool | None:
        return await self._control.sample_now(outlet, pol_id)

    async def sample_retain(self, outlet: str, pol_id: str) -> bool | None:
        return await self._control.sample_retain(outlet, pol_id)

    async def standard_check(self, outlet: str, pol_id: str) -> bool | None:
        return await self._control.standard_check(outlet, pol_id)


class Site:
    def __init__(
        self,
        plan: SitePlan,
        store: Store,
        clock: AgentClock,
        *,
        on_ready: Callable[[], None] | None = None,
        uplink_factory: Callable[[Site], Any] | None = None,
    ) -> None:
        self.plan = plan
        self.store = store
        self.clock = clock
        self.supervisor = Supervisor()
        # Wire time is physical: link timeouts and pacing run on the real monotonic clock at any clock speed.
        self.registry = LinkRegistry(clock.real_timer)
        self.devices: dict[str, ProfiledDevice] = {}
        self.pipelines: dict[str, OutletPipeline] = {}
        self.acquisition: Acquisition | None = None
        self.routing = Routing(plan.platforms, plan.mqtt, store=store)
        self.alarms = AlarmBook(store, self.routing)
        self.services = SiteServices(self)
        self.uplinks: Any = None
        self._uplink_factory = uplink_factory
        self._on_ready = on_ready
        self.started_at: float | None = None
        self.first_poll_s: float | None = None
        # Under an accelerated clock a window waits at least one real second for readings in flight.
        self.close_delay_s = max(plan.close_delay_s, clock.speed * 1.0)
        self.tick_s = max(1.0, clock.speed * 0.25)

    # -- lifecycle -------------------------------------------------------------------------------------------
    async def start(self) -> None:
        self.started_at = time.monotonic()
        plan = self.plan
        self.devices = build_devices(plan.devices, plan.profiles, self.registry)
        links = {name: plan.devices.devices[name].link for name in self.devices}
        now = self.clock.now()
        self.alarms.load()
        for outlet in plan.outlets:
            pipeline = OutletPipeline(
                outlet.params,
                outlet.feeds,
                self.store,
                self.routing,
                self.alarms,
                close_delay_s=self.close_delay_s,
                power=outlet.power,  # ST=44 用电监控 records (agent/daemon/power.py)
            )
            pipeline.standard_checks = {
                name: profile.standard_check
                for name, profile in plan.profiles.items()
                if profile.standard_check is not None
            }
            pipeline.resume(now)
            self.pipelines[outlet.name] = pipeline
        intervals = {**poll_intervals(self.devices, plan.outlets), **plan.intervals}
        self.acquisition = Acquisition(
            self.devices,
            self.store,
            self.clock,
            intervals=intervals,
            links=links,
            consumers=list(self.pipelines.values()),
            point_codes=plan.point_codes,
            on_first_cycle=self._first_cycle,
        )
        if self._uplink_factory is not None:
            self.uplinks = self._uplink_factory(self)
            if self.uplinks is not None:
                await self.uplinks.start()
        for name in self.devices:
            self.supervisor.start(f"poll:{name}", lambda name=name: self.acquisition.poll_loop(name), group="poll")
        for name, pipeline in self.pipelines.items():
            self.supervisor.start(f"stats:{name}", lambda p=pipeline: self._tick_loop(p), group="stats")
        self.supervisor.start("prune", self._prune_loop, group="housekeeping")
        event(
            log,
            logging.INFO,
            "site_started",
            "站点已启动 / site started",
            site=plan.name,
            devices=len(self.devices),
            outlets=len(self.pipelines),
            platforms=len({p.name for p in plan.platforms}),
            mqtt=len(plan.mqtt),
            clock=self.clock.now().isoformat(sep=" ", timespec="seconds"),
            speed=self.clock.speed,
        )

    def _first_cycle(self) -> None:
        if self.started_at is not None:
            self.first_poll_s = time.monotonic() - self.started_at
        event(log, logging.INFO, "first_poll_cycle", "首轮采集完成 / first poll cycle done", seconds=self.first_poll_s)
        if self._on_ready is not None:
            self._on_ready()

    async def _tick_loop(self, pipeline: OutletPipeline) -> None:
        while True:
            pipeline.tick(self._horizon(pipeline))
            await self.clock.sleep(self.tick_s)

    def _horizon(self, pipeline: OutletPipeline) -> datetime:
        """How far the outlet's windows may close: now, held back while a poll of one of its devices is still
        reading. Readings carry their poll's start time; a poll slower than `close_delay` (timeouts, a device
        failing mid-poll) would otherwise have them dropped as late while the store keeps them, and the records
        would differ from what `das recompute` makes of the stored readings."""
        now = self.clock.now()
        oldest = self.acquisition.oldest_in_flight(pipeline.devices) if self.acquisition is not None else None
        if oldest is None:
            return now
        return min(now, oldest + timedelta(seconds=self.close_delay_s))

    async def _prune_loop(self) -> None:
        """Retention once an hour of agent time (at least a real minute apart)."""
        while True:
            await self.clock.sleep(max(3600.0, self.clock.speed * 60.0))
            report = self.store.prune(self.clock.now())
            event(log, logging.DEBUG, "pruned", report=report)

    async def stop(self, *, budget_s: float = 10.0) -> None:
        """Staged shutdown; unacknowledged outbox items stay pending for the next start."""
        if self.acquisition is not None:
            self.acquisition.stopping = True
        await self.supervisor.stop_group("poll", budget_s=min(3.0, budget_s))
        await self.supervisor.stop_group("stats", budget_s=1.0)
        now = self.clock.now()
        flushed = 0
        for pipeline in self.pipelines.values():
            try:
                flushed += pipeline.flush(now)
            except Exception as err:  # the store keeps the readings: the next start recomputes the windows
                event(log, logging.ERROR, "flush_failed", outlet=pipeline.outlet, error=err)
        if self.uplinks is not None:
            await self.uplinks.stop(budget_s)
        await self.supervisor.stop(budget_s=1.0)
        await self.registry.close()
        event(log, logging.INFO, "site_stopped", "站点已停止 / site stopped", records_flushed=flushed)

    # -- status hook -------------------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """A snapshot for `das monitor` and the status page: devices, outlets, uplinks with their backlog."""
        uplinks: list[dict[str, Any]] = []
        if self.uplinks is not None and hasattr(self.uplinks, "status"):
            uplinks = list(self.uplinks.status())
        targets = set(self.store.outbox_targets())
        backlog = {}
        for target in sorted(targets):
            stats = self.store.backlog_stats(target, self.clock.now())
            backlog[target] = _plain(stats)
        return {
            "site": self.plan.name,
            "clock": self.clock.now().isoformat(sep=" ", timespec="seconds"),
            "speed": self.clock.speed,
            "devices": self.acquisition.snapshot() if self.acquisition else [],
            "outlets": [p.status() for p in self.pipelines.values()],
            "uplinks": uplinks,
            "backlog": backlog,
            "tasks": self.supervisor.snapshot(),
            "first_poll_s": self.first_poll_s,
        }

    def status_line(self) -> str:
        """One line for systemd's STATUS=."""
        states = self.acquisition.snapshot() if self.acquisition else []
        ok = sum(1 for s in states if s["state"] == "ok")
        pending = sum(self.store.backlog_stats(t).pending for t in self.store.outbox_targets())
        return f"devices {ok}/{len(states)} ok, outbox {pending} pending, clock {self.clock.now():%Y-%m-%d %H:%M:%S}"


def _plain(value: Any) -> Any:
    """Dataclass/namedtuple snapshots → JSON-friendly dicts."""
    from dataclasses import asdict, is_dataclass

    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if hasattr(value, "total_seconds"):
        return value.total_seconds()
    return value
