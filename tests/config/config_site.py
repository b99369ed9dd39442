"""A small site configuration for the tests, written out so each test can break one line of it."""

from __future__ import annotations

from pathlib import Path

SITE = """\
version = 1

[site]
name = "测试站 / test site"

[statistics]
min_interval = 10

[links.rs485_1]
type = "serial"
port = "/dev/ttyS1"

[links.meters]
type = "serial"
port = "/dev/ttyS2"

[devices.cems]
profile = "cems_fpi_cems2000"
link = "rs485_1"
unit = 1

[devices.flue]
profile = "flue_gas_adam4117"
link = "rs485_1"
unit = 2

[devices.cod]
profile = "water_fpi_cod"
link = "rs485_1"
unit = 3

[devices.meter]
profile = "power_dlt645_2007"
link = "meters"
address = "000000193600"

[outlets.DA001]
kind = "gas"
title = "1号烟囱"
reference_o2 = 6.0

[[outlets.DA001.factors]]
code = "a21026"
point = "cems.so2"
limit = 35.0

[[outlets.DA001.factors]]
code = "a19001"
point = "cems.o2"

[outlets.DW001]
kind = "water"

[[outlets.DW001.factors]]
code = "w01018"
point = "cod.result"

[[outlets.DW001.equipment]]
code = "SB1"
point = "meter.p"
role = "treatment"

[platforms.national]
host = "127.0.0.1"
port = 9001
mns = { DA001 = "010000A8900016F000169DC0", DW001 = "010000A8900016F000169DC1" }
"""


def write(tmp_path: Path, text: str = SITE, name: str = "site.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def edit(old: str, new: str, text: str = SITE) -> str:
    assert text.count(old) == 1, f"{old!r} must occur once in the test site"
    return text.replace(old, new)


def line_with(text: str, marker: str, occurrence: int = 1) -> int:
    """1-based line number of the `occurrence`-th line containing `marker`."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if marker in line]
    return hits[occurrence - 1]
