"""Session parts: interleave, backoff, single-flight connect, settings, and the answer rules over a raw TCP peer.

The raw peer is a few lines of asyncio written here (not the reference platform), so each answer rule can be
driven exactly: a stray 9014, a 9014 with a bad CRC, a 9014 that comes only for the resend.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from agent.model import RecordKind
from buffer import Store
from drivers.clock import MonotonicClock
from uplink.clock import SimClock
from uplink.connect import Backoff, ConnectError, Connector
from uplink.hj212 import Dialect, Frame, StreamDecoder, encode, reply_9014
from uplink.scheduler import Interleave
from uplink.session import PlatformSession
from uplink.settings import PlatformSettings, apply_setting
from uplink.testing import DECIMALS, window_record

MN = "MNTEST01"
DIALECT = Dialect(version=2017)


def test_interleave_half_share_alternates_and_live_never_starves() -> None:
    inter = Interleave(0.5)
    picks = [inter.choose(True, True) for _ in range(10)]
    assert picks.count("live") == 5 and picks.count("backlog") == 5
    assert all(a != b for a, b in itertools.pairwise(picks))
    assert Interleave(0.0).choose(True, True) == "live"
    assert Interleave(0.0).choose(False, True) == "backlog"
    assert Interleave(0.5).choose(False, False) is None
    heavy = Interleave(0.9)
    assert [heavy.choose(True, True) for _ in range(10)].count("live") >= 1


def test_backoff_grows_bounded_with_jitter_and_resets() -> None:
    b = Backoff(1.0, 8.0, rng=lambda: 1.0)
    assert [b.next_delay() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    b.reset()
    assert b.next_delay() == 1.0
    low = Backoff(1.0, 8.0, rng=lambda: 0.0)
    assert [low.next_delay() for _ in range(3)] == [0.5, 1.0, 2.0]


def test_settings_checks_and_overrides() -> None:
    base = PlatformSettings(name="p", host="h", port=1, mns={"o1": MN})
    assert (base.over_time, base.re_count, base.heartbeat) == (10.0, 3, None)  # Table 1; 2017 has no 9015
    assert PlatformSettings(name="p", host="h", port=1, mns={"o1": MN}, version=2025).heartbeat == 60.0
    assert apply_setting(base, "o1", "pw", "654321").pw == "654321"
    assert apply_setting(base, "o1", "mn", "NEWMN").mns == {"o1": "NEWMN"}
    assert apply_setting(base, "o1", "upload.rtd", "0").upload.rtd is False
    for key, value in (("rtd_interval", "5"), ("pw", "toolong7"), ("nope", "1"), ("upload.rtd", "yes")):
        with pytest.raises(ValueError):
            apply_setting(base, "o1", key, value)
    with pytest.raises(ValueError, match="encrypt"):
        PlatformSettings(name="p", host="h", port=1, mns={"o1": MN}, encrypt=True, sm4_key="0" * 16)


async def test_connector_is_single_flight_and_maps_refused() -> None:
    accepted = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        await reader.read()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    conn = Connector("127.0.0.1", port, MonotonicClock(), timeout=5)
    a, b = await asyncio.gather(conn.connect(), conn.connect())
    assert a[1] is b[1]
    await asyncio.sleep(0.05)
    assert accepted == 1
    a[1].close()
    server.close()
    await server.wait_closed()
    refused = Connector("127.0.0.1", port, MonotonicClock(), timeout=5, backoff=Backoff(0.01, 0.02))
    with pytest.raises(ConnectError) as info:
        await refused.connect()
    assert info.value.kind == "refused"
    await refused.close()


# --- a raw peer --------------------------------------------------------------------------------------------

Script = Callable[[Frame, int, asyncio.StreamWriter], Awaitable[None]]


async def _peer(script: Script) -> AsyncIterator[tuple[int, list[Frame]]]:
    got: list[Frame] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        decoder = StreamDecoder(DIALECT)
        while chunk := await reader.read(65536):
            for item in decoder.feed(chunk):
                frame = item.frame  # type: ignore[union-attr]
                got.append(frame)
                await script(frame, len(got), writer)
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], got
    finally:
        server.close()


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "das.sqlite", clock=lambda: datetime(2026, 1, 8))


async def _run_one(store: Store, port: int, **overrides: object) -> PlatformSession:
    clock = SimClock(datetime(2026, 1, 8), speed=1)
    fields: dict[str, object] = {"over_time": 0.3, "re_count": 3, **overrides}
    settings = PlatformSettings(name="raw", host="127.0.0.1", port=port, mns={"o1": MN}, **fields)  # type: ignore[arg-type]
    session = PlatformSession(
        settings, "o1", store, clock=clock, timer=clock.timer, decimals=DECIMALS, idle_poll_s=0.05
    )
    store.put_record(window_record("o1", RecordKind.HOUR, datetime(2026, 1, 7, 23), 1), ["raw/o1"])
    session.start()
    return session


async def _wait_acked(store: Store, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while store.backlog_stats("raw/o1").pending:
            await asyncio.sleep(0.02)


async def test_stray_and_corrupted_answers_are_ignored_and_the_resend_is_acked(store: Store) -> None:
    async def script(frame: Frame, n: int, writer: asyncio.StreamWriter) -> None:
        stray = reply_9014(Frame("20200101000000000", "31", "2061", frame.pw, frame.mn, 5), DIALECT)
        good = encode(reply_9014(frame, DIALECT), DIALECT)
        if n == 1:  # first copy: a stray 9014 and a 9014 with a broken CRC, nothing valid
            writer.write(encode(stray, DIALECT))
            writer.write(good[:-6] + b"0000\r\n")
        else:
            writer.write(good)

    async for port, got in _peer(script):
        session = await _run_one(store, port)
        await _wait_acked(store)
        status = session.status()
        await session.stop()
        assert len(got) == 2 and got[0].qn == got[1].qn  # resent with the same QN after OverTime
        assert status.stray_answers == 1 and status.bad_frames == 1 and status.acked == 1 and status.timeouts == 1


async def test_recount_exhausted_means_link_down_and_the_item_stays_pending(store: Store) -> None:
    async def silent(frame: Frame, n: int, writer: asyncio.StreamWriter) -> None:
        return None

    async for port, got in _peer(silent):
        session = await _run_one(store, port, re_count=2, backoff_min_s=5, backoff_max_s=5)
        async with asyncio.timeout(10):
            while session.status().state != "down":
                await asyncio.sleep(0.02)
        await session.stop()
        assert len(got) == 3  # 1 + ReCount sends, then "通讯不可用" (Table 1)
        assert store.backlog_stats("raw/o1").pending == 1


async def test_qns_are_unique_within_one_millisecond(store: Store) -> None:
    clock = SimClock(datetime(2026, 1, 8), speed=1e-9)  # frozen clock: every QN collides
    settings = PlatformSettings(name="raw", host="127.0.0.1", port=1, mns={"o1": MN})
    session = PlatformSession(settings, "o1", store, clock=clock, timer=clock.timer)
    qns = [session.context.new_qn() for _ in range(2000)]
    assert len(set(qns)) == 2000 and all(len(q) == 17 for q in qns)
    assert qns[1] == "20260108000000001"
    assert datetime.strptime(qns[-1][:14], "%Y%m%d%H%M%S") - datetime(2026, 1, 8) == timedelta(seconds=1)
