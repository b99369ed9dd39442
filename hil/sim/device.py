"""A simulated Modbus unit: four register tables, named points, runtime fault knobs, CSV playback.

Per-profile simulators build on this: define points (name, table, address, type, order, scale), set values
or play a CSV back, and flip `faults` while a test runs. Values are encoded here with `struct`, independently of
the driver's decoder, so a shared bug cannot hide.
"""

from __future__ import annotations

import csv
import math
import random
import struct
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from drivers.clock import Clock, MonotonicClock

__all__ = ["Faults", "Playback", "SimDevice", "SimPoint", "encode_value"]

_FORMATS = {
    "int16": ">h",
    "uint16": ">H",
    "int32": ">i",
    "uint32": ">I",
    "int64": ">q",
    "uint64": ">Q",
    "float32": ">f",
    "float64": ">d",
}
_LIMITS = {
    "int16": (-(2**15), 2**15 - 1),
    "uint16": (0, 2**16 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
}


def encode_value(dtype: str, value: float, order: str = "ABCD") -> list[int]:
    """Registers holding `value` (already raw, i.e. before the device's scale) in the given byte order."""
    if dtype in _LIMITS:
        lo, hi = _LIMITS[dtype]
        value = round(value)
        value = min(max(value, lo), hi)
    data = struct.pack(_FORMATS[dtype], value)
    words = [data[i : i + 2] for i in range(0, len(data), 2)]
    if order in ("BADC", "DCBA"):
        words = [w[::-1] for w in words]
    if order in ("CDAB", "DCBA"):
        words.reverse()
    return [int.from_bytes(w, "big") for w in words]


@dataclass
class Faults:
    """Runtime fault knobs, switchable while a test runs (issue point 7)."""

    no_answer: bool = False
    exception: int | None = None
    """Answer every request with this Modbus exception code."""
    garbage: bool = False
    """Answer with random bytes that are not a valid frame."""
    disconnect: bool = False
    """Modbus TCP: drop the client connection on the next request (serial: same as no answer)."""
    stuck: bool = False
    """Freeze the registers as they were when the fault was switched on (updates continue underneath)."""
    out_of_range: bool = False
    """Points report `SimPoint.out_of_range` instead of their value."""
    delay: float = 0.0
    """Extra seconds before answering (slow analyzer)."""


@dataclass
class SimPoint:
    name: str
    table: int
    """Function code of the table: 1 coils, 2 discrete inputs, 3 holding, 4 input registers."""
    address: int
    dtype: str = "float32"
    order: str = "ABCD"
    scale: float = 1.0
    """Engineering value = raw × scale (so raw = value / scale when set)."""
    out_of_range: float = 1e9


class Playback:
    """A CSV time series followed on the agent clock, one column per point (engineering values).

    The time column is either `t`, seconds from the start of playback, or `time`, a timestamp on the agent clock
    (ISO 8601, e.g. `2026-03-01T10:00:00`, as a store export or a field log has it). The row in effect is the last
    one at or before now; before the first row nothing is played. With `loop` (offsets only), the series repeats
    every `period` seconds (default: the last t plus the last step). Empty cells keep the previous value.
    """

    def __init__(self, path: Path | str, *, loop: bool = False, period: float | None = None) -> None:
        try:
            with open(path, newline="", encoding="utf-8") as fh:
                reader = csv.DictReader(fh)
                header = [h.strip() for h in reader.fieldnames or []]
                rows = list(reader)
        except (OSError, UnicodeDecodeError, csv.Error) as err:
            raise ValueError(f"{path}: cannot read playback CSV: {err}") from err
        if not rows or not ({"t", "time"} & set(header)):
            raise ValueError(f"{path}: playback CSV needs a header with a 't' or 'time' column and at least one row")
        self.timestamps = "t" not in header
        key = "time" if self.timestamps else "t"
        self.columns = tuple(h for h in header if h not in ("t", "time"))
        self.rows: list[tuple[float, dict[str, float]]] = []
        for line, row in enumerate(rows, start=2):
            try:
                when = datetime.fromisoformat(row[key].strip()).timestamp() if self.timestamps else float(row[key])
                values = {k.strip(): float(v) for k, v in row.items() if k not in (key, None) and v not in ("", None)}
            except (ValueError, TypeError, AttributeError) as err:
                raise ValueError(f"{path}:{line}: {err}") from err
            if any(not math.isfinite(v) for v in values.values()):
                raise ValueError(f"{path}:{line}: values must be finite numbers")
            self.rows.append((when, values))
        self.rows.sort(key=lambda r: r[0])
        if loop and self.timestamps:
            raise ValueError(f"{path}: loop needs a 't' column (offsets), not timestamps")
        self.loop = loop
        last_step = self.rows[-1][0] - self.rows[-2][0] if len(self.rows) > 1 else 1.0
        self.period = period if period is not None else self.rows[-1][0] + last_step
        if self.period <= 0:
            raise ValueError(f"{path}: playback period must be positive")

    def values_at(self, elapsed: float) -> dict[str, float]:
        """Values in effect `elapsed` seconds after the start (a `t` column)."""
        if self.loop:
            elapsed = elapsed % self.period
        return self._until(elapsed)

    def values_at_time(self, when: datetime) -> dict[str, float]:
        """Values in effect at `when` on the agent clock (a `time` column; naive times are local, as in the CSV)."""
        return self._until(when.timestamp())

    def values_now(self, elapsed: float, now: datetime) -> dict[str, float]:
        return self.values_at_time(now) if self.timestamps else self.values_at(elapsed)

    def _until(self, moment: float) -> dict[str, float]:
        values: dict[str, float] = {}
        for t, row in self.rows:
            if t > moment:
                break
            values.update(row)
        return values


@dataclass
class SimDevice:
    """One unit id. `defined`: per table, (start, end) spans that exist; reads outside get exception 02."""

    unit: int
    defined: dict[int, list[tuple[int, int]]] | None = None
    clock: Clock = field(default_factory=MonotonicClock)
    faults: Faults = field(default_factory=Faults)
    seed: int = 0
    requests: int = 0
    on_write: Callable[[int, int, list[int]], None] | None = None
    """Called after each accepted write with (table, address, values): a profile simulator acts on commands."""

    def __post_init__(self) -> None:
        self.writes: list[tuple[int, int, list[int]]] = []
        """Every accepted write (function, address, values), for tests to assert on."""
        self.tables: dict[int, array[int]] = {fc: array("H", bytes(2 * 65536)) for fc in (1, 2, 3, 4)}
        self.points: dict[str, SimPoint] = {}
        self._snapshot: dict[int, array[int]] | None = None
        self._playback: Playback | None = None
        self._playback_start = 0.0
        self.rng = random.Random(self.seed or self.unit)

    # -- set-up ---------------------------------------------------------------------------------------------------
    def set_registers(self, table: int, address: int, words: list[int]) -> None:
        self.tables[table][address : address + len(words)] = array("H", words)

    def define(self, point: SimPoint, value: float | None = None) -> None:
        self.points[point.name] = point
        if value is not None:
            self.set(point.name, value)

    def set(self, name: str, value: float) -> None:
        p = self.points[name]
        if p.table in (1, 2):
            self.tables[p.table][p.address] = 1 if value else 0
            return
        self.set_registers(p.table, p.address, encode_value(p.dtype, value / p.scale, p.order))

    def play(self, playback: Playback) -> None:
        self._playback = playback
        self._playback_start = self.clock.now()

    # -- serving --------------------------------------------------------------------------------------------------
    def _refresh(self) -> None:
        if self._playback is not None:
            for name, value in self._playback.values_at(self.clock.now() - self._playback_start).items():
                if name in self.points:
                    self.set(name, value)

    def _view(self) -> dict[int, array[int]]:
        if self.faults.stuck:
            if self._snapshot is None:
                self._snapshot = {fc: array("H", t) for fc, t in self.tables.items()}
            return self._snapshot
        self._snapshot = None
        tables = self.tables
        if self.faults.out_of_range and self.points:
            tables = {fc: array("H", t) for fc, t in tables.items()}
            for p in self.points.values():
                if p.table in (3, 4):
                    raw = p.out_of_range / p.scale
                    if p.dtype in _LIMITS:
                        raw = min(raw, _LIMITS[p.dtype][1])
                    words = encode_value(p.dtype, raw if math.isfinite(raw) else 0, p.order)
                    tables[p.table][p.address : p.address + len(words)] = array("H", words)
        return tables

    def _is_defined(self, table: int, start: int, count: int) -> bool:
        if self.defined is None:
            return True
        spans = self.defined.get(table, [])
        return any(s <= start and start + count <= e for s, e in spans)

    def handle(self, pdu: bytes) -> bytes:
        """Answer one request PDU (no fault handling here: see `SimBus`)."""
        self.requests += 1
        if not pdu:
            return b""
        fc = pdu[0]
        try:
            if fc in (1, 2, 3, 4):
                return self._read(fc, pdu)
            if fc == 5:
                address, value = struct.unpack(">HH", pdu[1:5])
                if len(pdu) != 5 or value not in (0x0000, 0xFF00):
                    return bytes((fc | 0x80, 3))  # spec §6.5: only FF00 or 0000
                if not self._is_defined(1, address, 1):
                    return bytes((fc | 0x80, 2))
                self.tables[1][address] = 1 if value else 0
                self._written(fc, 1, address, [1 if value else 0])
                return pdu[:5]
            if fc == 6:
                address, value = struct.unpack(">HH", pdu[1:5])
                if not self._is_defined(3, address, 1):
                    return bytes((fc | 0x80, 2))
                self.tables[3][address] = value
                self._written(fc, 3, address, [value])
                return pdu[:5]
            if fc == 16:
                address, count, nbytes = struct.unpack(">HHB", pdu[1:6])
                if not 1 <= count <= 123 or nbytes != 2 * count or len(pdu) != 6 + nbytes:
                    return bytes((fc | 0x80, 3))
                if not self._is_defined(3, address, count):
                    return bytes((fc | 0x80, 2))
                words = list(struct.unpack(f">{count}H", pdu[6:]))
                self.set_registers(3, address, words)
                self._written(fc, 3, address, words)
                return pdu[:5]
        except struct.error:
            return bytes((fc | 0x80, 3))
        return bytes((fc | 0x80, 1))

    def _written(self, fc: int, table: int, address: int, values: list[int]) -> None:
        self.writes.append((fc, address, values))
        if self.on_write is not None:
            self.on_write(table, address, values)

    def _read(self, fc: int, pdu: bytes) -> bytes:
        if len(pdu) != 5:
            return bytes((fc | 0x80, 3))
        address, count = struct.unpack(">HH", pdu[1:5])
        limit = 2000 if fc in (1, 2) else 125
        if not 1 <= count <= limit:
            return bytes((fc | 0x80, 3))
        if address + count > 0x10000 or not self._is_defined(fc, address, count):
            return bytes((fc | 0x80, 2))
        self._refresh()
        table = self._view()[fc]
        if fc in (1, 2):
            bits = table[address : address + count]
            data = bytearray((count + 7) // 8)
            for i, b in enumerate(bits):
                if b:
                    data[i // 8] |= 1 << (i % 8)
            return bytes((fc, len(data))) + bytes(data)
        words = table[address : address + count]
        return bytes((fc, 2 * count)) + struct.pack(f">{count}H", *words)

    def garbage(self) -> bytes:
        """Random bytes that are not a valid frame for this unit (first byte never the unit id)."""
        n = self.rng.randint(3, 24)
        data = bytearray(self.rng.randbytes(n))
        data[0] = (self.unit + 1 + self.rng.randint(0, 200)) % 256 or 0xAA
        if data[0] == self.unit:
            data[0] ^= 0x55
        return bytes(data)
