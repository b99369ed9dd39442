"""Values that cross package boundaries: a reading, a statistics record, an alarm.

Drivers produce readings, the statistics engine turns them into records and alarms, the store keeps all
three and the uplink encodes records as HJ 212 CP. Keeping these shapes here, free of I/O, lets each of
those packages be built and tested alone.

Times are naive datetimes in the site's local time on the agent clock (HJ 212 DataTime has no zone; China
keeps UTC+8 all year). A window's record carries its start time, as HJ 212 §6.3.3 (DataTime) prescribes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

# HJ 212-2017 Table 8 data flags (hj212.md §5, regs.md §4.1).
FLAGS = ("N", "F", "M", "S", "D", "C", "T", "B")
VALID_FLAGS = frozenset({"N", "S"})  # regs.md §0.3: only N (and S, a manual set value) count as valid.


class RecordKind(StrEnum):
    """The statistics windows and the HJ 212 CN each is uploaded with."""

    RTD = "rtd"  # 2011 real-time
    MINUTE = "minute"  # 2051
    HOUR = "hour"  # 2061
    DAY = "day"  # 2031
    RUNTIME_DAY = "runtime_day"  # 2041 equipment running time (SBxxx-RT)
    STATE = "state"  # 2021 equipment state (SBxxx-RS)


# Each kind's name where settings and topics name it: a platform's `upload` switches (uplink.settings.UploadKinds),
# an MQTT target's `kinds` and the last level of its record topics (docs/mqtt.md).
KIND_NAMES: Mapping[RecordKind, str] = MappingProxyType(
    {
        RecordKind.RTD: "rtd",
        RecordKind.MINUTE: "minute",
        RecordKind.HOUR: "hour",
        RecordKind.DAY: "day",
        RecordKind.RUNTIME_DAY: "runtime",
        RecordKind.STATE: "state",
    }
)


@dataclass(frozen=True, slots=True)
class Reading:
    """One value of one factor as read from a device, with the flag the device state gave it.

    `value` is None when nothing usable was read (flag B, D, ...): a missing value is never a zero.
    """

    device: str
    factor: str  # HJ 212 factor code, e.g. "a21026" (SO2) or "w01018" (COD)
    time: datetime
    value: float | None
    unit: str
    flag: str = "N"
    device_time: datetime | None = None  # the analyzer's own clock, when it reports one
    raw: tuple[int, ...] = ()  # raw registers or bytes, kept for audits


@dataclass(frozen=True, slots=True)
class FactorValues:
    """One factor's group in a record: HJ 212 suffix → value (`Avg`, `Min`, `Max`, `Cou`, `ZsAvg`, `Flag` ...).

    `values` keeps suffix order as produced; numbers are floats, `Flag`/`EFlag` are strings.
    `count` is the number of valid samples or sub-records the value was made from (for audits and recompute).
    """

    factor: str
    values: dict[str, float | str]
    count: int = 0


@dataclass(frozen=True, slots=True)
class Record:
    """A statistics record of one outlet (one MN) for one window."""

    outlet: str
    kind: RecordKind
    data_time: datetime  # window start for minute/hour/day; sampling moment for real-time
    factors: tuple[FactorValues, ...]
    extra: dict[str, str] = field(default_factory=dict)  # plain CP keys beside the factor groups


@dataclass(frozen=True, slots=True)
class Alarm:
    """An alarm or self-check finding; `end` is None while it is still active."""

    kind: str  # e.g. "over_limit", "zero", "negative", "constant", "missing", "comm_lost", "disk_budget"
    start: datetime
    detail: str
    outlet: str | None = None
    factor: str | None = None
    device: str | None = None
    end: datetime | None = None
    level: str = "warning"
