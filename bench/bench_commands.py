"""Platform command handling: the cost of answering a history fetch from the store (HJ 212-2017 §8).

A day of minute records (1440, 6 gas factors × Min/Avg/Max/Cou/Flag) is fetched with one 2051; the handler
reads them from SQLite, builds each CP, splits where needed and the sender encodes every packet strictly, as
the session would before writing it. No socket: on a real link the 9014 round trip per packet dominates.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from agent.model import RecordKind
from buffer import Store
from uplink.commands import CommandHandler
from uplink.context import SessionContext
from uplink.hj212 import Cp, Frame, encode, make_flag, new_qn
from uplink.settings import PlatformSettings
from uplink.testing import DECIMALS, series

MN = "010000A8900016F000169DC0"
FACTORS = ("a21026", "a21002", "a34013", "a19001", "a21005", "a01012")


async def _fetch(store: Store, settings: PlatformSettings) -> tuple[int, int, float]:
    sent: list[int] = []
    t = [datetime(2026, 1, 6)]

    def qn() -> str:
        t[0] += timedelta(milliseconds=1)
        return new_qn(t[0])

    async def sender(frame: Frame, await_answer: bool) -> bool:
        sent.append(len(encode(frame, settings.dialect)))
        return True

    async def updater(key: str, value: str) -> None:
        raise AssertionError("a fetch changes no setting")

    ctx = SessionContext(
        target="national/o1", outlet="o1", settings=lambda: settings, store=store, now=lambda: t[0], new_qn=qn,
        sender=sender, setting_updater=updater, decimals=DECIMALS,
    )  # fmt: skip
    request = Frame(
        qn="20260106000000001", st="31", cn="2051", pw="123456", mn=MN, flag=make_flag(settings.version, answer=True),
        cp=Cp.parse("BeginTime=20260105000000;EndTime=20260105235900"),
    )  # fmt: skip
    start = time.perf_counter()
    await CommandHandler().handle(request, ctx)
    return len(sent), sum(sent), time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "das.sqlite")
        store.put_records(series("o1", RecordKind.MINUTE, datetime(2026, 1, 5), timedelta(minutes=1), 1440, FACTORS))
        for version in (2017, 2025):
            settings = PlatformSettings(name="national", host="h", port=1, mns={"o1": MN}, version=version)
            frames, size, seconds = asyncio.run(_fetch(store, settings))
            print(
                f"2051 fetch of 1440 minute records, HJ 212-{version}: {frames} frames, {size / 1024:.0f} KiB, "
                f"{seconds * 1000:.0f} ms ({seconds / 1440 * 1e6:.0f} µs per record)"
            )
        store.close()


if __name__ == "__main__":
    main()
