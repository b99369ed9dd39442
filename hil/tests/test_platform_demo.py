"""`das demo --scripted` (the short HJ 212 exchange without the agent) finishes by itself, exits 0 and prints the
exchange both ways. The full demo (`das demo`, what `make demo` runs) is tested in hil/tests/test_e2e_demo.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hil.platform import PlatformStore


def test_das_demo_scripted_exits_0_and_prints_the_exchange(tmp_path: Path) -> None:
    code = "import sys; from agent.cli import main; sys.argv = ['das', 'demo', '--scripted', '--workdir', sys.argv[1]]"
    code += "; main()"
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    for cn in ("CN=2011", "CN=2051", "CN=2061", "CN=9014", "CN=1012", "CN=9011", "CN=9012"):
        assert cn in out
    assert "数采仪 → 平台 DAS → platform" in out and "平台 → 数采仪 platform → DAS" in out
    assert "1012 done (QnRtn=1, ExeRtn=1)" in out and "有效传输率" in out
    db = tmp_path / "platform.sqlite"
    assert str(db) in out and "demo finished" in out
    with PlatformStore(db) as store:
        assert {f.cn for f in store.frames(direction="in")} == {"2011", "2051", "2061", "9011", "9012"}
        assert [c.status for c in store.commands()] == ["done"]
