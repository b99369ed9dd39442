"""The factor groups an outlet's records carry, in order, and how each is aggregated."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from agent.stats.params import OutletKind, OutletParams, Role


class Method(StrEnum):
    GAS_CONCENTRATION = "gas_concentration"  # arithmetic mean, Zs, Cou in kg from the dry concentration × Qsn
    WATER_CONCENTRATION = "water_concentration"  # flow-weighted mean, Cou in kg = C × V
    BATCH = "batch"  # water batch analyzer: the hour is its completed measurement(s)
    FLOW = "flow"  # mean rate, Cou = volume m3
    MEAN = "mean"  # arithmetic mean only (O2, temperature, pressure, humidity, velocity, pH ...)


@dataclass(frozen=True, slots=True)
class Output:
    code: str
    method: Method
    decimals: int
    limit: float | None = None
    range: tuple[float, float] | None = None
    zs: bool = False  # carries ZsAvg/ZsMin/ZsMax
    checked: bool = False  # zero / negative self-checks apply (concentrations and flow)


@lru_cache(maxsize=64)
def outputs(params: OutletParams) -> tuple[Output, ...]:
    gas = params.kind is OutletKind.GAS
    zs_on = gas and params.reference_o2 is not None and params.by_role(Role.O2) is not None
    out: list[Output] = []
    for f in params.factors:
        if f.role is Role.CONCENTRATION:
            method = Method.GAS_CONCENTRATION if gas else (Method.BATCH if f.batch else Method.WATER_CONCENTRATION)
            out.append(Output(f.code, method, f.decimals, f.limit, f.range, zs_on and f.convert_o2, True))
        elif f.role is Role.FLOW:
            out.append(Output(f.code, Method.FLOW, params.flow_decimals, f.limit, f.range, False, True))
        else:
            out.append(Output(f.code, Method.MEAN, f.decimals, f.limit, f.range))
        if params.nox is not None and f.code == params.nox.no:
            nox = params.nox
            out.append(Output(nox.code, Method.GAS_CONCENTRATION, nox.decimals, nox.limit, nox.range, zs_on, True))
    if gas and params.by_role(Role.VELOCITY) is not None and params.flow_code:
        out.append(Output(params.flow_code, Method.FLOW, params.flow_decimals, None, None, False, True))
    return tuple(out)


def decimals(params: OutletParams) -> dict[str, int]:
    """Per factor code (or `code-suffix`) the decimals of its HJ 212 text (SBxxx-RT N2.2, SBxxx-RS N1)."""
    table = {o.code: o.decimals for o in outputs(params)}
    for eq in params.equipment:
        table[f"{eq.code}-RT"] = 2
        table[f"{eq.code}-RS"] = 0
    return table
