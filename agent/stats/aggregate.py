"""Hour records from minute records and day records from hour records (aggregates of aggregates).

Gas (HJ 76 App. B, regs.md §2.1): arithmetic mean of the valid sub-records; the hour is N with ≥ 45 valid
minutes, the day with ≥ 20 valid hours. Water (regs.md §3): concentrations flow-weighted, Σ(C·V)/ΣV; pH and
temperature arithmetic. Totals (Cou) add up sub-totals (day = Σ hours, regs.md §2.2); an hour's pollutant total is
its mean × its flow total (HJ 75 G_h = C_h·Q_h) unless `cou_method = "sum"`. Min/Max are the extremes of the
sub-records' Min/Max, so an hour's extremes equal those of its readings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from agent.model import FactorValues, Record, RecordKind
from agent.stats import formulas
from agent.stats.flags import invalid_flag, is_valid_flag, valid_flag
from agent.stats.minute import KG_PER_MG_L_TIMES_M3, KG_PER_MG_M3_TIMES_M3
from agent.stats.outputs import Method, Output, outputs
from agent.stats.params import OutletParams, Role


@dataclass(frozen=True, slots=True)
class BatchCarry:
    """The last valid measurement of a batch analyzer, which stands for `batch_cycle_min` after it completed."""

    time: datetime
    value: float


def _num(fv: FactorValues | None, key: str) -> float | None:
    if fv is None:
        return None
    v = fv.values.get(key)
    return v if isinstance(v, float | int) and not isinstance(v, bool) else None


def _is_valid(fv: FactorValues) -> bool:
    return is_valid_flag(fv.values.get("Flag")) and _num(fv, "Avg") is not None


@dataclass(slots=True)
class _Agg:
    mean: float | None = None
    low: float | None = None
    high: float | None = None
    zs: tuple[float, float, float] | None = None
    cou: float | None = None
    flag: str = "N"
    valid: bool = False
    n: int = 0

    def group(self, code: str) -> FactorValues:
        out: dict[str, float | str] = {}
        if self.mean is not None:
            out["Min"], out["Avg"], out["Max"] = self.low, self.mean, self.high  # type: ignore[assignment]
            if self.zs is not None:
                out["ZsMin"], out["ZsAvg"], out["ZsMax"] = self.zs
            if self.cou is not None:
                out["Cou"] = self.cou
        out["Flag"] = self.flag
        return FactorValues(code, out, self.n)


class _Level:
    def __init__(self, kind: RecordKind, params: OutletParams) -> None:
        self.kind = kind
        self.params = params
        v = params.validity
        if kind is RecordKind.HOUR:
            self.expected = 60 // params.min_interval
            self.need = math.ceil(v.hour_min_valid_minutes / params.min_interval)
        else:
            self.expected = 24
            self.need = v.day_min_valid_hours

    def judge(self, groups: Sequence[FactorValues | None]) -> tuple[bool, str, list[FactorValues]]:
        """Validity, flag and the sub-groups whose values the window reports."""
        p = self.params
        present = [g for g in groups if g is not None]
        valid = [g for g in present if _is_valid(g)]
        ok = len(valid) >= self.need
        if p.validity.rule == "all":
            ok = ok and len(valid) == self.expected
        if ok:
            return True, valid_flag(str(g.values["Flag"]) for g in valid), valid
        flags = [str(g.values.get("Flag", p.flags.missing)) for g in present if not _is_valid(g)]
        flags += [p.flags.missing] * max(0, self.expected - len(present))
        flag = invalid_flag(flags, p.flags)
        if not p.flags.report_invalid_values:
            return False, flag, []
        return False, flag, valid or [g for g in present if _num(g, "Avg") is not None]


def _extremes(used: Sequence[FactorValues], agg: _Agg) -> None:
    lows = [x for g in used if (x := _num(g, "Min") if _num(g, "Min") is not None else _num(g, "Avg")) is not None]
    highs = [x for g in used if (x := _num(g, "Max") if _num(g, "Max") is not None else _num(g, "Avg")) is not None]
    agg.low, agg.high = min(lows), max(highs)


def _total(groups: Sequence[FactorValues | None]) -> float | None:
    cous = [c for g in groups if (c := _num(g, "Cou")) is not None]
    return math.fsum(cous) if cous else None


def _aggregate_one(
    o: Output,
    subs: Sequence[Record],
    level: _Level,
    done: Mapping[str, _Agg],
    carry: Mapping[str, BatchCarry],
    window_start: datetime,
) -> _Agg:
    p = level.params
    groups = [next((g for g in r.factors if g.factor == o.code), None) for r in subs]
    used: list[FactorValues] = []
    if o.method is Method.BATCH and level.kind is RecordKind.HOUR:
        agg = _batch_hour(o, groups, level, carry, window_start)
    else:
        ok, flag, used = level.judge(groups)
        agg = _Agg(flag=flag, valid=ok, n=len(used))
        if used:
            avgs = [_num(g, "Avg") for g in used]
            agg.mean = math.fsum(avgs) / len(avgs)  # type: ignore[arg-type]
            if o.method in (Method.WATER_CONCENTRATION, Method.BATCH):
                agg.mean = _flow_weighted(o, subs, used, p)
            if agg.mean is not None:
                _extremes(used, agg)
    if agg.mean is None:
        return agg
    flow_code = p.reported_flow_code
    if o.method is Method.FLOW:
        agg.cou = _total(groups)
    elif o.method in (Method.GAS_CONCENTRATION, Method.WATER_CONCENTRATION, Method.BATCH):
        per = KG_PER_MG_M3_TIMES_M3 if o.method is Method.GAS_CONCENTRATION else KG_PER_MG_L_TIMES_M3
        flow = done.get(flow_code) if flow_code else None
        if level.kind is RecordKind.DAY or (p.cou_method == "sum" and o.method is not Method.BATCH):
            agg.cou = _total(groups)
        elif flow is not None and flow.cou is not None:
            agg.cou = agg.mean * flow.cou * per
    if o.zs:
        o2f = p.by_role(Role.O2)
        o2 = done.get(o2f.code) if o2f is not None else None
        if o2 is not None and o2.valid and o2.mean is not None and p.reference_o2 is not None:
            k = formulas.zs_factor(o2.mean, p.reference_o2, p.o2_guard)
            if k is not None:
                zl = [x for g in used if (x := _num(g, "ZsMin")) is not None]
                zh = [x for g in used if (x := _num(g, "ZsMax")) is not None]
                low = min(zl) if zl else agg.low * k  # type: ignore[operator]
                high = max(zh) if zh else agg.high * k  # type: ignore[operator]
                agg.zs = (low, agg.mean * k, high)
    return agg


def _flow_weighted(o: Output, subs: Sequence[Record], used: Sequence[FactorValues], p: OutletParams) -> float | None:
    """Σ(C·V)/ΣV over the sub-windows that have both (regs.md §3); `zero_flow_mean` when ΣV is ~0."""
    used_ids = {id(g) for g in used}
    flow_code = p.reported_flow_code
    pairs: list[tuple[float, float]] = []
    plain: list[float] = []
    for r in subs:
        g = next((x for x in r.factors if x.factor == o.code), None)
        if g is None or id(g) not in used_ids:
            continue
        c = _num(g, "Avg")
        plain.append(c)  # type: ignore[arg-type]
        v = _num(next((x for x in r.factors if x.factor == flow_code), None), "Cou") if flow_code else None
        if v is not None:
            pairs.append((c, v))  # type: ignore[arg-type]
    volume = math.fsum(v for _, v in pairs)
    if flow_code is not None and volume >= p.zero_flow_m3 and volume > 0:
        return math.fsum(c * v for c, v in pairs) / volume
    if p.zero_flow_mean == "omit" and flow_code is not None:
        return None
    return math.fsum(plain) / len(plain)


def _batch_hour(
    o: Output,
    groups: Sequence[FactorValues | None],
    level: _Level,
    carry: Mapping[str, BatchCarry],
    window_start: datetime,
) -> _Agg:
    """A batch analyzer's hour is the mean of the measurements completed in it (regs.md §3 [U]); without one,
    `batch_carry = "last"` reuses the last valid measurement while it is younger than `batch_cycle_min`."""
    p = level.params
    present = [g for g in groups if g is not None]
    valid = [g for g in present if _is_valid(g)]
    if valid:
        vals = [_num(g, "Avg") for g in valid]
        return _Agg(
            math.fsum(vals) / len(vals),  # type: ignore[arg-type]
            min(vals),  # type: ignore[type-var]
            max(vals),  # type: ignore[type-var]
            flag=valid_flag(str(g.values["Flag"]) for g in valid),
            valid=True,
            n=len(valid),
        )
    last = carry.get(o.code)
    if (
        p.batch_carry == "last"
        and last is not None
        and last.time < window_start < last.time + timedelta(minutes=p.batch_cycle_min)
    ):
        return _Agg(last.value, last.value, last.value, flag="N", valid=True, n=0)
    flag = invalid_flag([str(g.values.get("Flag", p.flags.missing)) for g in present], p.flags)
    with_values = [v for g in present if (v := _num(g, "Avg")) is not None]
    if with_values and p.flags.report_invalid_values:
        mean = math.fsum(with_values) / len(with_values)
        return _Agg(mean, min(with_values), max(with_values), flag=flag, n=len(with_values))
    return _Agg(flag=flag)


def _order(params: OutletParams) -> list[Output]:
    """Flow first (pollutant totals and weights need it), then O2 (折算 needs it), then the rest."""
    outs = list(outputs(params))
    flow = params.reported_flow_code
    o2 = params.by_role(Role.O2)
    first = [o for o in outs if o.code == flow] + [o for o in outs if o2 is not None and o.code == o2.code]
    return first + [o for o in outs if o not in first]


def aggregate(
    subs: Sequence[Record],
    kind: RecordKind,
    start: datetime,
    params: OutletParams,
    carry: Mapping[str, BatchCarry] | None = None,
) -> Record:
    level = _Level(kind, params)
    subs = sorted(subs, key=lambda r: r.data_time)
    done: dict[str, _Agg] = {}
    for o in _order(params):
        done[o.code] = _aggregate_one(o, subs, level, done, carry or {}, start)
    groups = tuple(done[o.code].group(o.code) for o in outputs(params))
    return Record(params.outlet, kind, start, groups)


def hour_record(
    minutes: Sequence[Record], start: datetime, params: OutletParams, carry: Mapping[str, BatchCarry] | None = None
) -> Record:
    """The hour record starting at `start` from its minute records (missing windows count as missing)."""
    return aggregate(minutes, RecordKind.HOUR, start, params, carry)


def day_record(hours: Sequence[Record], start: datetime, params: OutletParams) -> Record:
    """The day record starting at `start` (00:00) from its hour records."""
    return aggregate(hours, RecordKind.DAY, start, params)


def update_carry(carry: dict[str, BatchCarry], minute: Record, params: OutletParams) -> None:
    """Remember the latest valid batch measurement seen in a minute record (engine and recompute share this)."""
    batch = {o.code for o in outputs(params) if o.method is Method.BATCH}
    for g in minute.factors:
        if g.factor in batch and _is_valid(g):
            carry[g.factor] = BatchCarry(minute.data_time, _num(g, "Avg"))  # type: ignore[arg-type]
