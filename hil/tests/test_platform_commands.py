"""Platform→DAS commands and the DAS answers the platform records and links (hj212.md §8 command flow)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from hil.platform import DasClient, MnConfig, Platform, PlatformConfig, PlatformStore, load_scenario, run_scenario
from uplink.hj212 import Cp, Dialect, Frame, reply_9011, reply_9012

MN = "010000A8900016F000169DC0"
D2017 = Dialect()


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    config = PlatformConfig(mns=(MnConfig(mn=MN),), poll_interval=0.05, command_timeout=5.0)
    async with Platform(config, tmp_path / "p.sqlite") as server:
        yield server


@pytest.fixture
async def das(platform: Platform) -> AsyncIterator[DasClient]:
    """A connected DAS the platform knows (it learns an MN from its first frame)."""
    client = await DasClient.connect("127.0.0.1", platform.port, D2017)
    await client.send(client.frame("2011", Cp.build({"DataTime": datetime(2016, 8, 1, 8, 58, 57)}), mn=MN))
    assert (await client.receive_frame()).cn == "9014"
    await platform.wait_connected(MN)
    yield client
    await client.close()


async def answer(das: DasClient, request: Frame, *data: Frame, qn_rtn: int = 1, exe_rtn: int | None = 1) -> None:
    await das.send(reply_9011(request, qn_rtn, D2017))
    for frame in data:
        await das.send(frame)
    if exe_rtn is not None:
        await das.send(reply_9012(request, exe_rtn, D2017))


async def test_set_time_is_answered_9011_9012_and_recorded(platform: Platform, das: DasClient) -> None:
    command_id = await platform.send_command(MN, "set-time", {"time": "20260101120000"})
    request = await das.receive_frame()
    assert request.cn == "1012" and request.wants_answer and request.mn == MN and request.pw == "123456"
    assert request.cp.get("SystemTime") == "20260101120000"
    await answer(das, request)
    row = await platform.wait_command(command_id, timeout=5)
    assert (row.status, row.qn_rtn, row.exe_rtn, row.qn) == ("done", 1, 1, request.qn)
    linked = platform.store.frames(command_id=command_id)
    assert [(f.direction, f.cn) for f in linked] == [("out", "1012"), ("in", "9011"), ("in", "9012")]


async def test_set_time_without_time_uses_the_platform_clock(platform: Platform, das: DasClient) -> None:
    before = datetime.now().replace(microsecond=0)
    await platform.send_command(MN, "set-time")
    request = await das.receive_frame()
    sent = request.cp.time("SystemTime")
    assert before <= sent <= datetime.now()


async def test_history_request_links_the_data_between_9011_and_9012(platform: Platform, das: DasClient) -> None:
    args = {"kind": "hour", "begin": "20160801000000", "end": "20160801010000"}
    command_id = await platform.send_command(MN, "history", args)
    request = await das.receive_frame()
    assert request.cn == "2061"
    assert request.cp.get("BeginTime") == "20160801000000" and request.cp.get("EndTime") == "20160801010000"
    records = [
        das.frame("2061", Cp.build({"DataTime": datetime(2016, 8, 1, h)}, [("w01018", {"Avg": 40.1, "Flag": "N"})]),
                  mn=MN, answer=False, qn=f"2016080109000000{h}")
        for h in (0, 1)
    ]  # fmt: skip
    await answer(das, request, *records)
    row = await platform.wait_command(command_id, timeout=5)
    assert row.status == "done"
    data = platform.store.frames(command_id=command_id, cn="2061", direction="in")
    assert [f.data_time for f in data] == ["20160801000000", "20160801010000"]


async def test_refused_command(platform: Platform, das: DasClient) -> None:
    command_id = await platform.send_command(MN, "set-rtd-interval", {"seconds": 60})
    request = await das.receive_frame()
    assert request.cp.get("RtdInterval") == "60"
    await answer(das, request, qn_rtn=2, exe_rtn=None)
    row = await platform.wait_command(command_id, timeout=5)
    assert (row.status, row.qn_rtn) == ("refused", 2)


async def test_failed_execution(platform: Platform, das: DasClient) -> None:
    command_id = await platform.send_command(MN, "set-min-interval", {"minutes": 10})
    request = await das.receive_frame()
    await answer(das, request, exe_rtn=100)
    row = await platform.wait_command(command_id, timeout=5)
    assert (row.status, row.exe_rtn) == ("failed", 100)


async def test_unanswered_command_times_out(tmp_path: Path) -> None:
    config = PlatformConfig(mns=(MnConfig(mn=MN),), poll_interval=0.05, command_timeout=0.3)
    async with Platform(config, tmp_path / "p.sqlite") as server:
        client = await DasClient.connect("127.0.0.1", server.port, D2017)
        await client.send(client.frame("2011", Cp.build({"DataTime": datetime(2016, 8, 1)}), mn=MN, answer=False))
        await server.wait_connected(MN)
        command_id = await server.send_command(MN, "get-time")
        row = await server.wait_command(command_id, timeout=5)
        assert row.status == "timeout" and "9011" in (row.detail or "")
        await client.close()


async def test_command_to_an_mn_that_is_not_connected(platform: Platform) -> None:
    row = await platform.command("NOBODY", "set-time", timeout=5)
    assert row.status == "no-connection"


async def test_command_queued_by_another_process_is_sent(platform: Platform, das: DasClient) -> None:
    """What `das platform command --db FILE --mn MN set-password --password abc123` does."""
    with PlatformStore(platform.store.path) as other:
        command_id = other.queue_command(
            mn=MN, cn="1072", cp="", source="cli", at=datetime.now(), kind="set-password", args={"password": "abc123"}
        )
        request = await das.receive_frame()
        assert request.cn == "1072" and request.cp.get("NewPW") == "abc123"
        await answer(das, request)
        row = await platform.wait_command(command_id, timeout=5)
        assert row.status == "done" and other.command(command_id).status == "done"  # type: ignore[union-attr]


async def test_time_calibration_request_gets_9013_then_a_set_time(platform: Platform, das: DasClient) -> None:
    await das.send(das.frame("1013", Cp(), mn=MN, qn="20160801085900001"))
    ack = await das.receive_frame()
    assert (ack.cn, ack.qn) == ("9013", "20160801085900001")
    request = await das.receive_frame()
    assert request.cn == "1012" and request.cp.get("SystemTime") is not None
    [command] = platform.store.commands(mn=MN)
    assert command.source == "auto"


async def test_scenario_file_plays_its_steps(platform: Platform, das: DasClient, tmp_path: Path) -> None:
    path = tmp_path / "scenario.toml"
    path.write_text(
        f"""
mn = "{MN}"
[[step]]
connect = true
timeout = 5
[[step]]
command = "set-rtd-interval"
args = {{ seconds = 30 }}
expect = "done"
timeout = 5
[[step]]
fault = "withhold"
value = "on"
[[step]]
wait = 0.05
[[step]]
command = "get-time"
expect = "done"
timeout = 5
""",
        encoding="utf-8",
    )

    async def das_side() -> None:
        first = await das.receive_frame()
        await answer(das, first)
        second = await das.receive_frame()
        await answer(das, second, qn_rtn=2, exe_rtn=None)  # the last step's expectation fails

    helper = asyncio.create_task(das_side())
    results = await run_scenario(platform, load_scenario(path))
    await helper
    assert [r.ok for r in results] == [True, True, True, True, False]
    assert platform.faults.withhold
    assert "refused" in results[-1].detail


async def test_after_a_password_change_the_new_pw_is_expected(platform: Platform, das: DasClient) -> None:
    command_id = await platform.send_command(MN, "set-password", {"password": "Zx9876"})
    request = await das.receive_frame()
    await das.send(reply_9011(request, 1, D2017))
    await das.send(reply_9012(replace(request, pw="Zx9876"), 1, D2017))  # this DAS already signs with the new PW
    assert (await platform.wait_command(command_id, timeout=5)).status == "done"
    await das.send(das.frame("2011", Cp.build({"DataTime": datetime(2016, 8, 1, 9)}), mn=MN, pw="Zx9876"))
    assert (await das.receive_frame()).cn == "9014"
    await das.send(das.frame("2011", Cp.build({"DataTime": datetime(2016, 8, 1, 10)}), mn=MN, pw="123456"))
    refusal = await das.receive_frame()
    assert refusal.cn == "9011" and refusal.cp.get("QnRtn") == "3"
    await platform.send_command(MN, "get-time")
    assert (await das.receive_frame()).pw == "Zx9876"
