"""Five platforms at once over real TCP, each a reference platform with its own dialect (issue 5, points 1-2, 7).

2017, 2017 without answers, 2025 plain, 2025 SM4 binary, 2025 SM4 text. Every record must arrive exactly as
stored: the platform's decoded CP (after SM4, after reassembling PNUM/PNO parts) equals `record_to_cp` of the
stored record. A record longer than the split limit goes in parts, each acked by its own 9014.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from agent.model import FactorValues, Record, RecordKind
from buffer import Store
from hil.platform import FrameRow, MnConfig, Platform, PlatformConfig
from uplink.clock import SimClock
from uplink.cp_build import record_to_cp
from uplink.hj212 import Cp, Frame, reassemble
from uplink.manager import UplinkManager
from uplink.settings import PlatformSettings
from uplink.testing import DECIMALS, rtd_record, series

pytestmark = pytest.mark.hil

KEY = "0123456789abcdef"
DIALECTS: dict[str, dict[str, object]] = {
    "p2017": {"version": 2017},
    "p2017quiet": {"version": 2017},
    "p2025": {"version": 2025},
    "p2025bin": {"version": 2025, "encrypt": True, "sm4_key": KEY, "cipher_wire": "binary"},
    "p2025txt": {"version": 2025, "encrypt": True, "sm4_key": KEY, "cipher_wire": "text"},
}
START = datetime(2026, 1, 5)


def mn_of(name: str) -> str:
    return f"MN{name.upper()}"[:24]


def wide_record(t: datetime) -> Record:
    """A minute record of 40 factors: over the 400-byte split limit used here, so it goes in parts."""
    factors = tuple(
        FactorValues(f"a9{k:04d}", {"Min": 1.0 + k, "Avg": 2.5 + k, "Max": 4.0 + k, "Flag": "N"}) for k in range(40)
    )
    return Record(outlet="o1", kind=RecordKind.MINUTE, data_time=t, factors=factors)


def as_frame(row: FrameRow) -> Frame:
    assert row.cn and row.mn is not None and row.st and row.pw is not None
    return Frame(row.qn, row.st, row.cn, row.pw, row.mn, row.flag, row.cp or Cp(), row.pnum, row.pno, row.rf)


@contextlib.asynccontextmanager
async def platforms(tmp_path: Path) -> AsyncIterator[dict[str, Platform]]:
    async with contextlib.AsyncExitStack() as stack:
        out = {}
        for name, dialect in DIALECTS.items():
            cfg = PlatformConfig(mns=(MnConfig(mn=mn_of(name), **dialect),), poll_interval=0.05)  # type: ignore[arg-type]
            out[name] = await stack.enter_async_context(Platform(cfg, tmp_path / f"{name}.sqlite"))
        yield out


async def test_five_dialects_at_once_every_record_arrives_exactly_as_stored(tmp_path: Path) -> None:
    clock = SimClock(START + timedelta(days=1), speed=1)
    store = Store(tmp_path / "das.sqlite", clock=clock.now)
    async with platforms(tmp_path) as plats:
        settings = [
            PlatformSettings(
                name=name,
                host="127.0.0.1",
                port=plats[name].port,
                mns={"o1": mn_of(name)},
                want_answer=name != "p2017quiet",
                no_answer_grace_s=0.2,
                split_limit=400,
                heartbeat_s=0.3,
                over_time=2,
                backoff_min_s=0.05,
                backoff_max_s=0.2,
                **dialect,  # type: ignore[arg-type]
            )
            for name, dialect in DIALECTS.items()
        ]
        manager = UplinkManager(
            settings, store, clock=clock, timer=clock.timer, handler=None, decimals={"o1": DECIMALS}, idle_poll_s=0.05
        )
        records = [
            *series("o1", RecordKind.HOUR, START, timedelta(hours=1), 24),
            *series("o1", RecordKind.MINUTE, START, timedelta(minutes=10), 12),
            *series("o1", RecordKind.DAY, START, timedelta(days=1), 1),
            wide_record(START + timedelta(hours=3)),
            rtd_record("o1", clock.now().replace(microsecond=0), 1),
        ]
        ids = [manager.put_record(r) for r in records]
        info_ids = manager.report_site_info("o1", "a21026", {"i12001": 0, "i13004": 168.0}, START)
        check_ids = manager.report_standard_check("o1", "a21026", START, 49.6, 50.0, True, DECIMALS)
        assert len(info_ids) == 5 and len(check_ids) == 3  # 2062 only to the 2025 platforms
        manager.start()
        try:
            async with asyncio.timeout(60):
                while any(s.backlog for s in manager.status()):
                    await asyncio.sleep(0.05)
            await asyncio.sleep(0.8)  # a few heartbeat intervals of idle time
            status = {s.platform: s for s in manager.status()}
        finally:
            await manager.stop()

        for name, plat in plats.items():
            mn = mn_of(name)
            frames = plat.store.frames(mn=mn, direction="in")
            rejected = [f for f in frames if f.verdict != "accepted"]
            assert not rejected, (name, [f.reason for f in rejected])
            got: dict[tuple[str, str], list[FrameRow]] = {}
            for f in frames:
                if f.cn not in ("9015",) and f.data_time:
                    got.setdefault((f.cn or "", f.data_time), []).append(f)
            for rid in ids:
                stored = store.get_record(rid)
                assert stored is not None
                cn = {"hour": "2061", "minute": "2051", "day": "2031", "rtd": "2011"}[stored.kind.value]
                rows = got[(cn, f"{stored.data_time:%Y%m%d%H%M%S}")]
                whole = reassemble([as_frame(r) for r in rows]) if rows[0].pnum else as_frame(rows[0])
                assert whole.cp == record_to_cp(stored, DECIMALS), (name, stored.kind, stored.data_time)
            wide = got[("2051", f"{START + timedelta(hours=3):%Y%m%d%H%M%S}")]
            assert len(wide) >= 2 and {r.pnum for r in wide} == {len(wide)}
            assert ("3020", f"{START:%Y%m%d%H%M%S}") in got
            assert (("2062", f"{START:%Y%m%d%H%M%S}") in got) == name.startswith("p2025")
            answers = plat.store.frames(mn=mn, direction="out", cn="9014")
            heartbeats = plat.store.frames(mn=mn, direction="in", cn="9015")
            data_in = [f for f in frames if f.cn != "9015"]
            if name == "p2017quiet":
                assert not answers and all(f.flag in (4, 6) for f in frames)  # no answer bit
            else:
                # every packet (each split part too) was answered by the platform and the DAS waited for it
                assert len(answers) >= len(data_in) and all(f.flag in (5, 7, 9, 11) for f in data_in)
            assert bool(heartbeats) == name.startswith("p2025"), name
            if name in ("p2025bin", "p2025txt"):
                encrypted = [f for f in data_in if f.cn == "2061"]
                assert all(b"a21026-Avg" not in f.raw for f in encrypted)
            assert status[name].acked == len(ids) + 1 + (1 if name.startswith("p2025") else 0)
            assert store.backlog_stats(f"{name}/o1").pending == 0
