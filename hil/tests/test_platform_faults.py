"""Each fault mode of the reference platform, switched at runtime through the API and through the SQLite file."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hj212_wire import crc_appendix_a, read_frame, wire

from hil.platform import MnConfig, Platform, PlatformConfig, PlatformStore
from hil.platform.faults import GARBAGE
from uplink.hj212 import CrcError, StreamDecoder, decode

MN = "010000A8900016F000169DC0"


def upload(qn: str) -> bytes:
    segment = (
        f"QN={qn};ST=32;CN=2011;PW=123456;MN={MN};Flag=5;CP=&&DataTime=20160801085857;w01018-Rtd=40.1,w01018-Flag=N&&"
    )
    return wire(segment)


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    config = PlatformConfig(mns=(MnConfig(mn=MN),), poll_interval=0.05)
    async with Platform(config, tmp_path / "p.sqlite") as server:
        yield server


async def connect(platform: Platform) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", platform.port)


async def test_refuse_closes_the_listener_and_reopens_it_on_the_same_port(platform: Platform) -> None:
    port = platform.port
    await platform.set_fault("refuse", True)
    with pytest.raises(ConnectionRefusedError):
        await connect(platform)
    await platform.set_fault("refuse", False)
    assert platform.port == port
    reader, writer = await connect(platform)
    writer.write(upload("20160801085857001"))
    assert b"CN=9014" in await read_frame(reader)
    writer.close()


async def test_drop_closes_the_connection_of_an_mn(platform: Platform) -> None:
    reader, writer = await connect(platform)
    writer.write(upload("20160801085857001"))
    await read_frame(reader)
    assert platform.drop(MN) == 1
    assert await asyncio.wait_for(reader.read(100), 5) == b""
    [conn] = platform.store.connections()
    assert conn["reason"] == "fault drop" and conn["mn"] == MN
    writer.close()


async def test_delay_sends_answers_late(platform: Platform) -> None:
    await platform.set_fault("delay", 0.3)
    reader, writer = await connect(platform)
    start = time.monotonic()
    writer.write(upload("20160801085857001"))
    answer = await read_frame(reader)
    assert time.monotonic() - start >= 0.25
    assert b"QN=20160801085857001;ST=91;CN=9014" in answer
    [out] = platform.store.frames(direction="out")
    assert "delay" in (out.reason or "")
    writer.close()


async def test_withhold_records_but_does_not_send_answers(platform: Platform) -> None:
    await platform.set_fault("withhold", "on")
    reader, writer = await connect(platform)
    writer.write(upload("20160801085857001"))
    [held] = await platform.wait_frames(direction="out", verdict="withheld")
    assert held.cn == "9014" and held.qn == "20160801085857001"
    await platform.set_fault("withhold", "off")
    writer.write(upload("20160801085857002"))
    answer = await read_frame(reader)  # the first thing that arrives answers the second upload
    assert b"QN=20160801085857002;ST=91;CN=9014" in answer
    writer.close()


async def test_bad_crc_answers_fail_the_check(platform: Platform) -> None:
    await platform.set_fault("bad-crc", True)
    reader, writer = await connect(platform)
    writer.write(upload("20160801085857001"))
    answer = await read_frame(reader)
    segment = answer[6:-6]
    assert b"CN=9014" in segment and int(answer[-6:-2], 16) != crc_appendix_a(segment)
    with pytest.raises(CrcError):
        decode(answer)
    writer.close()


async def test_garbage_comes_before_each_frame_and_a_das_can_resynchronise(platform: Platform) -> None:
    await platform.set_fault("garbage", True)
    reader, writer = await connect(platform)
    writer.write(upload("20160801085857001"))
    stream = StreamDecoder()
    received = b""
    frames = []
    async with asyncio.timeout(5):
        while not frames:
            chunk = await reader.read(4096)
            assert chunk
            received += chunk
            frames = [item for item in stream.feed(chunk) if not isinstance(item, Exception)]
    assert received.startswith(GARBAGE)
    assert frames[0].frame.cn == "9014" and frames[0].frame.qn == "20160801085857001"
    writer.close()


async def test_drop_next_closes_instead_of_answering_once(platform: Platform) -> None:
    await platform.set_fault("drop-next", True)
    reader, writer = await connect(platform)
    writer.write(upload("20160801085857001"))
    assert await asyncio.wait_for(reader.read(100), 5) == b""
    assert not platform.faults.drop_next
    writer.close()
    reader, writer = await connect(platform)
    writer.write(upload("20160801085857002"))
    assert b"CN=9014" in await read_frame(reader)
    writer.close()


async def test_faults_and_drops_from_another_process_through_the_sqlite_file(platform: Platform) -> None:
    """What `das platform fault --db FILE ...` does: write the control tables; the server polls them."""
    reader, writer = await connect(platform)
    writer.write(upload("20160801085857001"))
    await read_frame(reader)
    with PlatformStore(platform.store.path) as other:
        other.set_fault("withhold", "on")
        other.set_fault("delay", "1.5")
        async with asyncio.timeout(5):
            while not platform.faults.withhold:
                await asyncio.sleep(0.02)
        assert platform.faults.delay == 1.5
        other.set_fault("withhold", "off")
        other.queue_action("drop", MN)
        assert await asyncio.wait_for(reader.read(100), 5) == b""
        assert not platform.faults.withhold
    writer.close()


async def test_bad_fault_values_are_refused(platform: Platform) -> None:
    from hil.platform import FaultError

    with pytest.raises(FaultError):
        await platform.set_fault("delay", "soon")
    with pytest.raises(FaultError):
        await platform.set_fault("explode", "on")
