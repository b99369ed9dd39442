"""Aggregate flags (regs.md §4.1 [U]: a setting, both sides tested) and missing periods."""

from __future__ import annotations

from datetime import timedelta

import pytest
from stats_build import T0, gas_params, group, series

from agent.stats import minute_record
from agent.stats.flags import invalid_flag
from agent.stats.params import FlagRule

M = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("mode", "flags", "expected"),
    [
        ("order", ["C", "C", "C", "D"], "D"),  # D before C in the default order
        ("dominant", ["C", "C", "C", "D"], "C"),
        ("dominant", ["C", "D"], "D"),  # tie broken by the order
        ("fixed", ["C", "M"], "D"),  # HJ 212 C.16 gas note: else D
        ("order", [], "B"),  # nothing read: the missing flag
    ],
)
def test_invalid_flag_modes(mode: str, flags: list[str], expected: str) -> None:
    assert invalid_flag(flags, FlagRule(mode=mode)) == expected


def test_flag_rule_rejects_valid_flags() -> None:
    with pytest.raises(ValueError, match="invalid HJ 212 flags"):
        FlagRule(order=("N", "D"))


def test_window_without_readings_is_flagged_not_filled() -> None:
    rec = minute_record([], T0, T0 + M, gas_params())
    assert all(g.values == {"Flag": "B"} for g in rec.factors)


def test_missing_flag_is_a_setting() -> None:
    rec = minute_record([], T0, T0 + M, gas_params(flags={"missing": "F"}))
    assert group(rec, "a21026") == {"Flag": "F"}


def test_invalid_window_values_can_be_withheld() -> None:
    readings = series("a21026", T0, [5.0] * 12, flag="C")
    shown = group(minute_record(readings, T0, T0 + M, gas_params()), "a21026")
    assert shown["Flag"] == "C" and shown["Avg"] == 5.0
    hidden = group(minute_record(readings, T0, T0 + M, gas_params(flags={"report_invalid_values": False})), "a21026")
    assert hidden == {"Flag": "C"}


def test_manual_set_values_keep_s() -> None:
    readings = series("a21026", T0, [5.0] * 12, flag="S")
    assert group(minute_record(readings, T0, T0 + M, gas_params()), "a21026")["Flag"] == "S"


def test_value_none_counts_as_invalid() -> None:
    readings = series("a21026", T0, [None] * 12, flag="B")
    assert group(minute_record(readings, T0, T0 + M, gas_params()), "a21026") == {"Flag": "B"}


def test_window_and_reading_orders_differ_on_purpose_and_the_doc_says_why() -> None:
    """A reading's flag: the one cause sure for that value (drivers/flags.py: a failed read B hides everything).
    A window's flag: the most telling state among its inputs, the analyzer's own before the link's gap (B last).
    docs/statistics.md names both orders as the code has them and explains the difference."""
    from pathlib import Path

    from drivers.flags import SEVERITY, worst

    minute = series("a21026", T0, [5.0] * 6, flag="C") + series("a21026", T0, [None] * 6, flag="B", offset_s=2)
    assert group(minute_record(minute, T0, T0 + M, gas_params()), "a21026")["Flag"] == "C"
    assert worst(["C", "B"]) == "B"

    doc = (Path(__file__).resolve().parents[2] / "docs" / "statistics.md").read_text(encoding="utf-8")
    window_order = ", ".join(FlagRule().order)
    reading_order = " > ".join(f for f in SEVERITY if f not in ("S", "N"))
    assert window_order == "F, D, M, C, T, B"
    assert window_order in doc and reading_order in doc
    assert "drivers/flags.py" in doc
