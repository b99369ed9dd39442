"""Equipment running time (2041 SBxxx-RT) and state (2021 SBxxx-RS) from a digital input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from stats_build import T0, gas_params, group

from agent.model import Reading
from agent.stats import EquipmentParams, cp_text, decimals, recompute


def _params():
    return gas_params(
        validity={"sample_period_s": 60},
        rtd_interval=60,
        equipment=(EquipmentParams(code="SB1", source="di1", role="treatment"),),
    )


def test_runtime_day_and_state() -> None:
    """DI on from 06:00 to 12:30 and 18:00 to 20:00 → RT = 6.5 + 2 = 8.50 h; no reading 22:00-24:00 adds nothing."""
    readings = []
    for m in range(22 * 60):
        on = 6 * 60 <= m < 12 * 60 + 30 or 18 * 60 <= m < 20 * 60
        readings.append(Reading("di", "di1", T0 + timedelta(minutes=m, seconds=2), 1.0 if on else 0.0, ""))
    out = recompute(readings, _params(), start=T0, end=T0 + timedelta(days=1))
    rt = next(r for r in out.records if r.kind == "runtime_day")
    assert group(rt, "SB1")["RT"] == pytest.approx(8.5)
    assert cp_text(rt, decimals(_params())) == "DataTime=20240501000000;SB1-RT=8.50"
    states = [r for r in out.records if r.kind == "state"]
    at_7 = next(s for s in states if s.data_time == T0 + timedelta(hours=7))
    assert group(at_7, "SB1") == {"RS": 1}
    at_5 = next(s for s in states if s.data_time == T0 + timedelta(hours=5))
    assert group(at_5, "SB1") == {"RS": 0}
