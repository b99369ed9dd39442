"""`das config check` shows an outlet's `[outlets.<id>.power]` (HJ 212-2025 ST=44): platforms, interval and
each meter point → its configured d-code, so the site engineer can confirm the codes with the platform operator."""

from __future__ import annotations

from pathlib import Path

from config_site import SITE, write
from typer.testing import CliRunner

from agent.cli import _load_commands, app

DEMO = Path(__file__).resolve().parents[2] / "agent" / "config" / "demo_site.toml"

_load_commands()
runner = CliRunner()


def test_demo_site_summary_shows_dw001_power_section() -> None:
    result = runner.invoke(app, ["config", "check", str(DEMO)])
    assert result.exit_code == 0, result.output
    out = result.output
    dw001 = out[out.index("  DW001 ") : out.index("平台 platforms")]
    assert "用电监控 power (ST=44) → province  每 every 30 s" in dw001  # interval defaults to province's RtdInterval
    assert "代码 d-code" in dw001 and "来源 point" in dw001
    lines = [line.split() for line in dw001.splitlines()]
    rows = {cells[0]: cells for cells in lines if cells and cells[0].startswith("d") and len(cells[0]) == 6}
    assert set(rows) == {f"d{r}{q}01" for r in "23" for q in ["01", "02", "03", "04", "05"]}
    assert rows["d20101"][1:5] == ["生产", "production", "2", "meter_line.ua"]
    assert rows["d20401"][1:5] == ["生产", "production", "3", "meter_line.ia"]
    assert rows["d30501"][1:5] == ["治理", "treatment", "4", "meter_plant.p"]
    da001 = out[out.index("  DA001 ") : out.index("  DW001 ")]
    assert "用电监控" not in da001  # only the outlet with a power section


def test_site_without_power_prints_no_power_section(tmp_path: Path) -> None:
    result = runner.invoke(app, ["config", "check", str(write(tmp_path, SITE))])
    assert result.exit_code == 0, result.output
    assert "用电监控" not in result.output and "ST=44" not in result.output
