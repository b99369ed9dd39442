"""Records as JSON objects and as HJ 212 CP text (numbers rounded to the factor's decimals only there)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.model import Alarm, Record
from uplink.hj212 import Cp


def record_json(record: Record) -> dict[str, Any]:
    return {
        "outlet": record.outlet,
        "kind": str(record.kind),
        "data_time": record.data_time.isoformat(sep=" "),
        "factors": {g.factor: dict(g.values) for g in record.factors},
        "counts": {g.factor: g.count for g in record.factors},
        **({"extra": dict(record.extra)} if record.extra else {}),
    }


def alarm_json(alarm: Alarm) -> dict[str, Any]:
    return {
        "kind": alarm.kind,
        "start": alarm.start.isoformat(sep=" "),
        "end": alarm.end.isoformat(sep=" ") if alarm.end else None,
        "outlet": alarm.outlet,
        "factor": alarm.factor,
        "device": alarm.device,
        "level": alarm.level,
        "detail": alarm.detail,
    }


def cp_text(record: Record, decimals: Mapping[str, int]) -> str:
    """`DataTime=YYYYMMDDhhmmss;code-Suffix=value,...;...` built by the HJ 212 codec (groups by `;`, items by `,`)."""
    factors = [(g.factor, g.values) for g in record.factors]
    return Cp.build({"DataTime": record.data_time}, factors, decimals).text
