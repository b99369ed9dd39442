"""Agent clock (speed, anchor shared across restarts, 1012 offset) and flood-controlled logging."""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import datetime, timedelta

from agent.daemon.clock import AgentClock, parse_clock_start
from agent.logs import Flood, get_logger, setup_logging


def test_clock_speed_anchor_and_set() -> None:
    wall = [1000.0]
    start = datetime(2026, 1, 5, 8, 0)
    clock = AgentClock(speed=60, start=start, anchor=1000.0, wall=lambda: wall[0])
    wall[0] += 10
    assert clock.now() == start + timedelta(minutes=10)
    again = AgentClock(speed=60, start=start, anchor=1000.0, wall=lambda: wall[0])  # a restarted agent
    assert again.now() == clock.now()
    clock.set(datetime(2026, 1, 5, 9, 0))
    assert clock.now() == datetime(2026, 1, 5, 9, 0)
    wall[0] += 1
    assert clock.now() == datetime(2026, 1, 5, 9, 1)
    assert parse_clock_start("20260105080000") == start


async def test_sleep_until_wakes_on_set() -> None:
    clock = AgentClock(speed=1, start=datetime(2026, 1, 5, 8, 0))
    target = clock.now() + timedelta(hours=1)
    task = asyncio.create_task(clock.sleep_until(target))
    await asyncio.sleep(0.05)
    assert not task.done()
    clock.set(target + timedelta(seconds=1))
    await asyncio.wait_for(task, 2)


def test_flood_logs_first_failure_summary_and_recovery() -> None:
    stream = io.StringIO()
    setup_logging(logging.INFO, stream)
    now = [0.0]
    flood = Flood(get_logger("test"), summary_s=600, monotonic=lambda: now[0])
    for _ in range(100):
        flood.fail("cems", "device_failed", device="cems", error="timeout")
        now[0] += 10
    flood.ok("cems", "device_recovered", device="cems")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3, lines  # first failure, one summary after 600 s, the recovery
    assert "ERROR test device_failed device=cems error=timeout" in lines[0]
    assert "repeated=" in lines[1] and "WARNING" in lines[1]
    assert "device_recovered" in lines[2] and "failures=100" in lines[2]
