"""`das simulate` with runtime faults and CSV playback, as a user runs it: the simulators in one process, faults
switched from another (`das simulate fault`), every read through `das read` and the real driver stack."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

pytestmark = pytest.mark.hil

DAS = [sys.executable, "-c", "import sys; from agent.cli import main; sys.argv[0] = 'das'; main()"]
ROOT = Path(__file__).resolve().parents[2]


async def das(*args: str, timeout: float = 60) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *DAS, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def read(devices: Path, name: str) -> tuple[int, dict[str, dict[str, object]]]:
    code, out, err = await das("read", name, "--config", str(devices), "--json")
    assert out, err
    return code, {p["point"]: p for p in json.loads(out)["points"]}


@asynccontextmanager
async def simulate(tmp_path: Path, config: str) -> AsyncIterator[tuple[Path, Path]]:
    sim = tmp_path / "sim.toml"
    sim.write_text(config, encoding="utf-8")
    devices, control = tmp_path / "devices.toml", tmp_path / "control"
    proc = await asyncio.create_subprocess_exec(
        *DAS, "simulate", "--config", str(sim), "--write-devices", str(devices), "--control", str(control),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        while True:
            line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
            assert line, "das simulate ended early"
            if "das simulate fault" in line:
                break
        yield devices, control
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 30)
    assert proc.returncode == 0
    assert not (control / "devices.json").exists()  # a stopped simulator no longer answers fault switches


async def switch(control: Path, device: str, kind: str, state: str, *extra: str) -> None:
    code, out, err = await das("simulate", "fault", "--control", str(control), device, kind, state, *extra)
    assert code == 0, out + err
    assert f"applied: {device} {kind} {state}" in out


async def test_faults_switch_at_runtime_and_recover(tmp_path: Path) -> None:
    config = """
[[devices]]
name = "cems"
profile = "cems_fpi_cems2000"
port = 0

[[devices]]
name = "ai"
profile = "ai8_c2000_sax0800"  # loop currents in µA: both 0 mA and 20.6 mA show (an ADAM-4117 saturates at 20)
port = 0
"""
    async with simulate(tmp_path, config) as (devices, control):
        code, cems = await read(devices, "cems")
        assert code == 0 and cems["so2"]["flag"] == "N"

        await switch(control, "cems", "no_answer", "on")
        code, cems = await read(devices, "cems")
        assert code == 1 and {p["flag"] for p in cems.values()} == {"B"}
        assert all(p["value"] is None for p in cems.values())
        await switch(control, "cems", "no_answer", "off")
        code, cems = await read(devices, "cems")
        assert code == 0 and cems["so2"]["flag"] == "N" and cems["so2"]["value"] is not None

        await switch(control, "cems", "exception", "on", "--code", "2")
        code, cems = await read(devices, "cems")
        assert cems["so2"]["flag"] == "B" and "0x02" in str(cems["so2"]["note"])
        await switch(control, "cems", "exception", "off")

        _, ai = await read(devices, "ai")
        assert ai["ai1"]["flag"] == "N"
        await switch(control, "ai", "wire_break", "on")
        _, ai = await read(devices, "ai")
        assert ai["ai1"]["flag"] == "D" and ai["ai1"]["value"] is None  # NE 43: a fault, never a zero
        await switch(control, "ai", "wire_break", "off")
        await switch(control, "ai", "out_of_range", "on")
        _, ai = await read(devices, "ai")
        assert ai["ai1"]["flag"] == "T"
        await switch(control, "ai", "out_of_range", "off")
        _, ai = await read(devices, "ai")
        assert ai["ai1"]["flag"] == "N"

        code, _, err = await das("simulate", "fault", "--control", str(control), "cems", "wire_break", "on")
        assert code == 2 and "does not support 'wire_break'" in err  # a CEMS has no 4-20 mA loop
        code, _, err = await das("simulate", "fault", "--control", str(control), "nope", "stuck", "on")
        assert code == 2 and "no simulated device 'nope'" in err
    code, _, err = await das("simulate", "fault", "--control", str(control), "cems", "stuck", "on")
    assert code == 2 and "no running das simulate" in err


async def test_playback_follows_the_csv_on_the_agent_clock(tmp_path: Path) -> None:
    (tmp_path / "log.csv").write_text(
        "time,so2,o2\n2000-01-01T00:00:00,12.5,9.25\n2100-01-01T00:00:00,99.0,1.0\n", encoding="utf-8"
    )
    (tmp_path / "steps.csv").write_text("t,so2\n0,21.5\n3,42.75\n", encoding="utf-8")
    config = """
[[devices]]
name = "logged"
profile = "cems_fpi_cems2000"
port = 0
playback = "log.csv"

[[devices]]
name = "stepped"
profile = "cems_fpi_cems2000"
port = 0
unit = 2
playback = "steps.csv"
"""
    async with simulate(tmp_path, config) as (devices, _):
        _, logged = await read(devices, "logged")
        assert logged["so2"]["value"] == pytest.approx(12.5, rel=1e-6)  # the row in effect now; 2100 is ahead
        assert logged["o2"]["value"] == pytest.approx(9.25, rel=1e-6)
        assert logged["so2"]["flag"] == "N"
        seen: list[float] = []
        for _ in range(60):  # the 3 s row arrives on the simulator's clock; reads never see another value
            _, stepped = await read(devices, "stepped")
            value = stepped["so2"]["value"]
            assert isinstance(value, float)
            seen.append(value)
            if value == pytest.approx(42.75, rel=1e-6):
                break
            await asyncio.sleep(0.5)
        assert seen[-1] == pytest.approx(42.75, rel=1e-6), seen
        assert all(v == pytest.approx(21.5, rel=1e-6) for v in seen[:-1]), seen


async def test_playback_errors_name_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("t,so2,bogus\n0,1,2\n", encoding="utf-8")
    (tmp_path / "sim.toml").write_text(
        '[[devices]]\nprofile = "cems_fpi_cems2000"\nplayback = "bad.csv"\n', encoding="utf-8"
    )
    code, _, err = await das("simulate", "--config", str(tmp_path / "sim.toml"), "--duration", "1")
    assert code == 2
    assert "devices[0].playback: columns bogus are not points of cems_fpi_cems2000" in err

    (tmp_path / "sim.toml").write_text(
        '[[devices]]\nprofile = "cems_fpi_cems2000"\n\n[[devices]]\nprofile = "ai8_adam4117"\nunit = 1\n',
        encoding="utf-8",
    )
    code, _, err = await das("simulate", "--config", str(tmp_path / "sim.toml"), "--duration", "1")
    assert code == 2 and "devices[1].unit: unit 1 is already devices[0]'s on that bus" in err


def test_faults_map_onto_each_kind_of_simulator() -> None:
    """A meter and a DCON module take the same fault names as a Modbus device (what they can show)."""
    from drivers.profiles import load_builtin
    from hil.sim_meters import SimMeter, TextAnalyzerSim
    from hil.sim_profiles import ProfileSim
    from hil.simulate import FAULT_KINDS, apply_fault, fault_kinds

    meter = SimMeter("000000000161")
    assert fault_kinds(meter) == ["no_answer", "exception", "garbage", "disconnect", "stuck"]
    apply_fault(meter, "exception", True)
    assert meter.faults.error_code == 0x02
    apply_fault(meter, "disconnect", True)
    assert meter.faults.silent
    with pytest.raises(ValueError, match="supports"):
        apply_fault(meter, "wire_break", True)

    normal = (10.0, 12.0)
    module = TextAnalyzerSim("/nonexistent", set_points=normal)
    assert fault_kinds(module) == list(FAULT_KINDS)
    apply_fault(module, "wire_break", True, set_points=normal)
    assert module.set_points == (0.0, 0.0)
    apply_fault(module, "wire_break", False, set_points=normal)
    assert module.set_points == normal
    apply_fault(module, "exception", True)
    assert module.faults.error_reply

    cems = ProfileSim(load_builtin("cems_fpi_cems2000"))
    assert "wire_break" not in fault_kinds(cems)
    apply_fault(cems, "exception", True, "0x06")
    assert cems.faults.exception == 6
    with pytest.raises(ValueError, match="exception code"):
        apply_fault(cems, "exception", True, "300")
