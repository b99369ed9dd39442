"""`das demo` (simulated meters, the reference platforms, `das run` as a process at 120×): the HJ 212-2025
platform receives ST=44 CN 2011 frames with the demo site's configured d-codes, each value as the agent stored
it from the simulated meters; the 2017 platform gets none. The same meters drive the facilities' 2021 state."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from agent.model import RecordKind
from buffer import Store
from hil.platform import PlatformStore
from uplink.cp_build import power_stream, record_to_cp
from uplink.hj212 import Cp

DW001_2025 = "33010000A8900016F0000002"
DW001_2017 = "010000A8900016F000169DC1"
CODES = {"d20101", "d20201", "d20301", "d20401", "d20501", "d30101", "d30201", "d30301", "d30401", "d30501"}


def test_the_2025_platform_gets_the_meters_as_st44(tmp_path: Path) -> None:
    code = "import sys; from agent.cli import main; sys.argv = ['das', 'demo'] + sys.argv[1:]; main()"
    args = ["--workdir", str(tmp_path), "--duration", "40"]
    run = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    with PlatformStore(tmp_path / "platform-province.sqlite") as platform:
        frames = platform.frames(mn=DW001_2025, cn="2011", direction="in", verdict="accepted")
        power = [f for f in frames if f.st == "44"]
        assert power, [f.st for f in frames]
        got = {f.data_time: f.cp.factors() for f in power if f.cp is not None}
    with PlatformStore(tmp_path / "platform-national.sqlite") as platform:
        national = platform.frames(mn=DW001_2017, cn="2011", direction="in", verdict="accepted")
        assert all(f.st != "44" for f in national)
    begin, end = datetime(2000, 1, 1), datetime.now() + timedelta(days=400)
    with Store(tmp_path / "das.sqlite", readonly=True) as store:
        stored = store.records(power_stream("DW001"), RecordKind.RTD, begin, end)
        states = store.records("DW001", RecordKind.STATE, begin, end)
    decimals = {"d20401": 3, "d30401": 3, "d20501": 1, "d30501": 4}
    by_time = {r.data_time.strftime("%Y%m%d%H%M%S"): r for r in stored}
    for data_time, factors in got.items():
        assert set(factors) == CODES, factors
        record = by_time[data_time]  # every frame is a stored record, its values as stored
        sent = Cp.parse(record_to_cp(record, {c: decimals.get(c, 2) for c in CODES}).text).factors()
        assert factors == sent
    valid = [f for f in got.values() if f["d20101"].get("Flag") == "N"]
    assert valid and all(180 < float(f["d20101"]["Rtd"]) < 260 for f in valid)  # a phase voltage, as simulated
    assert states and {g.factor for s in states for g in s.factors} <= {"SB1", "SB2"}
