"""`das config check`, `das config sample` and `das init` through the real CLI (typer's runner and a process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from config_site import SITE, edit, write
from typer.testing import CliRunner

from agent.cli import _load_commands, app
from agent.config import load_config, parse_config
from agent.config.sample import sample_text

DEMO = Path(__file__).resolve().parents[2] / "agent" / "config" / "demo_site.toml"

_load_commands()
runner = CliRunner()


def das(*args: str, env: dict[str, str] | None = None, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env=env, input=input)


def test_check_demo_site_prints_what_will_run() -> None:
    result = das("config", "check", str(DEMO))
    assert result.exit_code == 0, result.output
    out = result.output
    for text in (
        "演示热电有限公司",
        "cems_gw: TCP 127.0.0.1:15020 (Modbus TCP)",
        "meter_plant",
        "[power_dlt645_2007]",
        "a21026     二氧化硫 SO2",
        "w21003     氨氮 NH3-N",
        "national: HJ 212-2017",
        "province: HJ 212-2025",
        "DW001 → MN 010000A8900016F000169DC1  ST 32",
        "disk budget: 2048 MiB",
        "configuration OK",
    ):
        assert text in out, text


def test_check_reports_problems_and_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, edit('link = "meters"\n', 'link = "rs485_9"\n'))
    result = das("config", "check", str(path))
    assert result.exit_code == 2
    assert f"{path}:" in result.output and "devices.meter.link" in result.output


def test_check_never_shows_a_secret(tmp_path: Path) -> None:
    text = edit("port = 9001\n", 'port = 9001\npw = { secret = "nat_pw" }\n')
    path = write(tmp_path, text)
    result = das("config", "check", str(path), env={"DAS_SECRET_NAT_PW": "Zq7x9k"})
    assert result.exit_code == 0, result.output
    assert "Zq7x9k" not in result.output
    assert "nat_pw ← $DAS_SECRET_NAT_PW" in result.output
    assert "Zq7x9k" not in repr(load_config(path, environ={"DAS_SECRET_NAT_PW": "Zq7x9k"}))


def test_sample_validates_and_shows_every_section(tmp_path: Path) -> None:
    result = das("config", "sample")
    assert result.exit_code == 0
    assert result.output == sample_text()
    config = parse_config(result.output, "sample.toml", environ={})
    assert set(config.outlets) == {"DA001", "DW001"} and set(config.platforms) == {"national", "province"}
    for header in (
        "[site]",
        "[retention]",
        "[statistics]",
        "[links.rs485_1]",
        "[[outlets.DA001.factors]]",
        "[mqtt.cloud]",
    ):
        assert header in result.output
    # Unset keys appear commented out with their default, and comments are bilingual.
    assert "# over_time = 10.0  # 超时时间 s" in result.output
    assert "# min_valid" not in result.output


def test_init_from_flags_writes_a_config_that_checks(tmp_path: Path) -> None:
    out = tmp_path / "das.toml"
    result = das(
        "init", "-y", "-o", str(out), "--site", "测试电厂",
        "--device", "cems_sdl_scs900@/dev/ttyS1:1",
        "--device", "flue_gas_adam4117@/dev/ttyS1:2",
        "--device", "cod=water_fpi_cod@10.0.0.5:502:1",
        "--device", "power_dlt645_2007@/dev/ttyS3:000000193600",
        "--platform", "national=127.0.0.1:9001",
        "--platform", "province=127.0.0.1:9002@2025",
        "--mn", "DA001=010000A8900016F000169DC0", "--mn", "DW001=010000A8900016F000169DC1",
        "--duct-area", "3.14", "--reference-o2", "6",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "# 站点名称" in text and "[[outlets.DA001.factors]]" in text
    config = load_config(out, environ={})
    assert config.outlets["DA001"].duct_area == 3.14
    assert {f.code for f in config.outlets["DA001"].factors} >= {"a21026", "a19001", "a01011", "a34013"}
    assert [f.code for f in config.outlets["DW001"].factors] == ["w01018"]
    assert config.platforms["province"].version == 2025
    assert config.devices["meter"].address == "000000193600"
    check = das("config", "check", str(out))
    assert check.exit_code == 0, check.output


def test_init_without_duct_area_leaves_the_velocity_out(tmp_path: Path) -> None:
    out = tmp_path / "das.toml"
    result = das("init", "-y", "-o", str(out), "--site", "x", "--device", "flue_gas_adam4117@/dev/ttyS1:2")
    assert result.exit_code == 0, result.output
    assert "a01011" not in out.read_text(encoding="utf-8")


def test_init_from_answers_on_stdin(tmp_path: Path) -> None:
    out = tmp_path / "das.toml"
    answers = "\n".join(
        [
            "问答电厂",  # site
            "water_fpi_cod@/dev/ttyS1:1",
            "ph_bh485@/dev/ttyS1:2",
            "",  # end of devices
            "national=127.0.0.1:9001",
            "",  # end of platforms
            "010000A8900016F000169DC1",  # MN of DW001
        ]
    )
    result = das("init", "-o", str(out), input=answers + "\n")
    assert result.exit_code == 0, result.output
    assert "cems_sick_mcs100ft" in result.output  # the profiles are listed to choose from
    config = load_config(out, environ={})
    assert config.site.name == "问答电厂"
    assert config.platforms["national"].mns == {"DW001": "010000A8900016F000169DC1"}
    assert [f.code for f in config.outlets["DW001"].factors] == ["w01018", "w01001", "w01010"]  # COD, pH, water temp


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--device", "nosuch@/dev/ttyS1:1"], "nosuch"),
        (["--device", "power_dlt645_2007@/dev/ttyS1:1"], "12-digit"),
        (["--device", "water_fpi_cod@/dev/ttyS1:999"], "1-255"),
        (["--device", "water_fpi_cod@/dev/ttyS1:1", "--platform", "p=h:1"], "--mn"),
    ],
)
def test_init_rejects_unusable_flags(tmp_path: Path, flags: list[str], message: str) -> None:
    out = tmp_path / "das.toml"
    result = das("init", "-y", "-o", str(out), "--site", "x", *flags)
    assert result.exit_code == 2
    assert message in result.output
    assert not out.exists()


def test_init_does_not_overwrite(tmp_path: Path) -> None:
    out = write(tmp_path, SITE)
    result = das("init", "-y", "-o", str(out), "--site", "x", "--device", "water_fpi_cod@/dev/ttyS1:1")
    assert result.exit_code == 2 and out.read_text(encoding="utf-8") == SITE


def test_das_config_check_as_a_process() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAS_SECRET_")}
    proc = subprocess.run(
        [sys.executable, "-c", "from agent.cli import main; main()", "config", "check", str(DEMO)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "配置有效 / configuration OK" in proc.stdout
