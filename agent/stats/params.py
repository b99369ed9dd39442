"""Frozen, validated parameters of one outlet's statistics (one MN).

Every rule whose source is uncertain (regs.md [U], hj212.md notes) is one field here with the common practice as
its default; `docs/statistics.md` lists each field, its source and its default. The agent's TOML configuration
maps onto these models; `das recompute` reads a small TOML file with exactly these keys (`load_params`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agent.model import FLAGS

# HJ 212-2017 Table 4: MinInterval is one of these minutes; RtdInterval 30..3600 s.
MIN_INTERVALS = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)


class Role(StrEnum):
    """What a factor is to the statistics (decides how it is averaged and converted)."""

    CONCENTRATION = "concentration"  # pollutant; gas mg/m3 (or ppm), water mg/L (flow-weighted)
    O2 = "o2"  # flue-gas oxygen %, for 折算 (HJ 212 D.2.3)
    TEMPERATURE = "temperature"  # flue-gas temperature ℃ (a01012), for the standard state and Qsn
    PRESSURE = "pressure"  # flue-gas static pressure kPa (a01013)
    AMBIENT_PRESSURE = "ambient_pressure"  # atmospheric pressure kPa (a01006 / i23001)
    HUMIDITY = "humidity"  # flue-gas moisture % (a01014), for wet→dry
    VELOCITY = "velocity"  # flue-gas velocity m/s (a01011), for Qsn
    FLOW = "flow"  # measured flow rate: gas m3/h, water L/s or m3/h
    MEAN = "mean"  # arithmetic mean only: pH, water temperature, conductivity ...


class OutletKind(StrEnum):
    GAS = "gas"
    WATER = "water"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FactorParams(_Frozen):
    """One measured factor of the outlet."""

    code: str = Field(min_length=1, max_length=12, description="HJ 212 factor code, e.g. a21026 (SO2), w01018 (COD)")
    role: Role = Role.CONCENTRATION
    unit: str = Field("", description="Unit of the readings: mg/m3, ppm, umol/mol, mg/L, %, ℃, kPa, m/s, m3/h, L/s")
    decimals: int = Field(2, ge=0, le=6, description="Decimals in HJ 212 text; values are only rounded there")
    range: tuple[float, float] | None = Field(None, description="Measuring range [low, high]; above high → over_range")
    limit: float | None = Field(None, description="Hour limit, compared with ZsAvg (gas) or Avg (water)")
    molar_mass: float | None = Field(
        None, gt=0, description="g/mol, for ppm → mg/m3 (SO2 64.06, NO 30.006, NO2 46.005)"
    )
    basis: Literal["dry", "wet"] = Field("dry", description="Gas: analyzer reports on a wet or a dry basis")
    state: Literal["standard", "actual"] = Field(
        "standard", description="Gas: analyzer reports at standard state (273 K, 101.325 kPa) or at duct conditions"
    )
    convert_o2: bool = Field(True, description="Gas concentration: also report Zs (折算) values")
    batch: bool = Field(False, description="Water: batch analyzer (one measurement per cycle, e.g. COD every 1-2 h)")

    @model_validator(mode="after")
    def _check(self) -> FactorParams:
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"{self.code}: range {self.range} must be [low, high] with low < high")
        if self.unit.lower() in ("ppm", "umol/mol", "µmol/mol") and self.molar_mass is None:
            raise ValueError(f"{self.code}: unit {self.unit} needs molar_mass to convert to mg/m3")
        return self


class NoxParams(_Frozen):
    """NOx reported as NO2 from NO (and NO2 when measured): NOx = NO·46/30 + NO2 (regs.md §2.2, mass units)."""

    code: str = "a21002"
    no: str = "a21003"
    no2: str | None = "a21004"
    decimals: int = Field(1, ge=0, le=6)
    limit: float | None = None
    range: tuple[float, float] | None = None


class EquipmentParams(_Frozen):
    """One production or treatment facility watched by a digital input or its power (2021 SBxxx-RS, 2041 -RT)."""

    code: str = Field(pattern=r"^SB\w+$", description="HJ 212 equipment code SBxxx")
    source: str = Field(min_length=1, description="Factor code of the reading: digital input 0/1 or power kW")
    role: Literal["production", "treatment"] = "treatment"
    on_threshold: float = Field(0.5, description="Running when the reading is above this (DI: 0.5; power: kW)")
    name: str = ""


class Validity(_Frozen):
    """Validity thresholds (HJ 76 App. B via regs.md §2.1; HJ 212 App. C notes via hj212.md §5)."""

    sample_period_s: float = Field(5.0, gt=0, le=60, description="Nominal sampling period (HJ 76: ≤ 5 s)")
    minute_valid_fraction: float = Field(
        0.75, gt=0, le=1, description="Minute N when valid samples ≥ fraction × window/sample_period (HJ 212 C.16)"
    )
    hour_min_valid_minutes: int = Field(45, ge=1, le=60, description="Hour N with ≥ this many valid minutes (HJ 76)")
    day_min_valid_hours: int = Field(20, ge=1, le=24, description="Day N with ≥ this many valid hours (HJ 76)")
    rule: Literal["threshold", "all"] = Field(
        "threshold", description="'threshold': counts above; 'all': any invalid sub-value makes the window invalid"
    )


class FlagRule(_Frozen):
    """Which flag an invalid window carries (regs.md §4.1 [U]: no rule text found)."""

    mode: Literal["order", "dominant", "fixed"] = "order"
    order: tuple[str, ...] = Field(("F", "D", "M", "C", "T", "B"), description="Most telling first")
    fixed: str = "D"
    missing: str = Field("B", description="Flag of a window without any reading (nothing to average)")
    report_invalid_values: bool = Field(
        True, description="An invalid window still reports what it has (valid values first), flagged"
    )

    @model_validator(mode="after")
    def _check(self) -> FlagRule:
        for flag in (*self.order, self.fixed, self.missing):
            if flag not in FLAGS or flag in ("N", "S"):
                raise ValueError(f"flag {flag!r} must be one of the invalid HJ 212 flags {FLAGS[1:]} except S")
        return self


class AlarmSettings(_Frozen):
    """Self-check thresholds (regs.md §8: platforms make them configurable; no national value found)."""

    constant_count: int = Field(6, ge=0, description="Equal consecutive values (flag N) that raise 'constant'; 0 off")
    constant_level: Literal["hour", "minute"] = "hour"
    comm_timeout_s: float = Field(300.0, gt=0, description="No reading from a device this long → comm_lost")
    linkage_minutes: int = Field(10, ge=1, description="Treatment off while production runs this long → alarm")
    clock_drift_s: float = Field(30.0, gt=0, description="DAS clock vs reference beyond this → clock_drift (regs §1)")


class OutletParams(_Frozen):
    """Everything the statistics of one outlet need; validated on construction."""

    outlet: str = Field(min_length=1, description="Outlet id (its MN or a local name)")
    kind: OutletKind
    min_interval: int = Field(1, description="MinInterval, minutes (HJ 212 Table 4)")
    rtd_interval: int = Field(30, ge=30, le=3600, description="RtdInterval, seconds (HJ 212 Table 4)")
    factors: tuple[FactorParams, ...] = ()
    equipment: tuple[EquipmentParams, ...] = ()
    validity: Validity = Validity()
    flags: FlagRule = FlagRule()
    alarms: AlarmSettings = AlarmSettings()
    cou_method: Literal["mean_product", "sum"] = Field(
        "mean_product", description="Hour Cou: hour Avg × hour flow total, or Σ minute Cou (regs §2.2 [U])"
    )
    # gas
    reference_o2: float | None = Field(None, ge=0, lt=21, description="Reference O2 % of the emission standard")
    o2_guard: float = Field(20.0, gt=0, lt=21, description="No Zs values when dry O2 ≥ this (stack idle, regs §2.2)")
    duct_area: float | None = Field(None, gt=0, description="Duct cross-section F, m2 (Qs = 3600·F·Vs)")
    velocity_coefficient: float = Field(1.0, gt=0, description="Velocity field coefficient Kv (Vs = Kv·Vp)")
    ambient_pressure_kpa: float = Field(101.325, gt=50, lt=120, description="Ba when no ambient_pressure factor")
    flow_code: str | None = Field(
        None, description="Code the Qsn computed from the velocity is reported under (a00000)"
    )
    flow_unit: str = Field("m3/h", description="Unit of the reported flow: m3/h, m3/s (gas); L/s, m3/h (water)")
    flow_decimals: int = Field(2, ge=0, le=6)
    nox: NoxParams | None = None
    # water
    zero_flow_m3: float = Field(0.001, ge=0, description="Below this volume a flow-weighted mean is undefined")
    zero_flow_mean: Literal["arithmetic", "omit"] = Field(
        "arithmetic", description="With ~no flow: arithmetic mean of the concentrations, or no mean (regs §3 [U])"
    )
    batch_carry: Literal["last", "none"] = Field(
        "last", description="Batch analyzer hour without a completed measurement: reuse the last one (regs §3 [U])"
    )
    batch_cycle_min: int = Field(120, ge=1, le=1440, description="A batch measurement stands for at most this long")

    @model_validator(mode="after")
    def _check(self) -> OutletParams:
        if self.min_interval not in MIN_INTERVALS:
            raise ValueError(f"min_interval {self.min_interval} must be one of {MIN_INTERVALS} (HJ 212 Table 4)")
        codes = [f.code for f in self.factors]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"factor codes listed twice: {dupes}")
        if self.kind is OutletKind.GAS:
            if self.flow_unit not in ("m3/h", "m3/s"):
                raise ValueError(f"gas flow_unit {self.flow_unit!r} must be m3/h or m3/s")
            roles = [f.role for f in self.factors]
            for single in (Role.O2, Role.TEMPERATURE, Role.PRESSURE, Role.HUMIDITY, Role.VELOCITY, Role.FLOW):
                if roles.count(single) > 1:
                    raise ValueError(f"only one factor may have role {single.value}")
            if Role.VELOCITY in roles and self.duct_area is None:
                raise ValueError("a velocity factor needs duct_area to compute Qsn")
            if Role.VELOCITY in roles and not {Role.TEMPERATURE, Role.HUMIDITY} <= set(roles):
                raise ValueError("Qsn from the velocity needs temperature and humidity factors (HJ 75 App. A)")
            if any(f.batch for f in self.factors):
                raise ValueError("batch analyzers apply to water outlets only")
            if Role.VELOCITY in roles and Role.FLOW in roles:
                raise ValueError("give either a velocity (Qsn computed) or a measured flow factor, not both")
            if any(f.role is Role.CONCENTRATION and f.convert_o2 for f in self.factors) and (
                self.reference_o2 is not None and Role.O2 not in roles
            ):
                raise ValueError("reference_o2 is set but no factor has role o2")
            wet = any(f.basis == "wet" for f in self.factors)
            if wet and Role.HUMIDITY not in roles:
                raise ValueError("a wet-basis factor needs a humidity factor for the dry conversion")
            actual = any(f.state == "actual" for f in self.factors)
            if actual and Role.TEMPERATURE not in roles:
                raise ValueError("a factor at duct conditions needs a temperature factor for the standard state")
            if Role.VELOCITY in roles and not self.flow_code:
                raise ValueError(
                    "set flow_code (e.g. a00000): the flow computed from the velocity is reported under it"
                )
            if self.nox is not None:
                for code in (self.nox.no, self.nox.no2):
                    if code is not None and code not in codes:
                        raise ValueError(f"nox uses {code}, which is not a factor")
                if self.nox.code in codes:
                    raise ValueError(f"nox code {self.nox.code} is derived; do not list it as a factor")
        else:
            if self.flow_unit not in ("L/s", "m3/h"):
                raise ValueError(f"water flow_unit {self.flow_unit!r} must be L/s or m3/h")
            if self.nox is not None:
                raise ValueError("nox applies to gas outlets only")
            if sum(f.role is Role.FLOW for f in self.factors) > 1:
                raise ValueError("only one factor may have role flow")
        measured_flow = self.by_role(Role.FLOW)
        if measured_flow is not None and self.flow_code not in (None, measured_flow.code):
            raise ValueError(f"flow_code {self.flow_code} differs from the flow factor {measured_flow.code}")
        if measured_flow is not None and measured_flow.unit not in ("m3/h", "m3/s", "L/s"):
            raise ValueError(f"flow factor {measured_flow.code}: unit {measured_flow.unit!r} must be m3/h, m3/s or L/s")
        for eq in self.equipment:
            if eq.source in codes:
                raise ValueError(f"equipment {eq.code} source {eq.source} is also a measured factor")
        return self

    def factor(self, code: str) -> FactorParams | None:
        for f in self.factors:
            if f.code == code:
                return f
        return None

    def by_role(self, role: Role) -> FactorParams | None:
        for f in self.factors:
            if f.role is role:
                return f
        return None

    @property
    def reported_flow_code(self) -> str | None:
        """The factor code the flow is reported under: the measured flow factor, or flow_code for Qsn."""
        measured = self.by_role(Role.FLOW)
        return measured.code if measured is not None else self.flow_code

    @property
    def minute_seconds(self) -> int:
        return self.min_interval * 60
