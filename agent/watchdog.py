"""The systemd watchdog ping, sent from the daemon's own event loop.

`WatchdogSec=30` in systemd/das-agent.service makes systemd kill and restart the agent when WATCHDOG=1 pings
stop for 30 s. The ping is a task on the same asyncio loop that polls the analyzers and uploads packets, never a
thread: a thread would keep pinging while the loop is stuck (a blocking call, a busy loop, a deadlock), and the
whole point is that a stuck loop is restarted. An optional `alive()` check lets the daemon also withhold the ping
when the loop runs but its work has stopped (e.g. no poll round finished for minutes).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from agent.sdnotify import SdNotifier
from drivers.clock import Clock, MonotonicClock

__all__ = ["start_watchdog", "watchdog_loop"]

log = logging.getLogger(__name__)


async def watchdog_loop(
    notifier: SdNotifier,
    interval: float,
    *,
    clock: Clock | None = None,
    alive: Callable[[], bool] | None = None,
) -> None:
    """Ping every `interval` seconds for as long as the loop keeps running this task (cancel it to stop)."""
    clock = clock or MonotonicClock()
    withheld = False
    while True:
        try:
            ok = alive is None or bool(alive())
        except Exception:
            log.exception("健康检查异常, 视为不存活 / watchdog health check raised; treating the agent as not alive")
            ok = False
        if ok:
            notifier.watchdog()
            if withheld:
                log.info("健康检查恢复, 看门狗继续喂狗 / health check passes again; watchdog pings resumed")
                withheld = False
        elif not withheld:
            log.error(
                "健康检查失败, 停止喂狗以让 systemd 重启 / "
                "health check failed; withholding watchdog pings so systemd restarts the agent"
            )
            withheld = True
        await clock.sleep(interval)


def start_watchdog(
    loop: asyncio.AbstractEventLoop | None = None,
    *,
    notifier: SdNotifier | None = None,
    clock: Clock | None = None,
    alive: Callable[[], bool] | None = None,
) -> asyncio.Task[None] | None:
    """Start the ping task on `loop` (the running loop if None); None when systemd asked for no watchdog.

    The interval is half of WATCHDOG_USEC (sd_watchdog_enabled(3)), so one late ping never trips the
    watchdog. The caller owns the task: keep it and cancel it on shutdown after `notifier.stopping()`.
    """
    notifier = notifier if notifier is not None else SdNotifier.from_env()
    interval = notifier.watchdog_interval
    if interval is None:
        return None
    loop = loop if loop is not None else asyncio.get_running_loop()
    return loop.create_task(watchdog_loop(notifier, interval, clock=clock, alive=alive), name="sd-watchdog")
