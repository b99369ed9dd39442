"""CP parsing and building (HJ 212-2017 §6.3.3): order, typed values, log texts, unknown suffixes."""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from uplink.hj212 import Cp, CpError
from uplink.hj212._cp import parse_cp


def test_log_text_may_hold_separators_and_chinese() -> None:
    text = "DataTime=20240601080000;i11001-Info=//故障; 代码=3, 已复位//;i12001-Info=0"
    cp = Cp.parse(text)
    assert cp.text == text
    assert cp.get("i11001-Info") == "//故障; 代码=3, 已复位//"
    assert cp.get("i12001-Info") == "0"
    assert len(cp.groups) == 3


def test_unknown_suffix_kept_and_order_preserved() -> None:
    text = "DataTime=20240601080100;a34013-Min=6.9,a34013-Avg=7.0,a34013-RawAvg=7.1,a34013-Max=7.2,a34013-Flag=N"
    cp = Cp.parse(text)
    assert list(cp.factors()["a34013"]) == ["Min", "Avg", "RawAvg", "Max", "Flag"]
    assert cp.factors()["a34013"]["RawAvg"] == "7.1"
    assert str(cp) == text


def test_build_formats_per_factor_decimals() -> None:
    cp = Cp.build(
        {"DataTime": datetime(2016, 8, 1, 8, 0)},
        [
            ("w01018", {"Cou": 63, "Min": 40.1, "Avg": 40.06, "Max": 40.149, "Flag": "N"}),
            ("w01001", {"Avg": 7.5, "Flag": "N"}),
            ("a21026", {"Avg": -0.001}),
        ],
        decimals={"w01018": 1, "w01001": 2, "a21026": 2, "w01018-Cou": 2},
    )
    assert cp.text == (
        "DataTime=20160801080000;w01018-Cou=63.00,w01018-Min=40.1,w01018-Avg=40.1,w01018-Max=40.1,w01018-Flag=N;"
        "w01001-Avg=7.50,w01001-Flag=N;a21026-Avg=0.00"
    )


def test_build_without_decimals_keeps_the_number() -> None:
    cp = Cp.build({"RtdInterval": 30, "x": 0.1, "y": 1e-7})
    assert cp.text == "RtdInterval=30;x=0.1;y=0.0000001"


@pytest.mark.parametrize("bad", [None, math.nan, math.inf, True, "a;b", "a,b", object()])
def test_build_refuses_values_it_cannot_send(bad: object) -> None:
    with pytest.raises(CpError):
        Cp.build({"x": bad})


def test_typed_accessors() -> None:
    cp = Cp.parse("DataTime=20240601085857;SKCreateTime=20240601085857223,NewSK=0000000000000000;v=-1.5;t=abc")
    assert cp.time("DataTime") == datetime(2024, 6, 1, 8, 58, 57)
    assert cp.time("SKCreateTime") == datetime(2024, 6, 1, 8, 58, 57, 223000)
    assert cp.number("v") == -1.5
    with pytest.raises(CpError):
        cp.number("t")
    with pytest.raises(CpError):
        cp.time("t")
    with pytest.raises(KeyError):
        cp.number("missing")
    assert cp.get("missing") is None


@pytest.mark.parametrize("text", ["a=1;", "a=1;;b=2", ";a=1", "a", "a=1,b", "=1", "a=//x;y"])
def test_parse_rejects_malformed(text: str) -> None:
    with pytest.raises(CpError):
        Cp.parse(text)


def test_empty_cp() -> None:
    assert Cp.parse("") == Cp() and Cp().text == ""


def test_rounding_is_half_even_on_the_decimal_text() -> None:
    """GB/T 8170 四舍六入五成双, applied to the shortest decimal text of the float (2.675 is not 2.67499…)."""
    cp = Cp.build({"a": 2.675, "b": 2.665, "c": 2.6651, "d": 0.125}, decimals={"a": 2, "b": 2, "c": 2, "d": 2})
    assert cp.text == "a=2.68;b=2.66;c=2.67;d=0.12"


@pytest.mark.parametrize("text", ["a21026-Rtd=1,", "a=1,,", "a=1;b=2,", "i11001-Info=//x//,"])
def test_strict_rejects_a_trailing_comma(text: str) -> None:
    """Audit of issue 2: `…a21026-Rtd=1,` lost its `,` silently, so decode→encode was not byte exact."""
    with pytest.raises(CpError) as err:
        Cp.parse(text)
    assert err.value.qn_rtn == 100  # as for `;;`: CP syntax has no QnRtn of its own


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("a21026-Rtd=1,", "a21026-Rtd=1"),
        ("a=1;;b=2", "a=1;b=2"),
        (";a=1", "a=1"),
        ("a=1,,b=2;", "a=1,b=2"),
        (",", ""),
        ("a=1;,b=2,c=3", "a=1;b=2,c=3"),
    ],
)
def test_lenient_warns_on_empty_items_and_keeps_the_text(text: str, canonical: str) -> None:
    cp, warnings = parse_cp(text, strict=False)
    assert warnings
    assert cp == Cp.parse(canonical)
    assert cp.text == text  # re-encoding gives the bytes that were received


def test_kept_text_must_agree_with_the_groups() -> None:
    cp, _ = parse_cp("a=1,", strict=False)
    with pytest.raises(CpError):
        Cp(((("a", "2"),),), source="a=1,")
    assert Cp(cp.groups, source="a=1").source is None  # canonical text is not kept twice
