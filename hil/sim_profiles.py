"""One simulated device per profile, built from the profile's own register map on the hil.sim infrastructure.

The simulator writes engineering values back through the profile's scale/offset/byte order (with the
independent encoder of `hil.sim.device.encode_value`), so a read through the real driver stack must give back
what was simulated. Behaviour is plausible rather than random: noise and slow drift around a typical level,
water analyzers measuring in cycles with a daily calibration and standard check, CEMS blow-back periods,
totalizers that integrate the flow, and state registers set from the profile's own state tables.

Faults switch at runtime: `stuck`, `no_answer`, `wire_break` (a 4–20 mA channel at 0 mA), `over_range`.
With `playback`, the points a CSV names follow it instead (`hil.sim.Playback`: offsets in simulated seconds, or
timestamps on the device clock `start` + elapsed); the rest keep their simulated behaviour.
Time comes from the injected clock; `speed` compresses the schedule for demos (60 → an hour per minute).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from drivers.clock import Clock, MonotonicClock
from drivers.profiles.schema import InfoItem, Point, Profile, StateRow, StateTable
from hil.sim.device import Faults, Playback, SimDevice, encode_value

__all__ = ["MODES", "ProfileSim", "typical_level"]

# Typical levels by HJ 212 factor code (units as in the shipped profiles), so a demo looks like a stack.
_FACTOR_LEVELS = {
    "a21026": 35.0,  # SO2 mg/m3
    "a21002": 80.0,  # NOx
    "a21003": 50.0,  # NO
    "a21004": 5.0,  # NO2
    "a21005": 20.0,  # CO
    "a21024": 2.0,  # HCl
    "a19001": 9.5,  # O2 %
    "a01014": 8.0,  # humidity %
    "a34013": 8.0,  # dust mg/m3
    "a01012": 120.0,  # flue temperature ℃
    "a01013": -0.3,  # static pressure kPa
    "a01011": 12.0,  # velocity m/s
    "a01017": 0.15,  # dynamic pressure kPa
    "w01018": 45.0,  # COD mg/L
    "w21003": 3.0,  # NH3-N
    "w21011": 0.3,  # TP
    "w21001": 10.0,  # TN
    "w01001": 7.2,  # pH
    "w01010": 22.0,  # water temperature
    "w00000": 120.0,  # flow
}
_NAME_LEVELS = {
    "ua": 230.0,
    "ub": 230.5,
    "uc": 229.5,
    "ia": 5.0,
    "ib": 4.0,
    "ic": 6.0,
    "pf": 0.95,
    "freq": 50.0,
    "velocity": 1.2,
    "signal_quality": 85.0,
    "nh3": 1.0,
    "co2": 10.0,
}

MODES = ("normal", "idle", "calibration", "check", "maintenance", "blowback", "fault", "stopped")
_MODE_FLAG = {"normal": "N", "idle": "N", "calibration": "C", "check": "C", "maintenance": "M", "fault": "D"}


def typical_level(point: Point) -> float:
    """A plausible steady value for a point (engineering units of its profile)."""
    if point.factor in _FACTOR_LEVELS:
        level = _FACTOR_LEVELS[point.factor]
    elif point.name in _NAME_LEVELS:
        level = _NAME_LEVELS[point.name]
    elif point.range is not None:
        level = point.range[0] + 0.4 * (point.range[1] - point.range[0])
    else:
        level = 10.0
    if point.range is not None:
        level = min(max(level, point.range[0]), point.range[1] * 0.9)
    return level


def _fits(row: StateRow, mode: str) -> bool:
    """Does this state row describe `mode`? Codes from regs.md §4.2 (i12001) and the Hebei i12101 table."""
    code, hebei = row.info.get("i12001"), row.info.get("i12101")
    if mode == "blowback":
        return code == 5
    if mode == "idle":
        return code == 9 or hebei == 0
    if mode == "check":
        return hebei == 6
    if mode == "stopped":
        return row.flag == "F"
    if mode == "normal":
        return row.flag == "N" and code in (0, 7, None) and hebei in (1, None)
    return row.flag == _MODE_FLAG[mode] and code != 5 and hebei not in (6, 99)


@dataclass
class ProfileSim:
    """A Modbus device answering with the profile's register map; `device` goes on a `hil.sim.SimBus`."""

    profile: Profile
    unit: int | None = None
    clock: Clock = field(default_factory=MonotonicClock)
    seed: int = 1
    speed: float = 1.0
    cycle: float = 3600.0
    """Water analyzers: one measurement per cycle (s, before `speed`)."""
    start: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))
    """Wall time of the device clock at t = 0 (calibration and check times are written from it)."""
    playback: Playback | None = None
    """A CSV series the points it names follow (engineering values), on the device clock."""
    command_duration: float = 1200.0
    """Simulated seconds a calibration or standard check started by a `[[commands]]` write lasts."""

    def __post_init__(self) -> None:
        if self.profile.device.protocol != "modbus":
            raise ValueError(f"{self.profile.device.name}: ProfileSim serves Modbus profiles; use hil.sim_meters")
        if self.playback is not None:
            known = {p.name for p in self.profile.values()}
            unknown = [c for c in self.playback.columns if c not in known]
            if unknown:
                raise ValueError(
                    f"playback columns {', '.join(unknown)}: not value points of {self.profile.device.name} "
                    f"(points: {', '.join(sorted(known))})"
                )
        unit = self.unit if self.unit is not None else self.profile.device.unit_id
        self.device = SimDevice(unit=unit, clock=self.clock, seed=self.seed)
        self.rng = random.Random(self.seed)
        self.t0 = self.clock.now()
        self.forced_mode: str | None = None
        self.wire_break: set[str] = set()
        self.over_range: set[str] = set()
        self.mode = "normal"
        self.values: dict[str, float] = {}
        self.energy: dict[str, float] = {}
        self._result: dict[str, float] = {}
        self._cycle_index = -1
        self._last_t = 0.0
        self._levels = {p.name: typical_level(p) for p in self.profile.values()}
        self._phase = {p.name: self.rng.uniform(0, 2 * math.pi) for p in self.profile.values()}
        self.commands: list[tuple[str, float]] = []
        """(kind, simulated time) of every profile command the device received, in order."""
        self._commanded: tuple[str, float] | None = None  # (mode, until t) of a commanded operation
        self._check_start: float | None = None
        self.device.on_write = self._on_write
        self._write_info()
        self.update()

    # -- fault knobs --------------------------------------------------------------------------------------------
    @property
    def faults(self) -> Faults:
        """The unit's protocol-level knobs: no_answer, exception, garbage, disconnect, delay."""
        return self.device.faults

    @property
    def stuck(self) -> bool:
        return self.device.faults.stuck

    @stuck.setter
    def stuck(self, on: bool) -> None:
        self.device.faults.stuck = on

    @property
    def no_answer(self) -> bool:
        return self.device.faults.no_answer

    @no_answer.setter
    def no_answer(self, on: bool) -> None:
        self.device.faults.no_answer = on

    def force(self, mode: str | None) -> None:
        """Hold the device in a mode ("fault", "calibration" …) until `force(None)`."""
        if mode is not None and mode not in MODES:
            raise ValueError(f"mode {mode!r}: one of {', '.join(MODES)}")
        self.forced_mode = mode
        self.update()

    # -- commands ([[commands]] writes) ----------------------------------------------------------------------------
    def _on_write(self, table: int, address: int, values: list[int]) -> None:
        """A write to a command register starts its operation now (the analyzer takes the command and resets the
        register, as vendors' trigger registers do); parameter writes just stay in the registers."""
        t = self.elapsed()
        for command in self.profile.commands:
            target = 1 if command.fc == 5 else 3
            if target != table or command.address != address:
                continue
            wanted = [int(bool(command.value))] if command.fc == 5 else list(command.words)
            if values != wanted:
                continue
            self.commands.append((command.kind, t))
            self.device.set_registers(target, address, [0] * len(values))
            if command.kind in ("zero_calibration", "span_calibration", "calibration"):
                self._commanded = ("calibration", t + self.command_duration)
            elif command.kind == "standard_check":
                self._commanded = ("check", t + self.command_duration)
            elif command.kind == "measure_now":
                self._cycle_index = -1  # a new result at once
        self.update()

    # -- schedule ----------------------------------------------------------------------------------------------
    def elapsed(self) -> float:
        """Simulated seconds since start (clock seconds × speed)."""
        return (self.clock.now() - self.t0) * self.speed

    def scheduled_mode(self, t: float) -> str:
        kind = self.profile.device.kind
        day = t % 86400
        if kind == "water_analyzer":
            if 3600 <= day < 3600 + 1200:
                return "calibration"  # daily calibration at 01:00 (simulated day)
            if 7200 <= day < 7200 + 1200 and self._has_mode("check"):
                return "check"  # daily standard check at 02:00
            return "normal" if (t % self.cycle) < 0.4 * self.cycle else "idle"
        if kind == "cems_gas":
            if 7200 <= day < 7200 + 600:
                return "calibration"
            if self._has_mode("blowback") and (t % 3600) >= 3600 - 180:
                return "blowback"  # 3 min of probe blow-back each hour
        return "normal"

    def _has_mode(self, mode: str) -> bool:
        return any(_fits(row, mode) for table in self.profile.state.values() for row in table.rows)

    # -- values ------------------------------------------------------------------------------------------------
    def _level(self, point: Point, t: float) -> float:
        base = self._levels[point.name]
        drift = 0.05 * abs(base) * math.sin(2 * math.pi * t / 21600 + self._phase[point.name])
        noise = self.rng.gauss(0, 0.01 * abs(base) or 0.01)
        return base + drift + noise

    def update(self) -> None:
        """Recompute every register for the current clock time."""
        t = self.elapsed()
        dt = max(0.0, t - self._last_t)
        self._last_t = t
        if self._commanded is not None and t >= self._commanded[1]:
            self._commanded = None
        commanded = self._commanded[0] if self._commanded is not None else None
        self.mode = self.forced_mode or commanded or self.scheduled_mode(t)
        kind = self.profile.device.kind
        if kind == "water_analyzer":
            index = int(t // self.cycle)
            if index != self._cycle_index or not self._result:
                self._cycle_index = index  # a new result only when a measurement cycle completes
                self._result = {p.name: self._level(p, t) for p in self.profile.values()}
            self.values = dict(self._result)
        else:
            self.values = {p.name: self._level(p, t) for p in self.profile.values()}
        if kind == "digital_input":
            self.values = {name: float((int(t // 600) + n) % 5 != 0) for n, name in enumerate(self.values)}
        if kind == "power":
            self._power(dt)
        if kind == "flow":
            self._flow(dt)
        if self.playback is not None:
            self.values.update(self.playback.values_now(t, self.start + timedelta(seconds=t)))
        if self.mode == "check" and self._check_start is None:
            self._check_start = t
        elif self.mode != "check" and self._check_start is not None:
            self._write_check(self._check_start)  # the result is known when the check ends, dated at its start
            self._check_start = None
        for point in self.profile.values():
            self._write_value(point, self.values[point.name])
        self._write_states()

    def _power(self, dt: float) -> None:
        v = self.values
        watts = sum(v.get(u, 230.0) * v.get(a, 5.0) for u, a in (("ua", "ia"), ("ub", "ib"), ("uc", "ic")))
        watts *= self.values.get("pf", 0.95)
        if "p" in self.values:
            unit = self.profile.point("p").unit
            self.values["p"] = watts / 1000 if unit == "kW" else watts
        for name in ("import_energy", "export_energy"):
            if name in self.values:
                start = 1234.5 if name == "import_energy" else 1.2
                rate = watts / 1000 if name == "import_energy" else 0.0
                self.energy[name] = self.energy.get(name, start) + rate * dt / 3600
                self.values[name] = self.energy[name]

    def _flow(self, dt: float) -> None:
        flow = self.values.get("flow", 0.0)
        for name in ("total", "net_total"):
            if name in self.values:
                self.energy[name] = self.energy.get(name, 50000.0) + flow * dt / 3600  # m3/h → m3
                self.values[name] = self.energy[name]

    # -- registers ---------------------------------------------------------------------------------------------
    def _write(self, item: Point | InfoItem, raw: float | str | bool | datetime) -> None:
        fc, address = item.fc or 3, item.address or 0
        if fc in (1, 2):
            self.device.tables[fc][address] = 1 if raw else 0
            return
        if item.type == "string":
            text = str(raw).encode("ascii")[: 2 * (item.count or 1)].rjust(2 * (item.count or 1), b"\0")
            words = [int.from_bytes(text[k : k + 2], "big") for k in range(0, len(text), 2)]
        elif item.type == "bcd_datetime":
            assert isinstance(raw, datetime)
            digits = raw.strftime("%y%m%d%H%M%S")
            words = [int(digits[k : k + 4], 16) for k in range(0, 12, 4)]
        else:
            assert isinstance(raw, int | float)
            words = encode_value(item.type, raw, item.order or self.profile.device.order)
        self.device.set_registers(fc, address, words)

    def _encode_number(self, item: Point | InfoItem, value: float) -> None:
        self._write(item, (value - item.offset) / item.scale)

    def _write_value(self, point: Point, value: float) -> None:
        if point.name in self.over_range and point.range is not None:
            value = point.range[1] * 1.5 if point.signal is None else point.range[0]
        if point.signal == "4-20mA" and point.range is not None:
            lo, hi = point.range
            milliamps = 4 + 16 * (value - lo) / (hi - lo)
            if point.name in self.over_range:
                milliamps = 20.6  # over range, still below the NE 43 failure limit
            if point.name in self.wire_break:
                milliamps = 0.0
            self._encode_number(point, milliamps)
            return
        if point.fc in (1, 2):
            self._write(point, bool(value))
            return
        if point.plus:
            whole = math.floor(value)
            self._encode_number(point, whole)
            for part in point.plus:
                self._encode_number(self.profile.point(part), value - whole)
            return
        self._encode_number(point, value)
        if point.unit_from is not None:
            preferred = [point.unit, "m3/h", "m3"]
            code = next(
                (c for want in preferred for c, u in point.unit_codes.items() if u == want),
                next(iter(point.unit_codes)),
            )
            self._encode_number(self.profile.point(point.unit_from), float(code))

    def _write_states(self) -> None:
        for key, table in self.profile.state.items():
            point = self.profile.point(key)
            row = self._row_for(table, self.mode) or self._row_for(table, "normal")
            if point.type == "bool" or point.fc in (1, 2):
                self._write(point, row is not None and self._row_for(table, self.mode) is not None)
            elif row is None:
                self._write(point, 0)
            elif table.match == "mask":
                self._write(point, row.mask or 0)
            elif isinstance(row.value, str):
                self._write(point, row.value)
            else:
                self._write(point, row.value or 0)

    @staticmethod
    def _row_for(table: StateTable, mode: str) -> StateRow | None:
        rows: Iterable[StateRow] = table.rows
        if mode == "normal":
            rows = sorted(table.rows, key=lambda r: r.info.get("i12001") != 7)  # prefer "measuring"
        return next((r for r in rows if _fits(r, mode)), None)

    def _info_value(self, item: InfoItem) -> float | datetime | None:
        now = self.start + timedelta(seconds=self.elapsed())
        today = now.replace(hour=1, minute=20, second=0)
        values: dict[str, float | datetime] = {
            "i13001": next((p.range[1] for p in self.profile.values() if p.range), 100.0),
            "i13003": self.cycle / 60,
            "i13004": 165.0,
            "i13005": 30.0,
            "i13007": 0.12,
            "i13008": 1.02,
            "i13119": 1.0,
            "i13120": 1.0,
            "i13101": today,
            "i13107": today,
            "i13104": 0.0,
            "i13108": 0.8 * next((p.range[1] for p in self.profile.values() if p.range), 100.0),
            "i13105": 0.05,
            "i13110": 0.85,
            "i12102": 0.0,
            "i12103": 0.0,
            "i13010": 0.42,
        }
        return values.get(item.code)

    def _write_info(self) -> None:
        for item in self.profile.info:
            value = self._info_value(item)
            if isinstance(value, datetime):
                self._write(item, value)
            elif value is not None:
                self._encode_number(item, value)

    def _write_check(self, t: float) -> None:
        """A finished standard check: the analyzer measured a known standard and records the value it measured, its
        deviation from the standard (%) and the check's start time (hj212-2025.md §5: 2062 DataTime)."""
        by_code = {i.code: i for i in self.profile.info}
        standard = 0.5 * next((p.range[1] for p in self.profile.values() if p.range), 100.0)
        measured = standard * (1 + self.rng.gauss(0, 0.02))
        if "i13130" in by_code:
            self._encode_number(by_code["i13130"], measured)
        if "i13129" in by_code:
            self._encode_number(by_code["i13129"], 100 * (measured - standard) / standard)
        if "i13128" in by_code:
            self._write(by_code["i13128"], self.start + timedelta(seconds=t))

    async def run(self, period: float = 1.0) -> None:
        """Keep the registers moving on the clock (a task; cancel to stop)."""
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                await self.clock.sleep(period)
                self.update()
