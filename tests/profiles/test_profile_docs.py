"""The examples in docs/profiles.md load with the code they document (a stale example fails here)."""

from __future__ import annotations

import re
from pathlib import Path

from drivers.profiles import load_profile
from drivers.profiles.config import load_devices_config
from drivers.profiles.schema import Point, StateRow, StateTable
from hil.simulate import load_sim_config

DOC = Path(__file__).resolve().parents[2] / "docs" / "profiles.md"


def _blocks() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def _block(start: str) -> str:
    return next(b for b in _blocks() if b.lstrip().startswith(start))


def test_devices_config_example_loads(tmp_path: Path) -> None:
    path = tmp_path / "devices.toml"
    path.write_text(_block("[links.rs485_1]"), encoding="utf-8")
    config, profiles = load_devices_config(path)
    assert set(config.devices) == {"cems", "ai", "meter"}
    assert config.devices["ai"].override("ai1").range == (0, 300)
    assert profiles["meter"].device.protocol == "dlt645"


def test_simulator_config_example_loads(tmp_path: Path) -> None:
    path = tmp_path / "sim.toml"
    path.write_text(_block("[[devices]]"), encoding="utf-8")
    config, profiles = load_sim_config(path)
    assert [p.device.name for p in profiles] == ["cems_fpi_cems2000", "power_dlt645_2007"]
    assert config.devices[0].speed == 60


def test_extends_example_loads(tmp_path: Path) -> None:
    path = tmp_path / "water_fpi_tp.toml"
    path.write_text(_block("[device]\nextends"), encoding="utf-8")
    assert load_profile(path).point("result").factor == "w21011"


def test_every_point_and_state_key_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for model in (Point, StateTable, StateRow):
        for key in model.model_fields:
            assert f"`{key}`" in text, f"{model.__name__}.{key} is not documented in docs/profiles.md"
