"""`das platform serve|command|fault|frames` as separate processes sharing one SQLite file; SIGTERM stops cleanly."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from hil.platform import DasClient, PlatformStore
from uplink.hj212 import Cp, Dialect, reply_9011, reply_9012

MN = "010000A8900016F000169DC0"
DAS = "import sys; from agent.cli import main; sys.argv = ['das', *sys.argv[1:]]; main()"


async def das_cli(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", DAS, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_serve_command_fault_and_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "p.sqlite"
    config = tmp_path / "platform.toml"
    config.write_text(f'poll_interval = 0.05\n[[mn]]\nmn = "{MN}"\npw = "123456"\n', encoding="utf-8")
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-c", DAS, "platform", "serve", "--config", str(config), "--port", "0", "--db", str(db),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        line = (await asyncio.wait_for(server.stdout.readline(), 60)).decode()
        port = int(re.search(r":(\d+),", line)[1])  # type: ignore[index]
        das = await DasClient.connect("127.0.0.1", port, Dialect())
        await das.send(das.frame("2011", Cp.build({"DataTime": datetime(2016, 8, 1)}), mn=MN))
        assert (await das.receive_frame()).cn == "9014"

        code, out, _ = await das_cli("platform", "fault", "withhold", "on", "--db", str(db))
        assert code == 0 and "withhold" in out
        code, _, err = await das_cli("platform", "fault", "delay", "soon", "--db", str(db))
        assert code == 2 and "delay" in err

        command = asyncio.create_task(
            das_cli("platform", "command", "set-rtd-interval", "--db", str(db), "--mn", MN, "--seconds", "60",
                    "--wait", "30")
        )  # fmt: skip
        request = await das.receive_frame(timeout=30)
        assert request.cn == "1062" and request.cp.get("RtdInterval") == "60"
        await das.send(reply_9011(request, 1, das.dialect))
        await das.send(reply_9012(request, 1, das.dialect))
        code, out, err = await command
        assert code == 0, err
        assert "done" in out and "9012" in out

        await das.send(das.frame("2011", Cp.build({"DataTime": datetime(2016, 8, 1, 0, 1)}), mn=MN))
        with PlatformStore(db) as store:
            async with asyncio.timeout(10):
                while not store.frames(direction="out", verdict="withheld"):
                    await asyncio.sleep(0.05)
        code, out, _ = await das_cli("platform", "frames", "--db", str(db), "--cn", "9014")
        assert code == 0 and "扣留 withheld" in out and "已发 sent" in out
        await das.close()
    finally:
        server.send_signal(signal.SIGTERM)
        rc = await asyncio.wait_for(server.wait(), 30)
    assert rc == 0
    with PlatformStore(db) as store:
        assert all(c["closed"] for c in store.connections())


async def test_serve_refuses_a_bad_config(tmp_path: Path) -> None:
    config = tmp_path / "platform.toml"
    config.write_text('[[mn]]\nmn = "X"\nversion = 2017\nencrypt = true\n', encoding="utf-8")
    code, _, err = await das_cli("platform", "serve", "--config", str(config), "--db", str(tmp_path / "p.sqlite"))
    assert code == 2 and "encrypt" in err


async def test_serve_plays_a_scenario_and_exits(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(
        f'mn = "{MN}"\n'
        '[[step]]\nfault = "delay"\nvalue = 0.5\n'
        "[[step]]\nwait = 0.05\n"
        '[[step]]\ncommand = "set-time"\nexpect = "no-connection"\ntimeout = 5\n',
        encoding="utf-8",
    )
    db = tmp_path / "p.sqlite"
    args = ("platform", "serve", "--port", "0", "--db", str(db), "--scenario", str(scenario), "--exit-after-scenario")
    code, out, err = await das_cli(*args)
    assert code == 0, err
    assert out.count(": OK") == 3
    scenario.write_text(scenario.read_text().replace('"no-connection"', '"done"'), encoding="utf-8")
    code, out, _ = await das_cli(*args)
    assert code == 1 and "FAIL" in out


def test_every_platform_help_is_chinese_and_english() -> None:
    """Audit of issue 2: `das platform command` options had English-only help (PolId, RtdInterval, …)."""
    import typer
    from typer.main import get_command

    from agent.cli.platform import register

    app = typer.Typer(add_completion=False)
    register(app)
    missing = [where for where, text in _helps(get_command(app)) if not _bilingual(text)]
    assert not missing, missing


def _bilingual(text: str | None) -> bool:
    """`中文 / English`: a CJK character, the separator, then Latin letters."""
    return bool(text) and re.search(r"[\u4e00-\u9fff].* / .*[A-Za-z]", text or "") is not None


def _helps(command: Any, path: str = "das") -> list[tuple[str, str | None]]:
    """Every command's and parameter's help (typer carries its own click, so read the attributes)."""
    out: list[tuple[str, str | None]] = []
    if path != "das":
        out.append((path, command.help))
    for param in command.params:
        if param.name != "help":
            out.append((f"{path} {param.name}", getattr(param, "help", None)))
    for name, sub in getattr(command, "commands", {}).items():
        out.extend(_helps(sub, f"{path} {name}"))
    return out
