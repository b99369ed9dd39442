"""`das run` as a process: every logger of ours (uplink.session, drivers.link.owner, …) goes through the one
structured handler (agent/logs.py) and follows `--log-level`; the platform's going down and coming back are one
line each (style.md §5.5)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from hil.platform import MnConfig, Platform, PlatformConfig

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "agent" / "config" / "demo_site.toml"
STAMPED = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (DEBUG|INFO|WARNING|ERROR|CRITICAL) \S+ ")


def site_config(tmp: Path, national_port: int, province_port: int = 1, *, pw_from_env: bool = False) -> Path:
    """The demo site with its HJ 212-2017 platform at `national_port`, fast reconnects, the 2025 one at
    `province_port` (1: nothing listens, it stays down); `pw_from_env`: the national PW is `$DAS_SECRET_NATIONAL_PW`."""
    text = DEMO.read_text(encoding="utf-8")
    fast = "backoff_min_s = 0.2\nbackoff_max_s = 0.5\n"
    text = text.replace("port = 19001\n", f"port = {national_port}\n{fast}")
    text = text.replace("port = 19002\n", f"port = {province_port}\n{fast}")
    if pw_from_env:
        text = text.replace('pw = "123456"                           # 现场请用', "# 现场请用", 1)
    path = tmp / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


class DasRun:
    """`das run` in a subprocess; its merged stdout/stderr collected line by line."""

    def __init__(self, config: Path, state: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.command = [sys.executable, "-c", "from agent.cli import main; main()", "run", "--config", str(config)]
        self.command += ["--state-dir", str(state), *args]
        self.env = {k: v for k, v in os.environ.items() if k not in ("JOURNAL_STREAM", "NOTIFY_SOCKET")}
        self.env.update(env or {})
        self.lines: list[str] = []
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        async for raw in proc.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    async def wait_for(self, found: Callable[[str], bool], timeout: float) -> str:
        async with asyncio.timeout(timeout):
            while True:
                hit = next((line for line in self.lines if found(line)), None)
                if hit is not None:
                    return hit
                assert self._proc is not None and self._proc.returncode is None, "\n".join(self.lines[-40:])
                await asyncio.sleep(0.1)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[DasRun]:
        self._proc = await asyncio.create_subprocess_exec(
            *self.command,
            cwd=REPO,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        self._reader = asyncio.create_task(self._read(self._proc))
        try:
            yield self
        finally:
            if self._proc.returncode is None:
                self._proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(self._proc.wait(), 30)
                except TimeoutError:
                    self._proc.kill()
                    await self._proc.wait()
            await asyncio.wait_for(self._reader, 10)


@pytest.mark.timeout(240)
async def test_platform_down_and_back_are_one_structured_line_each(tmp_path: Path) -> None:
    async with Platform(PlatformConfig(poll_interval=0.05), tmp_path / "platform.sqlite") as platform:
        config = site_config(tmp_path, platform.port)
        target = "national/DA001"
        async with DasRun(config, tmp_path / "state", "--log-level", "INFO").running() as das:
            await das.wait_for(lambda line: target in line and "已连接 / connected" in line, timeout=120)
            await platform.set_fault("refuse", True)
            platform.drop()  # the open connection goes too: the DAS sees the platform down
            await das.wait_for(lambda line: target in line and "platform down" in line, timeout=60)
            await asyncio.sleep(1.5)  # some refused reconnects (backoff ≤ 0.5 s)
            await platform.set_fault("refuse", False)
            await das.wait_for(lambda line: target in line and "platform back" in line, timeout=60)
        lines = das.lines

    ours = [line for line in lines if f" uplink.session {target}:" in line]
    down = [line for line in ours if "platform down" in line]
    back = [line for line in ours if "platform back" in line]
    assert len(down) == 1 and " WARNING uplink.session " in down[0], ours
    assert len(back) == 1 and " INFO uplink.session " in back[0], ours
    assert all(STAMPED.match(line) for line in ours), ours
    # INFO of our loggers passes at --log-level INFO; nothing of ours reaches the terminal unformatted
    assert not [line for line in lines if line.startswith(("uplink.", "drivers.", "agent."))], lines[-40:]
    assert not [line for line in ours if " DEBUG " in line]


NATIONAL_MN = "010000A8900016F000169DC0"
PROVINCE_MN = "33010000A8900016F0000001"
OLD_PW, NEW_PW, NEW_KEY = "Qz7Wx1", "Kp4Rt9", "Hv3Ns8Lm2Qc6Bx5J"


@pytest.mark.timeout(240)
async def test_passwords_and_keys_never_reach_the_log(tmp_path: Path) -> None:
    """At DEBUG, with the PW from the environment, a 1072 (NewPW) and a 2025 1014 (NewSK) leave no secret in
    the log: every frame or CP a log line shows has PW, NewPW and NewSK masked (uplink/commands/redact.py)."""
    mns = (MnConfig(mn=NATIONAL_MN, pw=OLD_PW), MnConfig(mn=PROVINCE_MN, version=2025))
    async with Platform(PlatformConfig(mns=mns, poll_interval=0.05), tmp_path / "platform.sqlite") as platform:
        config = site_config(tmp_path, platform.port, platform.port, pw_from_env=True)
        env = {"DAS_SECRET_NATIONAL_PW": OLD_PW}
        async with DasRun(config, tmp_path / "state", "--log-level", "DEBUG", env=env).running() as das:
            for target in ("national/DA001", "province/DA001"):
                await das.wait_for(lambda line, t=target: t in line and "已连接 / connected" in line, timeout=120)
            row = await platform.command(NATIONAL_MN, "set-password", {"password": NEW_PW})
            assert row.status == "done", row
            cp = f"SKCreateTime=20260105080000000,NewSK={NEW_KEY}"
            row = await platform.command(PROVINCE_MN, "raw", {"cn": "1014", "cp": cp})
            await das.wait_for(lambda line: "CN=1014" in line and "NewSK=" in line, timeout=30)
        log = "\n".join(das.lines)
    leaked = [line for line in log.splitlines() if any(s in line for s in (OLD_PW, NEW_PW, NEW_KEY))]
    assert leaked == []
    assert "CN=1072" in log and "NewPW=******" in log  # the command was logged, masked
