"""Parameter validation and the documented parameter file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from stats_build import gas_params

from agent.stats import FactorParams, ParamsFileError, load_params

DOC = Path(__file__).resolve().parents[2] / "docs" / "statistics.md"


def test_documented_example_loads(tmp_path: Path) -> None:
    block = re.search(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert block is not None
    path = tmp_path / "outlet.toml"
    path.write_text(block.group(1), encoding="utf-8")
    params = load_params(path)
    assert params.outlet == "DA001" and params.nox is not None and params.flow_code == "a00000"


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"min_interval": 7}, "min_interval"),
        ({"rtd_interval": 20}, "rtd_interval"),
        ({"factors": ({"code": "a21026", "unit": "ppm"},)}, "molar_mass"),
        ({"factors": (FactorParams(code="a21026", basis="wet"),), "reference_o2": None}, "humidity"),
        ({"factors": ({"code": "x", "range": (5, 1)},)}, "range"),
        ({"factors": (FactorParams(code="a01011", role="velocity"),)}, "duct_area"),
    ],
)
def test_bad_parameters_are_refused(over: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        gas_params(**over)


def test_unknown_key_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('outlet = "x"\nkind = "gas"\nrefrence_o2 = 6\n', encoding="utf-8")
    with pytest.raises(ParamsFileError, match="refrence_o2"):
        load_params(path)
