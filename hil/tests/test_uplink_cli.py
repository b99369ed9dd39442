"""`das uplink test` as a process against the reference platform: OK, wrong password, refused, DNS, store values."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path

import pytest

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
    assert code == 1 and ("DNS" in out or "timed out" in out)
    code, out = await das("uplink", "test", "missing", "-c", str(cfg), "--value", "a21026=1")
    assert code == 2 and "good, badpw" in out
    code, out = await das("uplink", "status", "-c", str(cfg), "--json")
    assert code == 0 and {row["target"] for row in json.loads(out)} == {"good/o1", "badpw/o1", "closed/o1", "nohost/o1"}
