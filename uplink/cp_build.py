"""HJ 212 CP from the agent's records and events (HJ 212-2017 Appendix C; 2025 additions per hj212-2025.md).

Pure: the session uses it for uploads, the command handler for history answers, the tests to check that what
the platform decoded is exactly what was stored. Outbox payload items (3019, 3020, 2081, 2062: things that are
not statistics records) carry their CN, ST and CP text as a small JSON object, made by `payload_item`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from agent.model import Record, RecordKind
from uplink.hj212 import CN, Cp, CpError

# HJ 212-2017 Table 9: which CN uploads which record kind.
KIND_CN: Mapping[RecordKind, CN] = {
    RecordKind.RTD: CN.RTD_DATA,
    RecordKind.MINUTE: CN.MINUTE_DATA,
    RecordKind.HOUR: CN.HOUR_DATA,
    RecordKind.DAY: CN.DAY_DATA,
    RecordKind.RUNTIME_DAY: CN.RUNTIME_DAY_DATA,
    RecordKind.STATE: CN.EQUIPMENT_STATE,
}

# HJ 212-2025 §6 (hj212-2025.md): electricity monitoring codes d2xxxx (production) / d3xxxx (treatment)
# travel as CN 2011 with ST=44, key production conditions p99xxx with ST=45.
ST_ELECTRICITY = "44"
ST_PRODUCTION = "45"


# The store keys records by (outlet, kind, DataTime): an outlet's ST=44 real-time record at the same tick as its
# own 2011 record is kept under the outlet's power stream `<outlet>:44` (':' never occurs in an outlet id).
_POWER_STREAM = ":" + ST_ELECTRICITY


def power_stream(outlet: str) -> str:
    """Where an outlet's ST=44 records are stored (`agent/daemon/power.py`)."""
    return outlet + _POWER_STREAM


def record_outlet(outlet: str) -> str:
    """The outlet (whose sessions and MN) a stored record's outlet key belongs to."""
    return outlet.removesuffix(_POWER_STREAM)


def record_cn(record: Record) -> CN:
    """The upload CN of a record kind (2011/2051/2061/2031/2041/2021)."""
    return KIND_CN[RecordKind(record.kind)]


def is_power_record(record: Record) -> bool:
    """All factors are HJ 212-2025 electricity codes (d2xxxx/d3xxxx): sent with ST=44, 2025 only."""
    return bool(record.factors) and all(
        len(f.factor) == 6 and f.factor[0] == "d" and f.factor[1] in "23" for f in record.factors
    )


def is_process_record(record: Record) -> bool:
    """All factors are key production condition codes (p99xxx): ST=45, 2025 only."""
    return bool(record.factors) and all(f.factor.startswith("p99") for f in record.factors)


def record_st(record: Record, default_st: str) -> str:
    """ST for a record: 44/45 for electricity/production-condition records (2025), else the platform's ST."""
    if is_power_record(record):
        return ST_ELECTRICITY
    if is_process_record(record):
        return ST_PRODUCTION
    return default_st


def record_to_cp(record: Record, decimals: Mapping[str, int]) -> Cp:
    """`DataTime` (window start, §6.3.3), the record's plain keys, then one group per factor in stored order.

    Numbers get the factor's (or `code-suffix`'s) decimal count; flags go as stored. A value that cannot be
    sent (NaN, a `;` in text) raises `CpError`: the record is reported, never patched.
    """
    plain: dict[str, object] = {"DataTime": record.data_time}
    for key, value in record.extra.items():
        if key == "DataTime":
            continue
        plain[key] = value
    factors = [(f.factor, f.values) for f in record.factors]
    return Cp.build(plain, factors, decimals)


# --- payload items (not statistics records) -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Payload:
    """A ready CP for one CN (and optionally its own ST) as kept in an outbox payload item."""

    cn: str
    cp: Cp
    st: str | None = None


def payload_item(cn: str, cp: Cp, *, st: str | None = None) -> str:
    """The outbox payload text for a frame with this CN/CP."""
    data: dict[str, str] = {"cn": str(cn), "cp": cp.text}
    if st is not None:
        data["st"] = st
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def parse_payload(text: str) -> Payload:
    """Read an outbox payload; CpError (with the reason) when it is not one of ours."""
    try:
        data = json.loads(text)
        cn, cp_text, st = data["cn"], data["cp"], data.get("st")
    except (ValueError, KeyError, TypeError) as err:
        raise CpError(f"outbox payload is not {{cn, cp[, st]}} JSON: {text[:80]!r}") from err
    if not (isinstance(cn, str) and len(cn) == 4 and cn.isdigit()):
        raise CpError(f"outbox payload has a bad CN {cn!r}")
    return Payload(cn=cn, cp=Cp.parse(cp_text), st=st if isinstance(st, str) else None)


def instrument_sn_cp(data_time: datetime, pol_id: str, sn: str) -> Cp:
    """3019 (C.39): `DataTime;PolId;<pol>-SN`, sent when an instrument is replaced."""
    return Cp.build({"DataTime": data_time, "PolId": pol_id}, [(pol_id, {"SN": sn})])


def site_info_cp(data_time: datetime, pol_id: str | None, info: Mapping[str, object]) -> Cp:
    """3020 (C.40-C.46): `DataTime[;PolId];iXXXXX-Info=…` (PolId omitted for non-instrument info).

    Logs (i11001/i21001/i31001) must come wrapped in `//…//`; numbers go as given (Cp.build keeps floats short).
    """
    plain: dict[str, object] = {"DataTime": data_time}
    if pol_id:
        plain["PolId"] = pol_id
    return Cp.build(plain, [(code, {"Info": value}) for code, value in info.items()])


def restart_cp(data_time: datetime, restart_time: datetime) -> Cp:
    """2081 (C.37): `DataTime;RestartTime`."""
    return Cp.build({"DataTime": data_time, "RestartTime": restart_time})


def standard_check_cp(
    data_time: datetime,
    pol_id: str,
    sample_rd: float,
    standard_value: float,
    passed: bool,
    decimals: Mapping[str, int] | None = None,
) -> Cp:
    """2062 (HJ 212-2025 C59): `DataTime;<pol>-SampleRd,<pol>-StandardValue,<pol>-ResultType` (1 pass, 0 fail)."""
    values = {"SampleRd": sample_rd, "StandardValue": standard_value, "ResultType": "1" if passed else "0"}
    return Cp.build({"DataTime": data_time}, [(pol_id, values)], decimals)
