"""clock_drift alarms when a platform's 1012 sets the agent clock (regs.md §1, docs/statistics.md).

A DAS cannot see its own drift: only a reference can show it, and the reference it has is the platform's
SystemTime (CN 1012, the answer to the session's 1013 request or the platform's own time set). The step a 1012
makes is the drift the DAS had against that platform: `clock_drift` compares it with the outlet's
`alarms.clock_drift_s` (HJ 477 ≤ 0.5 ‰; ≤ 30 s to Beijing time) and the alarm is stored and routed like the
statistics' own, for the outlet whose session received the 1012 (every outlet when the source has none).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from agent.daemon.clock import ClockStep
from agent.daemon.pipeline import OutletPipeline
from agent.logs import event, get_logger
from agent.model import Alarm
from agent.stats.alarms import clock_drift

__all__ = ["ClockDriftAlarms", "enable_time_sync"]

log = get_logger("clock")


class ClockDriftAlarms:
    """An `AgentClock` listener: a clock step beyond an outlet's threshold becomes a stored clock_drift alarm."""

    def __init__(self, pipelines: Mapping[str, OutletPipeline]) -> None:
        self.pipelines = pipelines

    def __call__(self, step: ClockStep) -> list[Alarm]:
        chosen = self.pipelines.get(step.outlet) if step.outlet is not None else None
        targets = [chosen] if chosen is not None else list(self.pipelines.values())
        raised: list[Alarm] = []
        for pipeline in targets:
            threshold = pipeline.params.alarms.clock_drift_s
            alarm = clock_drift(step.old, step.new, threshold, step.source, pipeline.outlet)
            if alarm is None:
                continue
            pipeline.commit_alarms([alarm])
            raised.append(alarm)
            event(log, logging.WARNING, "clock_drift", alarm.detail, outlet=pipeline.outlet)
        return raised


def enable_time_sync(sessions: Iterable[Any], speed: float) -> None:
    """Let the platform sessions ask for the time (1013 on each link and after the drift budget,
    uplink/session.py), at real speed only: under an accelerated clock the wire's latency times the speed
    would make every 1012 an error of its own (and the simulated time is the test's, not Beijing time)."""
    for session in sessions:
        session.time_sync = speed == 1.0
