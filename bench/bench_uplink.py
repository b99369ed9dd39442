"""Backlog drain to the reference platform over loopback TCP (issue 5, point 8).

Cases: a backlog of hour records drained with stop-and-wait to a platform answering every packet at once; the
same with every answer delayed 50 ms (the platform's `delay` fault), stop-and-wait and with a window of 8; and
a 30-day backlog of 1-minute records (43 200 records, 4 gas factors). The figures include the whole path:
store reads, encoding, TCP, the platform decoding, recording (its own SQLite) and answering, and the DAS's
durable `mark_sent` + `ack` per item (two fsynced transactions).

`python -m bench uplink` runs all; with `BENCH_QUICK=1` in the environment the 30-day case is skipped.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from agent.model import RecordKind
from buffer import Store
from hil.platform import MnConfig, Platform, PlatformConfig
from uplink.clock import SimClock
from uplink.manager import UplinkManager
from uplink.settings import PlatformSettings
from uplink.testing import DECIMALS, series

MN = "010000A8900016F000169DC0"


async def drain(
    kind: RecordKind, step: timedelta, count: int, *, delay: float = 0.0, window: int = 1
) -> tuple[float, int]:
    """Seconds to drain `count` records and the number of packets the platform received."""
    with tempfile.TemporaryDirectory(prefix="bench_uplink_") as tmp:
        path = Path(tmp)
        start = datetime(2026, 1, 1)
        clock = SimClock(start + step * count + timedelta(days=1), speed=1)
        store = Store(path / "das.sqlite", clock=clock.now)
        config = PlatformConfig(mns=(MnConfig(mn=MN, version=2025),), poll_interval=0.5)
        async with Platform(config, path / "platform.sqlite") as platform:
            if delay:
                await platform.set_fault("delay", delay)
            settings = PlatformSettings(
                name="bench", host="127.0.0.1", port=platform.port, version=2025, mns={"o1": MN}, window=window
            )
            target = settings.target("o1")
            store.put_records(series("o1", kind, start, step, count), [target])
            manager = UplinkManager(
                [settings], store, clock=clock, timer=clock.timer, handler=None, decimals={"o1": DECIMALS}
            )
            t0 = time.perf_counter()
            manager.start()
            try:
                while store.pending(target, 1):  # an index seek; backlog_stats would count every row
                    await asyncio.sleep(0.05)
                elapsed = time.perf_counter() - t0
            finally:
                await manager.stop()
            packets = len(platform.store.frames(mn=MN, direction="in"))
        store.close()
        return elapsed, packets


def main() -> None:
    quick = os.environ.get("BENCH_QUICK") == "1"
    cases = [
        ("loopback, stop-and-wait, 2000 hour records", RecordKind.HOUR, timedelta(hours=1), 2000, 0.0, 1),
        ("50 ms answer delay, stop-and-wait, 200 records", RecordKind.HOUR, timedelta(hours=1), 200, 0.05, 1),
        ("50 ms answer delay, window 8, 200 records", RecordKind.HOUR, timedelta(hours=1), 200, 0.05, 8),
        ("loopback, window 8, 2000 hour records", RecordKind.HOUR, timedelta(hours=1), 2000, 0.0, 8),
    ]
    if not quick:
        cases.append(("30 days of 1-minute records (43 200)", RecordKind.MINUTE, timedelta(minutes=1), 43200, 0.0, 1))
    print(f"{'case':<50} {'packets':>8} {'time s':>8} {'packets/s':>10}")
    for name, kind, step, count, delay, window in cases:
        elapsed, packets = asyncio.run(drain(kind, step, count, delay=delay, window=window))
        print(f"{name:<50} {packets:>8} {elapsed:>8.2f} {packets / elapsed:>10.1f}")


if __name__ == "__main__":
    main()
