"""Records as JSON objects and as HJ 212 CP text (numbers rounded to the factor's decimals only here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.model import Alarm, Record


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


def _number(value: float, places: int) -> str:
    text = f"{value:.{places}f}"
    return "0" + text[2:] if text.startswith("-0") and float(text) == 0 else text


def cp_text(record: Record, decimals: Mapping[str, int]) -> str:
    """`DataTime=YYYYMMDDhhmmss;code-Suffix=value,...;...` in HJ 212 §6.3.3 syntax (groups by `;`, items by `,`)."""
    parts = [f"DataTime={record.data_time:%Y%m%d%H%M%S}"]
    for g in record.factors:
        items = []
        for suffix, value in g.values.items():
            if isinstance(value, str):
                items.append(f"{g.factor}-{suffix}={value}")
            elif suffix == "RS":
                items.append(f"{g.factor}-{suffix}={int(value)}")
            else:
                items.append(f"{g.factor}-{suffix}={_number(value, decimals.get(g.factor, 2))}")
        parts.append(",".join(items))
    return ";".join(parts)
