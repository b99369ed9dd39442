"""`das uplink test` as a process against the reference platform: OK, wrong password, refused, DNS, connect
timeout, CRC (a QnRtn 9 answer and an answer with a bad CRC), no answer, a wrong SM4 key, store values."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sys
from datetime import datetime
from pathlib import Path

import pytest
from hj212_wire import read_frame, wire

from buffer import Store
from hil.platform import MnConfig, Platform, PlatformConfig
from uplink.testing import rtd_record

pytestmark = pytest.mark.hil

MN = "MNCLI0001"


async def das(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from agent.cli import main; main()",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode()


def write_config(path: Path, port: int, store: Path) -> Path:
    path.write_text(
        f"""store = "{store}"

[[platforms]]
name = "good"
host = "127.0.0.1"
port = {port}
pw = "654321"
mns = {{ o1 = "{MN}" }}

[[platforms]]
name = "badpw"
host = "127.0.0.1"
port = {port}
mns = {{ o1 = "{MN}" }}

[[platforms]]
name = "closed"
host = "127.0.0.1"
port = 1
mns = {{ o1 = "{MN}" }}

[[platforms]]
name = "nohost"
host = "no-such-host.invalid"
port = 9000
connect_timeout_s = 5
mns = {{ o1 = "{MN}" }}
""",
        encoding="utf-8",
    )
    return path


async def test_uplink_test_says_what_is_wrong(tmp_path: Path) -> None:
    store_path = tmp_path / "das.sqlite"
    with Store(store_path) as store:
        store.put_record(rtd_record("o1", datetime.now().replace(microsecond=0), 3))
    config = PlatformConfig(mns=(MnConfig(mn=MN, pw="654321"),), poll_interval=0.05)
    async with Platform(config, tmp_path / "platform.sqlite") as platform:
        cfg = write_config(tmp_path / "uplink.toml", platform.port, store_path)

        code, out = await das("uplink", "test", "good", "-c", str(cfg), "--value", "a21026=12.3", "--json")
        result = json.loads(out)
        assert code == 0 and result["ok"] and "CN=9014" in result["answer"] and result["rtt_ms"] is not None
        assert "a21026-Rtd=12.3" in result["sent"]
        assert "PW=******" in result["sent"] and "654321" not in out  # the password is never printed

        code, out = await das("uplink", "test", "good", "-c", str(cfg))  # values from the store's latest rtd
        assert code == 0 and "成功 / OK" in out and "a21026-Rtd=" in out
        assert "PW=******" in out and "654321" not in out
        stored = platform.store.frames(mn=MN, cn="2011", direction="in")
        assert len(stored) == 2

        code, out = await das("uplink", "test", "badpw", "-c", str(cfg))
        assert code == 1 and "wrong password" in out and "QnRtn=3" in out

    code, out = await das("uplink", "test", "closed", "-c", str(cfg), "--value", "a21026=1")
    assert code == 1 and "refused" in out
    code, out = await das("uplink", "test", "nohost", "-c", str(cfg), "--value", "a21026=1")
    assert code == 1 and "DNS" in out and "no-such-host.invalid" in out
    code, out = await das("uplink", "test", "missing", "-c", str(cfg), "--value", "a21026=1")
    assert code == 2 and "good, badpw" in out
    code, out = await das("uplink", "status", "-c", str(cfg), "--json")
    assert code == 0 and {row["target"] for row in json.loads(out)} == {"good/o1", "badpw/o1", "closed/o1", "nohost/o1"}


MN2025 = "MNCLI2025"


async def _answer_crc_error(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A platform that answers every frame 9011 QnRtn=9 (it computed another CRC)."""
    with contextlib.suppress(asyncio.IncompleteReadError, TimeoutError, ConnectionError):
        while True:
            request = (await read_frame(reader, timeout=30)).decode()
            qn = request.split("QN=", 1)[1].split(";", 1)[0]
            writer.write(wire(f"QN={qn};ST=91;CN=9011;PW=654321;MN={MN};Flag=4;CP=&&QnRtn=9&&"))
            await writer.drain()
    writer.close()


async def test_uplink_test_names_timeout_crc_silence_and_a_wrong_sm4_key(tmp_path: Path) -> None:
    never_accepts = socket.socket()  # listening, its one-slot accept queue full: a connect times out
    never_accepts.bind(("127.0.0.1", 0))
    never_accepts.listen(0)
    filler = [socket.create_connection(never_accepts.getsockname(), timeout=5)]
    crc_server = await asyncio.start_server(_answer_crc_error, "127.0.0.1", 0)
    mns = (MnConfig(mn=MN, pw="654321"), MnConfig(mn=MN2025, version=2025, encrypt=True, sm4_key="fedcba9876543210"))
    try:
        async with Platform(PlatformConfig(mns=mns, poll_interval=0.05), tmp_path / "platform.sqlite") as platform:
            common = 'pw = "654321"\nover_time = 2\n'
            path = tmp_path / "uplink.toml"
            path.write_text(
                f"""
[[platforms]]
name = "ref"
host = "127.0.0.1"
port = {platform.port}
{common}mns = {{ o1 = "{MN}" }}

[[platforms]]
name = "crc9"
host = "127.0.0.1"
port = {crc_server.sockets[0].getsockname()[1]}
{common}mns = {{ o1 = "{MN}" }}

[[platforms]]
name = "stuck"
host = "127.0.0.1"
port = {never_accepts.getsockname()[1]}
connect_timeout_s = 1
{common}mns = {{ o1 = "{MN}" }}

[[platforms]]
name = "sm4"
host = "127.0.0.1"
port = {platform.port}
version = 2025
encrypt = true
sm4_key = "0123456789abcdef"
{common}mns = {{ o1 = "{MN2025}" }}
""",
                encoding="utf-8",
            )
            args = ("-c", str(path), "--value", "a21026=1")
            code, out = await das("uplink", "test", "stuck", *args)
            assert code == 1 and "timed out" in out and "DNS" not in out, out

            code, out = await das("uplink", "test", "crc9", *args)
            assert code == 1 and "CRC" in out and "QnRtn=9" in out, out

            await platform.set_fault("bad-crc", True)
            code, out = await das("uplink", "test", "ref", *args)
            assert code == 1 and "bad CRC" in out, out
            await platform.set_fault("bad-crc", False)

            await platform.set_fault("withhold", True)
            code, out = await das("uplink", "test", "ref", *args)
            assert code == 1 and "no answer within OverTime 2 s" in out, out
            await platform.set_fault("withhold", False)

            code, out = await das("uplink", "test", "sm4", *args)
            assert code == 1 and "SM4 密钥可能不符 / SM4 key may not match" in out, out
            assert "\x00" not in out and "0123456789abcdef" not in out
    finally:
        crc_server.close()
        for sock in (*filler, never_accepts):
            sock.close()
