"""`das demo --duration N` (bounded, as CI runs it): simulators, reference platforms and `das run` as a process;
minute and hour records reach both platforms, then the agent is stopped cleanly (exit 0, store consistent)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from buffer import Store
from hil.platform import PlatformStore


def test_das_demo_runs_the_site_and_stops_cleanly(tmp_path: Path) -> None:
    code = "import sys; from agent.cli import main; sys.argv = ['das', 'demo'] + sys.argv[1:]; main()"
    args = ["--workdir", str(tmp_path), "--duration", "45"]
    run = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert "das platform report --db" in out and "das run --config" in out and "demo finished" in out
    log = (tmp_path / "agent.log").read_text(encoding="utf-8")
    assert "agent_stopped" in log and "first_poll_cycle" in log, log
    for name in ("national", "province"):
        with PlatformStore(tmp_path / f"platform-{name}.sqlite") as platform:
            cns = {f.cn for f in platform.frames(direction="in", verdict="accepted")}
            assert {"2011", "2051", "2061"} <= cns, (name, cns)
    with Store(tmp_path / "das.sqlite") as store:
        assert store.integrity_check() == []
