"""The `[[platforms]]` example in docs/uplink.md loads, and every PlatformSettings field is documented there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from uplink.settings import PlatformSettings, UplinkConfigError, load_uplink_config

DOC = Path(__file__).resolve().parents[2] / "docs" / "uplink.md"


def _example() -> str:
    blocks = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return next(b for b in blocks if "[[platforms]]" in b)


def test_doc_example_loads_and_names_every_field(tmp_path: Path) -> None:
    path = tmp_path / "uplink.toml"
    path.write_text(_example(), encoding="utf-8")
    cfg = load_uplink_config(path)
    national = cfg.platform("national")
    assert national is not None and national.dialect.encrypt and national.target("gas1") == "national/gas1"
    missing = [name for name in PlatformSettings.model_fields if not re.search(rf"^{name}\b", _example(), re.M)]
    missing = [m for m in missing if m not in ("upload", "clock_set_bounds")]  # tables, shown as [platforms.x]
    assert missing == []


def test_bad_config_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[[platforms]]\nname = "a"\nhost = "h"\nport = 1\nmns = { o = "MN" }\nover_tyme = 5\n')
    with pytest.raises(UplinkConfigError, match=r"platforms\.0\.over_tyme"):
        load_uplink_config(path)
