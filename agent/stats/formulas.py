"""Flue-gas formulas of HJ 75-2017 App. A as summarised in regs.md §2.2 (standard state 273 K, 101.325 kPa).

Pure arithmetic on floats; callers decide validity and flags. A conversion that would divide by zero or by a
negative number returns None: a value that cannot be made honestly is not made.
"""

from __future__ import annotations

T0_K = 273.0  # regs.md §2.2 uses 273 (not 273.15) in Qsn and the standard-state conversion
P0_KPA = 101.325
MOLAR_VOLUME_L = 22.4  # ppm (µmol/mol) → mg/m3: × M / 22.4
NO_TO_NO2 = 46.0 / 30.0  # regs.md §2.2 and devices.md §2.2: NOx(as NO2) = NO·46/30 + NO2


def ppm_to_mg(ppm: float, molar_mass: float) -> float:
    return ppm * molar_mass / MOLAR_VOLUME_L


def wet_to_dry_factor(humidity_pct: float) -> float | None:
    """Multiply a wet concentration by this to get the dry one: 1/(1 − Xsw)."""
    xsw = humidity_pct / 100.0
    if not 0.0 <= xsw < 1.0:
        return None
    return 1.0 / (1.0 - xsw)


def actual_to_standard_factor(temp_c: float, abs_pressure_kpa: float) -> float | None:
    """Multiply a concentration at duct conditions by this to get it at the standard state."""
    if T0_K + temp_c <= 0 or abs_pressure_kpa <= 0:
        return None
    return (T0_K + temp_c) / T0_K * P0_KPA / abs_pressure_kpa


def flow_to_standard_dry_factor(
    temp_c: float | None, abs_pressure_kpa: float | None, humidity_pct: float | None
) -> float | None:
    """Multiply a wet flow at duct conditions by this to get the dry standard flow (HJ 75 A: Qsn from Qs)."""
    k = 1.0
    if temp_c is not None:
        if T0_K + temp_c <= 0:
            return None
        k *= T0_K / (T0_K + temp_c)
    if abs_pressure_kpa is not None:
        if abs_pressure_kpa <= 0:
            return None
        k *= abs_pressure_kpa / P0_KPA
    if humidity_pct is not None:
        xsw = humidity_pct / 100.0
        if not 0.0 <= xsw < 1.0:
            return None
        k *= 1.0 - xsw
    return k


def qs_m3h(velocity_ms: float, duct_area_m2: float, velocity_coefficient: float = 1.0) -> float:
    """Wet flow at duct conditions, m3/h: Qs = 3600 · F · Kv · Vp."""
    return 3600.0 * duct_area_m2 * velocity_coefficient * velocity_ms


def zs_factor(o2_dry_pct: float, reference_o2_pct: float, guard_pct: float) -> float | None:
    """折算 factor (21 − O2ref)/(21 − O2) (HJ 212 D.2.3); None at or above the guard, where it explodes."""
    if o2_dry_pct >= guard_pct or o2_dry_pct >= 21.0:
        return None
    return (21.0 - reference_o2_pct) / (21.0 - o2_dry_pct)


def flow_to_m3h(value: float, unit: str) -> float:
    if unit == "m3/h":
        return value
    if unit == "m3/s":
        return value * 3600.0
    if unit == "L/s":
        return value * 3.6
    raise ValueError(f"unknown flow unit {unit!r} (m3/h, m3/s, L/s)")


def m3h_to_flow(value: float, unit: str) -> float:
    return value / flow_to_m3h(1.0, unit)
