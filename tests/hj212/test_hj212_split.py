"""Splitting at factor-group boundaries and reassembly (HJ 212 PNUM/PNO, C.49/C.50; 2025 §8.1.2)."""

from __future__ import annotations

import pytest

from uplink.hj212 import Cp, Dialect, Frame, SplitError, decode, encode, make_flag, reassemble, split

MN = "010000A8900016F000169DC0"


def _hour_frame(n_factors: int, version: int = 2017) -> Frame:
    factors = [(f"a{21000 + i:05d}", {"Min": 1.25, "Avg": 2.5, "Max": 3.75, "Flag": "N"}) for i in range(n_factors)]
    cp = Cp.build({"DataTime": "20240601080000"}, factors, decimals={code: 2 for code, _ in factors})
    return Frame("20240601090000001", "31", "2061", "123456", MN, make_flag(version, answer=True), cp)


def _qns() -> object:
    counter = iter(range(1, 10000))
    return lambda: f"20240601090000{next(counter):03d}"


def test_short_record_is_not_split() -> None:
    frame = _hour_frame(3)
    assert split(frame, 1024, _qns()) == [frame]


def test_long_record_split_and_reassembled() -> None:
    frame = _hour_frame(40)
    parts = split(frame, 1024, _qns())
    assert len(parts) > 1
    assert [p.pno for p in parts] == list(range(1, len(parts) + 1))
    assert {p.pnum for p in parts} == {len(parts)}
    assert [p.qn for p in parts] == [f"20240601090000{i:03d}" for i in range(1, len(parts) + 1)]
    for part in parts:
        assert part.flag == 7 and part.cp.groups[0] == (("DataTime", "20240601080000"),)
        wire = encode(part, Dialect())
        assert len(wire) - 12 <= 1024
        assert b";PNUM=%d;PNO=%d;CP=" % (len(parts), part.pno) in wire
        assert decode(wire, Dialect(), strict=True).frame == part
    whole = reassemble(parts[::-1])
    assert whole.cp == frame.cp and whole.flag == 5 and whole.pnum is None and whole.qn == parts[0].qn


def test_2025_split_flag_is_11() -> None:
    parts = split(_hour_frame(40, 2025), 1024, _qns())
    assert {p.flag for p in parts} == {11}


def test_limit_is_configurable() -> None:
    assert len(split(_hour_frame(40), 400, _qns())) > len(split(_hour_frame(40), 1024, _qns()))


def test_group_too_big_for_limit() -> None:
    cp = Cp.build({"DataTime": "20240601080000"}, [("i11001", {"Info": "//" + "日志" * 200 + "//"})])
    frame = Frame("20240601090000001", "32", "3020", "123456", MN, 5, cp)
    with pytest.raises(SplitError):
        split(frame, 1024, _qns())


def test_reassemble_refuses_separate_records_and_gaps() -> None:
    parts = split(_hour_frame(40), 1024, _qns())
    with pytest.raises(SplitError):
        reassemble(parts[1:])
    first = Frame(
        "20240601090000001", "31", "2061", "123456", MN, 7, Cp.parse("DataTime=20240601080000;a1-Avg=1"), 2, 1
    )
    second = Frame(
        "20240601090000002", "31", "2061", "123456", MN, 7, Cp.parse("DataTime=20240601070000;a1-Avg=2"), 2, 2
    )
    with pytest.raises(SplitError) as err:
        reassemble([first, second])
    assert "separate records" in str(err.value)
