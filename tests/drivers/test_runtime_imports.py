"""pymodbus is a test and benchmark peer, not a runtime dependency (docs/drivers.md, "Why our own framing").

The agent, every `das` command (scan and simulate included) and the shipped simulators must run on a box where
pymodbus is not installed; the interop tests and the benchmark use it as the independent implementation.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_runtime_module_imports_pymodbus() -> None:
    script = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        import agent.cli
        agent.cli._load_commands()
        names = ["drivers.link.scan", "drivers.reader", "hil.sim", "hil.sim_profiles", "hil.simulate",
                 "hil.sim_meters.dlt645", "hil.sim_meters.serialtext", "agent.daemon"]
        for name in names:
            importlib.import_module(name)
        for probe in __import__("drivers.link.scan", fromlist=["load_probes"]).load_probes():
            pass
        loaded = sorted(m for m in sys.modules if m == "pymodbus" or m.startswith("pymodbus."))
        print(",".join(loaded) or "none")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "none"
