"""Named lifetime tasks, restarted with backoff when they die (style.md §5.1, §5.5).

Every long-running job of the daemon (a device's poll loop, an outlet's statistics tick, the uplink manager,
an MQTT publisher) runs as one named task here. A task that raises is logged (once, then summarised by the
flood gate) and started again after a backoff that doubles up to `backoff_max_s` and resets once the task has
stayed up for `healthy_s`. So a fault in one device, platform or broker never stops the rest, and nothing is
fire-and-forget: `stop()` cancels, awaits and reports what was still running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from agent.logs import Flood, event, get_logger

__all__ = ["Supervisor", "TaskInfo"]

Factory = Callable[[], Awaitable[None]]


@dataclass(slots=True)
class TaskInfo:
    name: str
    group: str
    restart: bool
    task: asyncio.Task[None] | None = None
    restarts: int = 0
    last_error: str | None = None
    finished: bool = False
    tags: dict[str, str] = field(default_factory=dict)


class Supervisor:
    def __init__(
        self,
        *,
        backoff_min_s: float = 1.0,
        backoff_max_s: float = 60.0,
        healthy_s: float = 120.0,
        logger: logging.Logger | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backoff_min_s = backoff_min_s
        self.backoff_max_s = backoff_max_s
        self.healthy_s = healthy_s
        self.log = logger or get_logger("supervisor")
        self._flood = Flood(self.log)
        self._monotonic = monotonic
        self._tasks: dict[str, TaskInfo] = {}

    def start(self, name: str, factory: Factory, *, group: str = "", restart: bool = True) -> TaskInfo:
        """Run `factory()` as the task `name`; with `restart`, run it again whenever it raises."""
        if name in self._tasks and not self._tasks[name].finished:
            raise ValueError(f"task {name!r} is already running")
        info = TaskInfo(name=name, group=group, restart=restart)
        self._tasks[name] = info
        info.task = asyncio.create_task(self._keep(info, factory), name=name)
        return info

    async def _keep(self, info: TaskInfo, factory: Factory) -> None:
        delay = self.backoff_min_s
        try:
            while True:
                started = self._monotonic()
                try:
                    await factory()
                    info.finished = True
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as err:
                    info.last_error = f"{type(err).__name__}: {err}"
                    self._flood.fail(
                        info.name,
                        "task_failed",
                        "任务异常, 将重启 / task died, restarting",
                        task=info.name,
                        error=info.last_error,
                        retry_s=delay if info.restart else None,
                    )
                    if self.log.isEnabledFor(logging.DEBUG):
                        self.log.debug("task %s traceback", info.name, exc_info=err)
                    if not info.restart:
                        info.finished = True
                        return
                if self._monotonic() - started >= self.healthy_s:
                    delay = self.backoff_min_s
                await asyncio.sleep(delay)
                delay = min(self.backoff_max_s, delay * 2)
                info.restarts += 1
                self._flood.ok(info.name, "task_restarted", task=info.name, restarts=info.restarts)
        finally:
            info.finished = True

    def names(self, group: str | None = None) -> list[str]:
        return [n for n, i in self._tasks.items() if group is None or i.group == group]

    def info(self, name: str) -> TaskInfo:
        return self._tasks[name]

    async def stop(self, names: Iterable[str] | None = None, *, budget_s: float = 5.0) -> list[str]:
        """Cancel tasks (all, or `names`) and wait up to `budget_s`; return the names still running after it."""
        chosen = [self._tasks[n] for n in (list(self._tasks) if names is None else names) if n in self._tasks]
        live = [i.task for i in chosen if i.task is not None and not i.task.done()]
        for task in live:
            task.cancel()
        if not live:
            return []
        done, pending = await asyncio.wait(live, timeout=budget_s)
        for task in done:
            with contextlib.suppress(asyncio.CancelledError):
                exc = task.exception()
                if exc is not None:
                    event(self.log, logging.ERROR, "task_error_on_stop", task=task.get_name(), error=repr(exc))
        stuck = [t.get_name() for t in pending]
        if stuck:
            event(self.log, logging.WARNING, "tasks_still_running", tasks=",".join(stuck), budget_s=budget_s)
        return stuck

    async def stop_group(self, group: str, *, budget_s: float = 5.0) -> list[str]:
        return await self.stop(self.names(group), budget_s=budget_s)

    def snapshot(self) -> dict[str, dict[str, object]]:
        return {
            name: {
                "group": i.group,
                "running": i.task is not None and not i.task.done(),
                "restarts": i.restarts,
                "last_error": i.last_error,
            }
            for name, i in self._tasks.items()
        }
