"""`das run`: one asyncio process that owns the links, polls, computes, stores and uploads.

Subsystems are entered on one `AsyncExitStack` (style.md §5.3): the store first and out last, then the site
(links, poll loops, statistics, uplinks). SIGTERM/SIGINT set one stop event and the site is stopped in stages
(agent/daemon/site.py); SIGHUP reloads: the new file is loaded and checked first, and only if it is valid is the
running site stopped and the new one started on the same store (a file that does not validate is logged with
its reason and the running site keeps going).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.daemon.clock import AgentClock
from agent.daemon.clockdrift import ClockDriftAlarms, enable_time_sync
from agent.daemon.liveness import Liveness, site_progress
from agent.daemon.plan import SitePlan, plan_from_config
from agent.daemon.site import Site
from agent.logs import event, get_logger
from buffer import Store

if TYPE_CHECKING:  # optional module, imported lazily
    from agent.sdnotify import SdNotifier

__all__ = ["RunOptions", "run", "run_async"]

log = get_logger("daemon")

ALIVE_PERIODS = 10  # the watchdog's alive(): this many poll intervals without progress is a stuck agent
ALIVE_FLOOR_S = 60.0  # real seconds, whatever the intervals and clock speed


@dataclass(frozen=True)
class RunOptions:
    config_path: Path
    clock_speed: float = 1.0
    clock_start: datetime | None = None
    clock_anchor: float | None = None
    state_dir: Path | None = None
    stop_budget_s: float = 10.0
    status_every_s: float = 10.0


def load_plan(options: RunOptions) -> SitePlan:
    """Load and check the config file and build the plan; raises `agent.config.ConfigError` when invalid."""
    from agent.config import load_config

    return plan_from_config(load_config(options.config_path), state_dir=options.state_dir)


def _uplinks(site: Site) -> Any:
    """The uplinks of the site: the platform sessions' manager and one MQTT publisher per `[mqtt.*]` target
    (None without either)."""
    plan = site.plan
    if not plan.platforms and not plan.mqtt:
        return None
    manager = None
    if plan.platforms:
        from agent.stats import decimals
        from uplink.commands import CommandHandler
        from uplink.manager import UplinkManager
        from uplink.services import Services

        manager = UplinkManager(
            plan.platforms,
            site.store,
            clock=site.clock,
            timer=site.clock.real_timer,
            # The agent clock (1011/1012), live values (2011) and the analyzers (3019-3024) for the commands;
            # the site's identity lets a 2025 platform assign this DAS an MN (1002), refused without one.
            services=Services(clock=site.clock, live=site.services, devices=site.services),
            handler=CommandHandler(identity=plan.identity),
            decimals={o.name: decimals(o.params) for o in plan.outlets},
            identity=plan.identity,  # 2025 sessions announce it with a 1001 on connect while their MN is empty
        )
        site.routing.attach(manager)
        enable_time_sync(manager.sessions.values(), site.clock.speed)
    publishers: list[Any] = []
    if plan.mqtt:
        from uplink.mqtt import MqttConfigError, MqttPublisher

        mns: dict[str, dict[str, str]] = {}
        for platform in plan.platforms:
            for outlet, mn in platform.mns.items():
                mns.setdefault(outlet, {})[platform.name] = mn
        for settings in plan.mqtt:
            try:
                # Retries and waits are physical: a broker's round trip does not speed up with a simulated clock.
                publishers.append(MqttPublisher(settings, site.store, clock=site.clock.real_timer, mns=mns))
            except MqttConfigError as err:  # its items stay pending; the other uplinks run
                event(log, logging.ERROR, "mqtt_not_started", "MQTT 未启动 / MQTT target not started", error=err)
        site.routing.publishers = publishers
    return _UplinksHandle(manager, publishers, site)


class _UplinksHandle:
    """Adapts `UplinkManager` (sync start, `stop(budget)`) and the MQTT publishers to the site's start/stop/status."""

    def __init__(self, manager: Any, publishers: list[Any], site: Site | None = None) -> None:
        from agent.daemon.status_mqtt import StatusBroadcast

        self.manager = manager
        self.publishers = publishers
        # The retained MQTT status: on start, on link changes, every status_every_s (docs/mqtt.md "Status").
        self.status_broadcast = (
            StatusBroadcast(site, publishers, site.clock.real_timer) if site is not None and publishers else None
        )

    async def start(self) -> None:
        if self.manager is not None:
            self.manager.start()
        for publisher in self.publishers:
            await publisher.start()
        if self.status_broadcast is not None:
            self.status_broadcast.start()

    async def stop(self, budget: float) -> None:
        if self.status_broadcast is not None:
            await self.status_broadcast.stop()  # a last status `stopped`, sent before each publisher's `offline`
        stops = [p.stop(budget) for p in self.publishers]
        if self.manager is not None:
            stops.append(self.manager.stop(budget))
        await asyncio.gather(*stops)

    def status(self) -> list[dict[str, Any]]:
        from dataclasses import asdict

        rows = [asdict(s) for s in self.manager.status()] if self.manager is not None else []
        rows += [asdict(p.state) for p in self.publishers]
        return [{k: (v.isoformat(sep=" ") if isinstance(v, datetime) else v) for k, v in r.items()} for r in rows]


class Daemon:
    def __init__(self, options: RunOptions, plan: SitePlan) -> None:
        self.options = options
        self.plan = plan
        self.clock = AgentClock(speed=options.clock_speed, start=options.clock_start, anchor=options.clock_anchor)
        self.stop_event = asyncio.Event()
        self.reload_event = asyncio.Event()
        self.site: Site | None = None
        self._drift: ClockDriftAlarms | None = None
        self.store: Store | None = None
        self.notifier = _notifier()
        # The watchdog's alive(): polls or statistics moved within ALIVE_PERIODS of their shortest interval.
        self.liveness = Liveness(
            lambda: site_progress(self.site),
            self._alive_limit_s,
            starting=lambda: self.site is None or self.site.first_poll_s is None,
        )

    def _open_store(self, plan: SitePlan) -> Store:
        plan.store_path.parent.mkdir(parents=True, exist_ok=True)
        return Store(plan.store_path, clock=self.clock.now, policy=plan.retention)

    def _ready(self) -> None:
        if self.notifier is not None and self.site is not None:
            self.notifier.ready(self.site.status_line())

    async def _start_site(self, plan: SitePlan) -> Site:
        assert self.store is not None
        site = Site(plan, self.store, self.clock, on_ready=self._ready, uplink_factory=_uplinks)
        self.site = site
        # A platform's 1012 that moves the clock beyond an outlet's alarms.clock_drift_s is a clock_drift alarm.
        self._drift = ClockDriftAlarms(site.pipelines)
        self.clock.add_listener(self._drift)
        await site.start()
        if site.uplinks is not None and site.uplinks.manager is not None:
            now = self.clock.now()
            for outlet in site.pipelines:
                with contextlib.suppress(Exception):
                    site.uplinks.manager.report_restart(outlet, now, now)  # 2081 (C.37)
        return site

    def _alive_limit_s(self) -> float:
        """ALIVE_PERIODS of the shortest poll or real-time interval (agent seconds, converted to real seconds),
        never under ALIVE_FLOOR_S: a poll over dead analyzers takes real timeouts whatever the clock speed."""
        site = self.site
        intervals: list[float] = []
        if site is not None:
            if site.acquisition is not None:
                intervals += [s.interval_s for s in site.acquisition.state.values()]
            intervals += [float(p.params.rtd_interval) for p in site.pipelines.values()]
        if not intervals:
            return ALIVE_FLOOR_S
        return max(ALIVE_FLOOR_S, ALIVE_PERIODS * self.clock.real_seconds(min(intervals)))

    async def serve(self) -> int:
        loop = asyncio.get_running_loop()
        for sig, handler in ((signal.SIGTERM, self.stop_event.set), (signal.SIGINT, self.stop_event.set)):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, handler)
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGHUP, self.reload_event.set)
        event(
            log,
            logging.INFO,
            "agent_starting",
            "数采仪启动 / agent starting",
            config=str(self.options.config_path),
            store=str(self.plan.store_path),
            pid=os.getpid(),
            clock=self.clock.now().isoformat(sep=" ", timespec="seconds"),
            speed=self.clock.speed,
        )
        async with AsyncExitStack() as stack:
            self.store = self._open_store(self.plan)
            stack.callback(lambda: self.store.close() if self.store is not None else None)
            watchdog = _watchdog(self.notifier, self.liveness)
            if watchdog is not None:
                stack.callback(watchdog.cancel)
            await self._start_site(self.plan)
            stack.push_async_callback(self._stop_site)
            status_task = asyncio.create_task(self._status_loop(), name="status")
            stack.callback(status_task.cancel)
            while not self.stop_event.is_set():
                waiters = [asyncio.create_task(self.stop_event.wait()), asyncio.create_task(self.reload_event.wait())]
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                for w in waiters:
                    w.cancel()
                if self.reload_event.is_set() and not self.stop_event.is_set():
                    self.reload_event.clear()
                    await self._reload()
            event(log, logging.INFO, "agent_stopping", "数采仪停止中 / agent stopping")
            if self.notifier is not None:
                self.notifier.stopping("stopping")
        event(log, logging.INFO, "agent_stopped", "数采仪已停止 / agent stopped, store closed")
        return 0

    async def _stop_site(self) -> None:
        if self.site is not None:
            site, self.site = self.site, None
            if self._drift is not None:
                self.clock.remove_listener(self._drift)
                self._drift = None
            await site.stop(budget_s=self.options.stop_budget_s)
            with contextlib.suppress(Exception):
                self._write_status({**site.status(), "stopped": True})

    async def _reload(self) -> None:
        """SIGHUP: everything the new site needs is prepared while the old one keeps running (the file checked,
        a new store opened, the devices built on their links); any failure there is `reload_refused` and nothing
        changes. Only then is the old site stopped and the new one started. A new store path swaps the store; the
        same path keeps the open store (closing and reopening it would only interrupt the uplinks' outboxes)."""
        from agent.config import ConfigError

        try:
            plan = load_plan(self.options)
        except (ConfigError, OSError, ValueError) as err:
            _refused(str(err))
            return
        try:
            new_store = None if _same_file(plan.store_path, self.plan.store_path) else self._open_store(plan)
        except Exception as err:  # a store that cannot be opened must not cost the running site (bug: exit 1)
            _refused(f"{plan.store_path}: store cannot be opened / 无法打开存储: {err}")
            return
        try:
            await _check_devices(plan)
        except Exception as err:
            if new_store is not None:
                new_store.close()
            _refused(f"devices / 设备: {err}")
            return
        event(log, logging.INFO, "reloading", "重新加载配置 / reloading configuration", site=plan.name)
        old_plan = self.plan
        await self._stop_site()
        if new_store is not None and self.store is not None:
            self.store.close()
            self.store = new_store
        elif self.store is not None:
            self.store.policy = plan.retention  # same store: the new retention applies from the next prune
        self.plan = plan
        try:
            await self._start_site(plan)
        except Exception as err:  # the old site was checked at its own start: bring it back rather than stop
            event(
                log,
                logging.ERROR,
                "reload_failed",
                "新配置启动失败, 恢复原配置 / new configuration failed to start, restoring the previous one",
                error=err,
            )
            await self._stop_site()
            if new_store is not None:
                new_store.close()
                self.store = self._open_store(old_plan)
            self.plan = old_plan
            await self._start_site(old_plan)
            return
        event(log, logging.INFO, "reloaded", "配置已重新加载 / configuration reloaded", site=plan.name)

    async def _status_loop(self) -> None:
        """Every few seconds: the status snapshot to `status.json` beside the store, and systemd's STATUS line."""
        while True:
            await asyncio.sleep(self.options.status_every_s)
            site = self.site
            if site is None:
                continue
            try:
                self._write_status(site.status())
                if self.notifier is not None:
                    self.notifier.status(site.status_line())
            except Exception as err:  # a status file must never stop the agent
                event(log, logging.WARNING, "status_failed", error=err)

    def _write_status(self, snapshot: dict[str, Any]) -> None:
        path = self.plan.store_path.parent / "status.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(snapshot, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        tmp.replace(path)


def _refused(reason: str) -> None:
    event(
        log,
        logging.ERROR,
        "reload_refused",
        "新配置无效, 继续使用当前配置 / new configuration invalid, keeping the running one",
        reason=reason.replace("\n", "; "),
    )


def _same_file(a: Path, b: Path) -> bool:
    """The same store file, however the two configs spell its path."""
    return a.resolve() == b.resolve()


async def _check_devices(plan: SitePlan) -> None:
    """Build the plan's devices on a throwaway link registry (nothing is opened), so that a device the site
    could not build refuses the reload instead of failing after the running site was stopped."""
    from drivers.link import LinkRegistry
    from drivers.reader import build_devices

    registry = LinkRegistry()
    try:
        build_devices(plan.devices, plan.profiles, registry)
    finally:
        await registry.close()


def _notifier() -> SdNotifier | None:
    try:
        from agent.sdnotify import SdNotifier
    except ImportError:
        return None
    return SdNotifier.from_env()


def _watchdog(notifier: SdNotifier | None, alive: Callable[[], bool] | None = None) -> asyncio.Task[None] | None:
    if notifier is None:
        return None
    try:
        from agent.watchdog import start_watchdog
    except ImportError:
        return None
    return start_watchdog(notifier=notifier, alive=alive)


async def run_async(options: RunOptions, *, on_error: Callable[[str], None] | None = None) -> int:
    from agent.config import ConfigError

    try:
        plan = load_plan(options)
    except (ConfigError, OSError) as err:
        (on_error or (lambda text: event(log, logging.ERROR, "config_invalid", reason=text)))(str(err))
        return 2
    return await Daemon(options, plan).serve()


def run(
    config_path: Path | str,
    clock_speed: float = 1.0,
    clock_start: datetime | None = None,
    *,
    clock_anchor: float | None = None,
    state_dir: Path | None = None,
) -> int:
    """Run the agent until SIGTERM/SIGINT; returns the exit code."""
    options = RunOptions(
        Path(config_path),
        clock_speed=clock_speed,
        clock_start=clock_start,
        clock_anchor=clock_anchor,
        state_dir=state_dir,
    )
    return asyncio.run(run_async(options))
