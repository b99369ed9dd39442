"""What the uplink needs from the rest of the agent, as Protocols (the daemon implements them later).

Sessions and the command handler depend only on these, so they run in tests with small stand-ins and in the
agent with the real clock, statistics engine and device owners. Any service may be missing (None): a command
that needs it is then answered ExeRtn 2 (执行失败) or 100 (没有数据), never with an invented value.

Device operations do I/O on the analyzers (Modbus, serial), so they are coroutines. Their return values say
what a platform should be told: None = this device's profile does not allow it (the command is refused),
False = tried and failed, True = done.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from agent.model import Record


@runtime_checkable
class AgentClock(Protocol):
    """The agent's wall clock (naive local time, HJ 212 DataTime has no zone); 1012 sets it."""

    def now(self) -> datetime: ...

    def set(self, t: datetime) -> None: ...


@runtime_checkable
class LiveValues(Protocol):
    """The newest real-time and state records of an outlet, for 2011 answers and `das uplink test`."""

    def latest_rtd(self, outlet: str) -> Record | None: ...

    def latest_state(self, outlet: str) -> Record | None: ...


@runtime_checkable
class DeviceControl(Protocol):
    """Analyzer operations a platform may ask for (3011-3024, 3019-3021). `pol_id` is the factor code."""

    async def serial_numbers(self, outlet: str) -> Mapping[str, str] | None:
        """pol_id → instrument SN (3019)."""
        ...

    async def info(self, outlet: str, pol_id: str | None, info_ids: Sequence[str]) -> Mapping[str, str | float] | None:
        """Current i1xxxx/i2xxxx/i3xxxx values (3020); empty `info_ids` = all the profile knows."""
        ...

    async def set_param(self, outlet: str, pol_id: str | None, info_id: str, value: str) -> bool | None:
        """Write one parameter (3021)."""
        ...

    async def calibrate(self, outlet: str, pol_id: str, kind: int | None) -> bool | None:
        """Zero/span calibration (3011; 2025 CalibrationType 0 zero, 1 span)."""
        ...

    async def sample_now(self, outlet: str, pol_id: str) -> bool | None:
        """Immediate sampling (3012) or retention (3022)."""
        ...

    async def standard_check(self, outlet: str, pol_id: str) -> bool | None:
        """Start an automatic standard check (3024, 2025); the result comes later as a 2062 upload."""
        ...


@dataclass(frozen=True, slots=True)
class Services:
    """The agent-side services a session hands to the command handler; each may be None (tests, partial setups)."""

    clock: AgentClock | None = None
    live: LiveValues | None = None
    devices: DeviceControl | None = None
