"""The TOML key → line finder used for error messages, on the shapes a site file uses."""

from __future__ import annotations

import tomllib

from agent.config.locate import key_lines, line_of

TEXT = '''\
# comment [not.a.table]
version = 1
title = """multi
line = 3
"""

[links.rs485_1]
type = "serial"   # trailing comment with = sign
"port" = '/dev/tty"S1'

[devices.cems]
points.so2 = { range = [0, 300], title = "SO2 { not a table }" }
points.nox = "a21002"
list = [
  1,
  { a = 2 },
]

[[outlets.DA001.factors]]
code = "a21026"

[[outlets.DA001.factors]]
code = "a19001"

[[outlets.DW001.factors]]
code = "w01018"
'''


def test_key_lines() -> None:
    tomllib.loads(TEXT)
    lines = key_lines(TEXT)
    assert lines[("version",)] == 2
    assert lines[("title",)] == 3
    assert ("line",) not in lines  # inside a multi-line string
    assert lines[("links", "rs485_1")] == 7
    assert lines[("links", "rs485_1", "port")] == 9
    assert lines[("devices", "cems", "points", "so2")] == 12
    assert lines[("devices", "cems", "points", "so2", "range")] == 12
    assert lines[("devices", "cems", "points", "so2", "range", 1)] == 12
    assert lines[("devices", "cems", "points", "nox")] == 13
    assert lines[("devices", "cems", "list", 0)] == 15
    assert lines[("devices", "cems", "list", 1, "a")] == 16
    assert lines[("outlets", "DA001", "factors", 0)] == 19
    assert lines[("outlets", "DA001", "factors", 0, "code")] == 20
    assert lines[("outlets", "DA001", "factors", 1, "code")] == 23
    assert lines[("outlets", "DW001", "factors", 0, "code")] == 26


def test_line_of_falls_back_to_the_table() -> None:
    lines = key_lines(TEXT)
    assert line_of(lines, ("outlets", "DA001", "factors", 1, "unit")) == 22
    assert line_of(lines, ("devices", "cems", "unit")) == 11
    assert line_of(lines, ("nothing",)) is None


def test_literal_and_escaped_strings_do_not_confuse_it() -> None:
    text = 'a = "x\\"#[y]"\nb = \'c:\\\\path\'\n[t]\nc = """a\\"""b"""\nd = 1\n'
    tomllib.loads(text)
    lines = key_lines(text)
    assert lines[("a",)] == 1 and lines[("b",)] == 2 and lines[("t", "c")] == 4 and lines[("t", "d")] == 5
