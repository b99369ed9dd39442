"""Refused requests (HJ 212-2017 Table 4 QnRtn): the right code, a log line, and nothing changed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from commands_harness import Devices, Harness

from agent.daemon.clock import AgentClock
from buffer import Store
from uplink.commands import CommandHandler, log_undecodable
from uplink.hj212 import Cp, CrcError, Frame, encode
from uplink.session import PlatformSession
from uplink.settings import PlatformSettings

H = CommandHandler()
SESSION_MN = "010000A8900016F000169DC0"


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(tmp_path, devices=Devices())
    yield harness
    harness.store.close()


@pytest.mark.parametrize(
    ("overrides", "qn_rtn"),
    [
        ({"pw": "654321"}, 3),
        ({"mn": "010000A8900016F000169DC1"}, 4),
        ({"st": "32"}, 5),  # a wastewater ST to a flue-gas station
        ({"qn": "20261305120000123"}, 7),  # month 13
        ({"cn": "1999"}, 8),  # reserved, not a command
        ({"cn": "2081"}, 8),  # a DAS→platform upload, not a request
        ({"cn": "1002"}, 8),  # HJ 212-2025 only; this platform speaks 2017
        ({"cn": "3013"}, 2),  # a standard request this DAS does not carry out (clean/blowback)
    ],
)
async def test_a_refused_request_gets_its_qn_rtn_is_logged_and_changes_nothing(
    h: Harness, caplog: pytest.LogCaptureFixture, overrides: dict[str, str], qn_rtn: int
) -> None:
    args: dict[str, str] = {"cn": "1062", "cp": "RtdInterval=60"} | overrides
    before = h.settings
    with caplog.at_level(logging.WARNING, logger="uplink.commands"):
        await H.handle(h.request(**args), h.ctx)  # type: ignore[arg-type]
    assert h.answers() == [("9011", f"QnRtn={qn_rtn}")]
    reply = h.sent[0][0]
    assert (reply.qn, reply.st, reply.flag) == (args.get("qn", "20260105120000123"), "91", 4)
    assert h.settings == before and h.store.get_settings("national/o1") == {}
    assert f"QnRtn={qn_rtn}" in caplog.text and args["cn"] in caplog.text


async def test_a_qn_that_cannot_be_echoed_is_logged_and_not_answered(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="uplink.commands"):
        await H.handle(h.request("1062", "RtdInterval=60", qn="2026010512"), h.ctx)
    assert h.sent == [] and h.settings.rtd_interval == 30
    assert "QnRtn=7" in caplog.text


async def test_a_request_without_the_answer_bit_is_not_answered(h: Harness) -> None:
    await H.handle(h.request("1062", "RtdInterval=60", pw="000000", answer=False), h.ctx)
    assert h.sent == []
    await H.handle(h.request("1062", "RtdInterval=60", answer=False), h.ctx)
    assert h.sent == [] and h.settings.rtd_interval == 60  # carried out, silently (Flag A=0)


async def test_an_undecodable_frame_is_logged_not_answered(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Through a real session over TCP: requests with a bad CRC get no answer (hj212.md §1) and one WARNING
    (`log_undecodable`) for a burst of them; the good request after them is answered (9011)."""
    caplog.set_level(logging.DEBUG, logger="uplink")
    got = bytearray()
    peer: asyncio.Future[asyncio.StreamWriter] = asyncio.get_running_loop().create_future()

    async def platform(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer.set_result(writer)
        while chunk := await reader.read(4096):
            got.extend(chunk)

    server = await asyncio.start_server(platform, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = PlatformSettings(name="p", host="127.0.0.1", port=port, mns={"o1": SESSION_MN}, version=2017)
    store = Store(tmp_path / "das.sqlite")
    session = PlatformSession(settings, "o1", store, clock=AgentClock(speed=1), handler=CommandHandler())
    session.start()
    try:
        writer = await asyncio.wait_for(peer, 10)
        good = encode(
            Frame("20260105080000000", settings.st, "1061", "123456", SESSION_MN, 5, Cp.parse("")), settings.dialect
        )
        bad = good[:-6] + (b"0000" if good[-6:-2] != b"0000" else b"FFFF") + b"\r\n"  # same frame, wrong CRC
        writer.write(bad * 3)
        await writer.drain()
        async with asyncio.timeout(10):
            while session.status().bad_frames < 3:
                await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)
        assert bytes(got) == b""  # not answered
        writer.write(good)
        await writer.drain()
        async with asyncio.timeout(10):
            while b"CN=9011" not in got:
                await asyncio.sleep(0.02)
    finally:
        await session.stop(budget=1)
        server.close()
        store.close()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == "uplink.commands"]
    assert len(warnings) == 1 and "QnRtn 9" in warnings[0].getMessage()
    assert "CN=1061" in warnings[0].getMessage() and "PW=******" in warnings[0].getMessage()


def test_a_summary_counts_the_undecodable_frames_in_between(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="uplink.commands"):
        log_undecodable(CrcError("CRC 错误"), h.ctx, b"##0101QN=2016...", repeated=41)
    assert "QnRtn 9" in caplog.text and "41 more" in caplog.text and h.sent == []


async def test_a_failing_service_ends_exe_rtn_2_and_the_handler_survives(h: Harness) -> None:
    class Broken(Devices):
        async def calibrate(self, outlet: str, pol_id: str, kind: int | None) -> bool | None:
            raise RuntimeError("Modbus link down")

    h.ctx.services = h.ctx.services.__class__(clock=h.clock, devices=Broken())
    await H.handle(h.request("3011", "PolId=w01018"), h.ctx)
    assert h.answers() == [("9011", "QnRtn=1"), ("9012", "ExeRtn=2")]
    await H.handle(h.request("1061"), h.ctx)
    assert h.answers()[-1] == ("9012", "ExeRtn=1")
