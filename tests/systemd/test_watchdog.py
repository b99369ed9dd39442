"""Watchdog pings come from the event loop: they keep coming while it runs and stop while it is blocked."""

from __future__ import annotations

import asyncio
import os
import time

import pytest
from notify_socket import NotifySocket

from agent.sdnotify import SdNotifier
from agent.watchdog import start_watchdog
from drivers.clock import ManualClock


def _watchdog_env(monkeypatch: pytest.MonkeyPatch, sock: NotifySocket, usec: int) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", sock.name)
    monkeypatch.setenv("WATCHDOG_USEC", str(usec))
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))


def _pings(messages: list[dict[str, str]]) -> int:
    assert all(m == {"WATCHDOG": "1"} for m in messages), messages
    return len(messages)


async def test_pings_from_a_running_loop_and_none_while_it_is_blocked(
    notify_path: NotifySocket, monkeypatch: pytest.MonkeyPatch
) -> None:
    _watchdog_env(monkeypatch, notify_path, 200_000)  # pings every 100 ms
    task = start_watchdog()
    assert task is not None
    try:
        await asyncio.sleep(0.5)
        assert _pings(notify_path.messages()) >= 2  # about 5 expected; 2 leaves room for a loaded machine

        notify_path.messages()  # drain, then block the loop without yielding to it
        time.sleep(0.5)  # a hung loop: five ping deadlines pass
        assert notify_path.messages() == []  # nothing was sent while the loop was stuck

        await asyncio.sleep(0.5)
        assert _pings(notify_path.messages()) >= 1  # the loop runs again, so do the pings
    finally:
        task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_cadence_is_half_of_watchdog_usec_on_a_manual_clock(notify_abstract: NotifySocket) -> None:
    clock = ManualClock()
    notifier = SdNotifier(notify_abstract.name, watchdog_usec=30_000_000)
    task = start_watchdog(notifier=notifier, clock=clock)
    assert task is not None
    await clock.advance(0)
    assert _pings(notify_abstract.messages(wait=1.0)) == 1  # first ping at once
    await clock.advance(14.9)
    assert notify_abstract.messages() == []
    await clock.advance(0.1)
    assert _pings(notify_abstract.messages(wait=1.0)) == 1
    await clock.advance(60)
    assert _pings(notify_abstract.messages(wait=1.0)) == 4
    task.cancel()


async def test_failing_health_check_withholds_pings(notify_path: NotifySocket) -> None:
    """The loop runs but the agent's work stopped: no ping, so systemd restarts it all the same."""
    clock = ManualClock()
    healthy = [True]
    calls = [0]

    def alive() -> bool:
        calls[0] += 1
        if calls[0] == 3:
            raise RuntimeError("check crashed")  # counts as not alive; the ping task survives
        return healthy[0]

    task = start_watchdog(notifier=SdNotifier(notify_path.name, watchdog_usec=2_000_000), clock=clock, alive=alive)
    assert task is not None
    await clock.advance(0)
    await clock.advance(1)  # pings at 0 and 1
    assert _pings(notify_path.messages(wait=1.0)) == 2
    healthy[0] = False
    await clock.advance(3)  # t=2 raises, t=3 and t=4 unhealthy
    assert notify_path.messages() == []
    healthy[0] = True
    await clock.advance(1)
    assert _pings(notify_path.messages(wait=1.0)) == 1
    assert not task.done()
    task.cancel()


async def test_no_task_without_a_watchdog(notify_path: NotifySocket, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", notify_path.name)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert start_watchdog() is None
    _watchdog_env(monkeypatch, notify_path, 200_000)
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))  # meant for another process
    assert start_watchdog() is None
    monkeypatch.delenv("NOTIFY_SOCKET")
    monkeypatch.delenv("WATCHDOG_PID")
    assert start_watchdog() is None  # no one to ping


def test_start_on_a_loop_that_is_not_running_yet(notify_path: NotifySocket) -> None:
    """The daemon may create the task before `run_until_complete`; pings start when the loop does."""
    loop = asyncio.new_event_loop()
    try:
        task = start_watchdog(loop, notifier=SdNotifier(notify_path.name, watchdog_usec=200_000))
        assert task is not None
        assert notify_path.messages() == []
        loop.run_until_complete(asyncio.sleep(0.3))
        assert _pings(notify_path.messages()) >= 1
        task.cancel()
        loop.run_until_complete(asyncio.gather(task, return_exceptions=True))
    finally:
        loop.close()
