"""Live first, backlog interleaved (HJ 212-2025 §8.1.2: "补传时应合理分配网络带宽，优先保障新采集的数据上传").

Pure decision, no store and no clock: the session says whether live items (data newer than `live_age_s`) and
backlog items are waiting; `Interleave` answers which to send. While live data waits, the backlog gets
`share` of the sends (a credit counter, so 0.5 alternates exactly); while no live data waits, the backlog
goes at full speed. So a week of backlog never starves new real-time and minute data, and `share = 0`
sends the backlog only in the gaps between live items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Choice = Literal["live", "backlog"]


@dataclass
class Interleave:
    """Credit-based interleave of live and backlog sends."""

    share: float = 0.5
    credit: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.share <= 1.0:
            raise ValueError(f"backlog share must be within 0..1, got {self.share}")

    def choose(self, live_waiting: bool, backlog_waiting: bool) -> Choice | None:
        if not live_waiting:
            self.credit = 0.0
            return "backlog" if backlog_waiting else None
        if not backlog_waiting:
            return "live"
        self.credit += self.share
        if self.credit >= 1.0 - 1e-9:
            self.credit -= 1.0
            return "backlog"
        return "live"
