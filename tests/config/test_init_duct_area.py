"""`das init --duct-area`: the duct is a property of the gas outlet, so the value is written even when no chosen
analyzer measures the velocity a01011 yet (a probe added later then needs no second visit), with a note that says
why no Qsn comes from it; the written file still validates."""

from __future__ import annotations

from pathlib import Path

from agent.config import load_config
from agent.config.init_site import InitOptions, build_site
from agent.config.render import render_config


def _site(*devices: str, duct_area: float | None = 12.57) -> tuple[dict, list[str]]:
    notes: list[str] = []
    data = build_site(InitOptions(site="x", devices=list(devices), duct_area=duct_area), notes=notes)
    return data, notes


def test_duct_area_is_kept_without_a_velocity_source(tmp_path: Path) -> None:
    data, notes = _site("cems_fpi_cems2000@/dev/ttyS1:1")
    outlet = data["outlets"]["DA001"]
    assert outlet["duct_area"] == 12.57 and "flow_code" not in outlet
    assert len(notes) == 1 and "DA001" in notes[0] and "a01011" in notes[0] and "Qsn" in notes[0]
    path = tmp_path / "das.toml"
    path.write_text(render_config(data), encoding="utf-8")
    assert load_config(path, environ={}).outlets["DA001"].duct_area == 12.57


def test_duct_area_with_a_velocity_source_computes_qsn_and_says_nothing() -> None:
    data, notes = _site("flue_gas_adam4117@/dev/ttyS1:2")
    outlet = data["outlets"]["DA001"]
    assert outlet["duct_area"] == 12.57 and outlet["flow_code"] == "a00000"
    assert "a01011" in {f["code"] for f in outlet["factors"]}
    assert notes == []


def test_no_duct_area_no_note() -> None:
    data, notes = _site("cems_fpi_cems2000@/dev/ttyS1:1", duct_area=None)
    assert "duct_area" not in data["outlets"]["DA001"] and notes == []


def test_das_init_prints_the_note(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from agent.cli import _load_commands, app

    _load_commands()
    out = tmp_path / "das.toml"
    args = ["init", "-y", "-o", str(out), "--site", "x", "--device", "cems_fpi_cems2000@/dev/ttyS1:1"]
    result = CliRunner().invoke(app, [*args, "--duct-area", "12.57"])
    assert result.exit_code == 0, result.output
    assert "注意 / note: DA001" in result.output and "a01011" in result.output
    assert load_config(out, environ={}).outlets["DA001"].duct_area == 12.57
