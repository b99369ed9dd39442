"""Minute and real-time records from readings: per-factor statistics, then the conversions of regs.md §2.2.

Conversions (ppm → mg/m3, wet → dry, duct → standard state, Qsn, NOx as NO2, 折算) use the window means of the
auxiliary parameters, as HJ 76 keeps minute means of every parameter. Min/Max are converted with the same factor.
A value made from several inputs carries the most telling invalid flag of them; when an input has no value the
result has none either (only its Flag).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from agent.model import FactorValues, Reading, Record, RecordKind
from agent.stats import formulas
from agent.stats.outputs import Method, outputs
from agent.stats.params import OutletKind, OutletParams, Role
from agent.stats.samples import Stat, combine_flags, missing_stat, required_samples, sample_stat

KG_PER_MG_M3_TIMES_M3 = 1e-6  # mg/m3 × m3 → kg
KG_PER_MG_L_TIMES_M3 = 1e-3  # mg/L × m3 → kg


def group_by_factor(readings: Iterable[Reading]) -> dict[str, list[Reading]]:
    by: dict[str, list[Reading]] = defaultdict(list)
    for r in readings:
        by[r.factor].append(r)
    return by


def factor_stats(readings: Iterable[Reading], window_s: float, params: OutletParams) -> dict[str, Stat | None]:
    """Per measured factor its window statistics; a batch factor without a measurement in the window is None."""
    by = group_by_factor(readings)
    v = params.validity
    required = required_samples(window_s, v.minute_valid_fraction, v.sample_period_s)
    out: dict[str, Stat | None] = {}
    for f in params.factors:
        rs = by.get(f.code, [])
        if f.batch and params.kind is OutletKind.WATER:
            out[f.code] = sample_stat(rs, 1, params.flags) if rs else None
        else:
            out[f.code] = sample_stat(rs, required, params.flags, all_valid=v.rule == "all")
    return out


def snapshot_stats(readings: Iterable[Reading], params: OutletParams) -> dict[str, Stat | None]:
    """Real-time: the latest reading of each factor (HJ 212 2011 Rtd is a sampled value, not a mean)."""
    latest: dict[str, Reading] = {}
    for r in readings:
        prev = latest.get(r.factor)
        if prev is None or r.time >= prev.time:
            latest[r.factor] = r
    out: dict[str, Stat | None] = {}
    for f in params.factors:
        r = latest.get(f.code)
        if r is None:
            out[f.code] = None if f.batch else missing_stat(params.flags)
        else:
            out[f.code] = sample_stat([r], 1, params.flags)
    return out


def _with_inputs(value: Stat, inputs: Sequence[Stat], k: float | None, params: OutletParams) -> Stat:
    """`value` scaled by k, flagged by all inputs; no value when k could not be made."""
    valid, flag = combine_flags([value, *inputs], params.flags)
    scaled = value.scaled(k) if k is not None else Stat(None, None, None, 0, valid, flag)
    return Stat(scaled.mean, scaled.low, scaled.high, scaled.n, valid, flag)


class _Aux:
    """The auxiliary parameters of one window (flue-gas humidity, temperature, pressures)."""

    def __init__(self, stats: Mapping[str, Stat | None], params: OutletParams) -> None:
        def get(role: Role) -> Stat | None:
            f = params.by_role(role)
            return stats.get(f.code) if f is not None else None

        self.params = params
        self.humidity = get(Role.HUMIDITY)
        self.temperature = get(Role.TEMPERATURE)
        self.pressure = get(Role.PRESSURE)
        self.ambient = get(Role.AMBIENT_PRESSURE)

    def abs_pressure(self) -> tuple[float | None, list[Stat]]:
        """Ba + Ps in kPa: Ba from its factor or the configured constant, Ps from its factor or 0."""
        deps: list[Stat] = []
        ba = self.params.ambient_pressure_kpa
        if self.ambient is not None:
            deps.append(self.ambient)
            ba = self.ambient.mean  # type: ignore[assignment]
        ps: float | None = 0.0
        if self.pressure is not None:
            deps.append(self.pressure)
            ps = self.pressure.mean
        if ba is None or ps is None:
            return None, deps
        return ba + ps, deps

    def dry(self) -> tuple[float | None, list[Stat]]:
        h = self.humidity
        if h is None or h.mean is None:
            return None, [h] if h is not None else []
        return formulas.wet_to_dry_factor(h.mean), [h]

    def standard(self) -> tuple[float | None, list[Stat]]:
        t = self.temperature
        p, deps = self.abs_pressure()
        if t is None or t.mean is None or p is None:
            return None, [*deps, *([t] if t is not None else [])]
        return formulas.actual_to_standard_factor(t.mean, p), [t, *deps]

    def flow_standard_dry(self, wet: bool, actual: bool) -> tuple[float | None, list[Stat]]:
        deps: list[Stat] = []
        temp = p = hum = None
        if actual:
            t = self.temperature
            p, pdeps = self.abs_pressure()
            deps += pdeps
            if t is not None:
                deps.append(t)
                temp = t.mean
            if temp is None or p is None:
                return None, deps
        if wet:
            h = self.humidity
            if h is None or h.mean is None:
                return None, [*deps, *([h] if h is not None else [])]
            deps.append(h)
            hum = h.mean
        return formulas.flow_to_standard_dry_factor(temp, p, hum), deps


def convert(stats: Mapping[str, Stat | None], params: OutletParams) -> dict[str, Stat]:
    """Reported values per output code: concentrations dry, standard, mg/m3; flows in m3/h (dry standard for gas)."""
    out: dict[str, Stat] = {}
    gas = params.kind is OutletKind.GAS
    aux = _Aux(stats, params)
    for f in params.factors:
        s = stats.get(f.code)
        if s is None:
            continue
        if gas and f.role in (Role.CONCENTRATION, Role.O2):
            k: float | None = 1.0
            deps: list[Stat] = []
            if f.molar_mass is not None and f.unit.lower() in ("ppm", "umol/mol", "µmol/mol"):
                k = formulas.ppm_to_mg(1.0, f.molar_mass)
            if f.basis == "wet":
                kd, d = aux.dry()
                deps += d
                k = k * kd if (k is not None and kd is not None) else None
            if f.state == "actual" and f.role is Role.CONCENTRATION:
                ks, d = aux.standard()
                deps += d
                k = k * ks if (k is not None and ks is not None) else None
            out[f.code] = _with_inputs(s, deps, k, params)
        elif f.role is Role.FLOW:
            k = formulas.flow_to_m3h(1.0, f.unit)
            deps = []
            if gas and (f.basis == "wet" or f.state == "actual"):
                kf, deps = aux.flow_standard_dry(f.basis == "wet", f.state == "actual")
                k = k * kf if kf is not None else None
            out[f.code] = _with_inputs(s, deps, k, params)
        else:
            out[f.code] = s
    if gas and params.nox is not None:
        no = out.get(params.nox.no)
        if no is not None:
            parts = [no] + ([out[params.nox.no2]] if params.nox.no2 and params.nox.no2 in out else [])
            out[params.nox.code] = _nox(no, parts[1] if len(parts) > 1 else None, params)
    velocity = params.by_role(Role.VELOCITY)
    if gas and velocity is not None and params.flow_code and velocity.code in out:
        v = out[velocity.code]
        kf, deps = aux.flow_standard_dry(True, True)
        k = formulas.qs_m3h(1.0, params.duct_area or 0.0, params.velocity_coefficient) * kf if kf is not None else None
        out[params.flow_code] = _with_inputs(v, deps, k, params)
    return out


def _nox(no: Stat, no2: Stat | None, params: OutletParams) -> Stat:
    """NOx as NO2 = NO·46/30 + NO2; Min/Max are the sums of the parts' extremes (bounds of the true extremes)."""
    parts = [no] if no2 is None else [no, no2]
    valid, flag = combine_flags(parts, params.flags)
    if any(p.mean is None or p.low is None or p.high is None for p in parts):
        return Stat(None, None, None, 0, valid, flag)
    mean = no.mean * formulas.NO_TO_NO2  # type: ignore[operator]
    low = no.low * formulas.NO_TO_NO2  # type: ignore[operator]
    high = no.high * formulas.NO_TO_NO2  # type: ignore[operator]
    if no2 is not None:
        mean += no2.mean  # type: ignore[operator]
        low += no2.low  # type: ignore[operator]
        high += no2.high  # type: ignore[operator]
    return Stat(mean, low, high, min(p.n for p in parts), valid, flag)


def zs_factor(converted: Mapping[str, Stat], params: OutletParams) -> float | None:
    """The window's 折算 factor from its own valid dry O2 mean; None without one or near 21 % (o2_guard)."""
    o2f = params.by_role(Role.O2)
    if o2f is None or params.reference_o2 is None:
        return None
    o2 = converted.get(o2f.code)
    if o2 is None or not o2.valid or o2.mean is None:
        return None
    return formulas.zs_factor(o2.mean, params.reference_o2, params.o2_guard)


def to_report(code: str, s: Stat, params: OutletParams) -> Stat:
    """Flows are kept in m3/h inside; the record carries them in the configured unit."""
    if code == params.reported_flow_code:
        return s.scaled(formulas.m3h_to_flow(1.0, params.flow_unit))
    return s


def values(s: Stat, *, rtd: bool, zs: Stat | None = None, cou: float | None = None) -> dict[str, float | str]:
    out: dict[str, float | str] = {}
    if s.mean is not None:
        if rtd:
            out["Rtd"] = s.mean
            if zs is not None and zs.mean is not None:
                out["ZsRtd"] = zs.mean
        else:
            out["Min"], out["Avg"], out["Max"] = s.low, s.mean, s.high  # type: ignore[assignment]
            if zs is not None and zs.mean is not None:
                out["ZsMin"], out["ZsAvg"], out["ZsMax"] = zs.low, zs.mean, zs.high  # type: ignore[assignment]
            if cou is not None:
                out["Cou"] = cou
    out["Flag"] = s.flag
    return out


def factor_groups(
    stats: Mapping[str, Stat | None], params: OutletParams, window_s: float | None
) -> tuple[FactorValues, ...]:
    """Factor groups of a minute (window_s given, with Cou) or real-time (window_s None) record."""
    conv = convert(stats, params)
    k_zs = zs_factor(conv, params)
    flow_code = params.reported_flow_code
    volume = None
    if window_s is not None and flow_code in conv and conv[flow_code].mean is not None:
        volume = conv[flow_code].mean * window_s / 3600.0  # type: ignore[operator]
    groups: list[FactorValues] = []
    for o in outputs(params):
        s = conv.get(o.code)
        if s is None:
            continue
        zs = s.scaled(k_zs) if (o.zs and k_zs is not None and s.mean is not None) else None
        cou = None
        if volume is not None and s.mean is not None:
            if o.method is Method.FLOW:
                cou = volume
            elif o.method is Method.GAS_CONCENTRATION:
                cou = s.mean * volume * KG_PER_MG_M3_TIMES_M3
            elif o.method is Method.WATER_CONCENTRATION:
                cou = s.mean * volume * KG_PER_MG_L_TIMES_M3
        groups.append(
            FactorValues(o.code, values(to_report(o.code, s, params), rtd=window_s is None, zs=zs, cou=cou), s.n)
        )
    return tuple(groups)


def minute_record(readings: Iterable[Reading], start: datetime, end: datetime, params: OutletParams) -> Record:
    """The record of the MinInterval window [start, end) from the readings stamped inside it.

    Batch-analyzer readings must already be one per measurement (`samples.batch_measurements`).
    """
    window_s = (end - start).total_seconds()
    stats = factor_stats(readings, window_s, params)
    return Record(params.outlet, RecordKind.MINUTE, start, factor_groups(stats, params, window_s))


def rtd_record(readings: Iterable[Reading], tick: datetime, params: OutletParams) -> Record:
    """Real-time record at `tick` from the latest reading of each factor in (tick − RtdInterval, tick]."""
    stats = snapshot_stats(readings, params)
    return Record(params.outlet, RecordKind.RTD, tick, factor_groups(stats, params, None))
