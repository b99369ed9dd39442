"""`das read`, `das monitor`, `das simulate` and `das profiles` as a user runs them: separate processes, real TCP."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from drivers.profiles import load_builtin
from hil.sim import SimBus, TcpSimServer
from hil.sim_profiles import ProfileSim

pytestmark = pytest.mark.hil

DAS = [sys.executable, "-c", "import sys; from agent.cli import main; sys.argv[0] = 'das'; main()"]


async def das(*args: str, timeout: float = 60) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *DAS, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def devices_toml(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "devices.toml"
    path.write_text(
        f"""
[links.plc]
type = "tcp"
host = "127.0.0.1"
port = {port}

[devices.cems]
profile = "cems_fpi_cems2000"
link = "plc"
unit = 1
timeout = 0.5
points.humidity = {{ factor = "a01014", range = [0, 30] }}

[devices.cod]
profile = "water_fpi_cod"
link = "plc"
unit = 2
timeout = 0.5
""",
        encoding="utf-8",
    )
    return path


async def test_das_read_prints_factor_value_unit_flag_over_loopback_tcp(tmp_path: Path) -> None:
    cems = ProfileSim(load_builtin("cems_fpi_cems2000"), unit=1, seed=1)
    cod = ProfileSim(load_builtin("water_fpi_cod"), unit=2, seed=2)
    async with TcpSimServer(SimBus([cems.device, cod.device])) as server:
        config = devices_toml(tmp_path, server.port)
        code, out, err = await das("read", "cems", "--config", str(config))
        assert code == 0, err
        lines = out.splitlines()
        assert "cems_fpi_cems2000" in lines[0]
        assert "因子 factor" in lines[1] and "标记 flag" in lines[1]
        so2 = next(line for line in lines if line.startswith("a21026"))
        assert f"{cems.values['so2']:.3g}"[:3] in so2
        assert so2.split()[-1] == "N"
        assert any(line.startswith("3020:") and "i12001=7" in line for line in lines)

        cems.force("calibration")
        code, out, _ = await das("read", "cems", "--config", str(config), "--json")
        assert code == 0
        data = json.loads(out)
        assert data["device"] == "cems"
        so2 = next(p for p in data["points"] if p["factor"] == "a21026")
        assert so2["flag"] == "C"
        assert so2["value"] == pytest.approx(cems.values["so2"], rel=1e-5)
        assert len(so2["raw"]) == 2
        assert data["info"]["i12001"] == 3

        code, out, _ = await das("read", "cod", "--config", str(config), "--json")
        info = json.loads(out)["info"]
        assert info["i13004"] == 165 and info["i12101"] == 1

        cems.no_answer = True
        code, out, _ = await das("read", "cems", "--config", str(config))
        assert code == 1  # every value B: the shell sees the failure
        assert all(line.split()[-1] != "N" for line in out.splitlines() if line.startswith("a2"))
        assert "通讯失败 / communication failed" in out

        code, out, _ = await das("monitor", "--config", str(config), "--count", "1", "--interval", "0.1")
        assert code == 0
        assert "cems [cems_fpi_cems2000] 链路 link plc up" in out
        assert "cod [water_fpi_cod]" in out


async def test_broken_config_names_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "devices.toml"
    config.write_text(
        '[links.a]\ntype = "tcp"\nhost = "127.0.0.1"\n\n[devices.x]\nprofile = "cems_sick_mcs100ft"\nlink = "b"\n',
        encoding="utf-8",
    )
    code, _, err = await das("read", "x", "--config", str(config))
    assert code == 2
    assert f"{config}: devices.x.link: no link named 'b'" in err

    profile = tmp_path / "mine.toml"
    profile.write_text('[device]\nname = "mine"\n', encoding="utf-8")
    config.write_text(
        f'[links.a]\ntype = "tcp"\nhost = "127.0.0.1"\n\n[devices.x]\nprofile = "{profile}"\nlink = "a"\n',
        encoding="utf-8",
    )
    code, _, err = await das("read", "x", "--config", str(config))
    assert code == 2
    assert f"{profile}: device.title: required key missing" in err
    assert f"{profile}: points: required key missing" in err

    code, out, _ = await das("profiles", "--check", str(profile))
    assert code == 1
    code, out, _ = await das("profiles")
    assert code == 0 and "water_fpi_cod" in out and "power_dlt645_2007" in out


async def test_das_simulate_prints_where_and_das_read_reads_it(tmp_path: Path) -> None:
    sim = tmp_path / "sim.toml"
    sim.write_text('[[devices]]\nname = "flow"\nprofile = "flow_em_lmag"\ntransport = "tcp"\n', encoding="utf-8")
    written = tmp_path / "devices.toml"
    proc = await asyncio.create_subprocess_exec(
        *DAS,
        "simulate",
        "--config",
        str(sim),
        "--write-devices",
        str(written),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        header = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert "simulated devices running" in header.decode()
        where = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
        assert "flow  [flow_em_lmag]  →  Modbus TCP 127.0.0.1:" in where
        await asyncio.wait_for(proc.stdout.readline(), 10)  # "devices config written"
        code, out, err = await das("read", "flow", "--config", str(written))
        assert code == 0, err
        flow = next(line for line in out.splitlines() if line.startswith("w00000"))
        assert "m3/h" in flow and flow.split()[-1] == "N"
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 30)
    assert proc.returncode == 0


def site_toml(tmp_path: Path, cems_port: int) -> Path:
    """The demo site's configuration (`[site]` table, outlets, platforms) with the CEMS gateway on `cems_port`."""
    demo = Path(__file__).resolve().parents[2] / "agent" / "config" / "demo_site.toml"
    text = demo.read_text(encoding="utf-8").replace("port = 15020", f"port = {cems_port}", 1)
    path = tmp_path / "agent.toml"
    path.write_text(text, encoding="utf-8")
    return path


async def test_das_read_and_monitor_take_the_site_configuration(tmp_path: Path) -> None:
    """The file `das init` writes and `das run` uses works for read and monitor: an installer checks wiring with
    it. The outlet's factors give the points their codes; other links are down and say so."""
    cems = ProfileSim(load_builtin("cems_fpi_cems2000"), unit=1, seed=1)
    flue = ProfileSim(load_builtin("flue_gas_adam4117"), unit=2, seed=2)
    async with TcpSimServer(SimBus([cems.device, flue.device])) as server:
        config = site_toml(tmp_path, server.port)
        code, out, err = await das("read", "cems", "--config", str(config), "--json")
        assert code == 0, err
        so2 = next(p for p in json.loads(out)["points"] if p["point"] == "so2")
        assert so2["factor"] == "a21026" and so2["flag"] == "N"
        assert so2["value"] == pytest.approx(cems.values["so2"], rel=1e-5)

        code, out, err = await das("monitor", "--config", str(config), "--count", "1", "--interval", "0.1")
        assert code == 0, err
        assert "cems [cems_fpi_cems2000] 链路 link cems_gw up" in out
        assert "flue [flue_gas_adam4117] 链路 link cems_gw up" in out
        assert "cod [water_fpi_cod] 链路 link water_bus down" in out


async def test_config_errors_name_the_file_once_and_the_right_documentation(tmp_path: Path) -> None:
    site = site_toml(tmp_path, 15020)
    site.write_text(site.read_text(encoding="utf-8").replace("[site]\n", "[site]\nbogus = 1\n", 1), encoding="utf-8")
    code, _, err = await das("read", "cems", "--config", str(site))
    assert code == 2
    line = next(line for line in err.splitlines() if "site.bogus" in line)
    assert line.startswith(f"{site}:") and line.count(str(site)) == 1, err
    assert "docs/configuration.md" in line

    devices = tmp_path / "devices.toml"
    devices.write_text('[links.a]\ntype = "tcp"\nhost = "127.0.0.1"\nbogus = 1\n\n[devices]\n', encoding="utf-8")
    code, _, err = await das("read", "x", "--config", str(devices))
    assert code == 2
    assert f"{devices}: links.a.bogus: unknown key" in err  # the key as written: no union tag in between
    assert "a profile may use" not in err and "Devices config" in err
