"""Topics and JSON payloads of the MQTT target (docs/mqtt.md is the consumer's description of both).

Pure functions: no broker, no store writes. Every published item carries `id`, the outbox item id, which is
unique per target and the same on every re-send: delivery is at-least-once (an item is done only on its
PUBACK, so a PUBACK lost in a broker restart means a second copy), and consumers dedupe on `id`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from agent.model import KIND_NAMES, Alarm, RecordKind
from buffer import OutboxItem, StoredAlarm, StoredRecord
from uplink.cp_build import KIND_CN
from uplink.mqtt.factors import label_for
from uplink.mqtt.settings import FactorLabel, MqttSettings

__all__ = [
    "RECORD_CN",
    "PayloadError",
    "Topics",
    "alarm_body",
    "dumps",
    "envelope",
    "iso_time",
    "payload_body",
    "record_body",
    "status_body",
]

# A record's topic kind is its `agent.model.KIND_NAMES` name (rtd|minute|hour|day|runtime|state); with it goes
# the HJ 212 CN it is uploaded with on the platform side (`uplink.cp_build.KIND_CN`), so a consumer can relate
# the two.
RECORD_CN: Mapping[RecordKind, str] = {kind: cn.value for kind, cn in KIND_CN.items()}
_JSON: dict[str, Any] = {"ensure_ascii": False, "separators": (",", ":"), "allow_nan": False}


class PayloadError(ValueError):
    """An outbox item that cannot be published as it is (bad topic level, payload not a JSON object)."""


def _level(what: str, value: str) -> str:
    """One topic level: MQTT 3.1.1 §4.7 gives '/' a meaning and forbids wildcards and NUL in a published name."""
    if not value or any(c in value for c in "/+#\x00"):
        raise PayloadError(f"{what} {value!r} cannot be an MQTT topic level (empty, or has '/', '+', '#')")
    return value


class Topics:
    """The topic names of one target: `<prefix>/<site>/...`."""

    def __init__(self, settings: MqttSettings) -> None:
        self.base = f"{settings.prefix}/{settings.site}"
        self.alarm = f"{self.base}/alarm"
        self.status = f"{self.base}/status"
        self.availability = f"{self.base}/availability"

    def record(self, outlet: str, kind: RecordKind) -> str:
        return f"{self.base}/{_level('outlet', outlet)}/{KIND_NAMES[kind]}"

    def payload(self, kind: str) -> str:
        """Topic of a payload item: alarms on `alarm`, any other payload kind on a level of its own name."""
        return self.alarm if kind == "alarm" else f"{self.base}/{_level('payload kind', kind)}"


def _zone(settings: MqttSettings) -> timezone:
    sign = -1 if settings.zone.startswith("-") else 1
    hours, minutes = settings.zone[1:].split(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


def iso_time(value: datetime | None, settings: MqttSettings) -> str | None:
    """ISO 8601 with the configured offset: agent times are naive local (HJ 212 DataTime has no zone)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=_zone(settings))
    return value.isoformat()


def _labels(
    code: str | None, settings: MqttSettings, table: Mapping[str, FactorLabel] | None, *, with_cou: bool
) -> dict[str, str]:
    label = label_for(code, settings.factors, table) if code else None
    if label is None:
        return {}
    out = {"name_zh": label.name_zh, "name_en": label.name_en, "unit": label.unit}
    if with_cou:
        out["cou_unit"] = label.cou_unit
    return {key: text for key, text in out.items() if text}


def record_body(
    stored: StoredRecord,
    settings: MqttSettings,
    mns: Mapping[str, Mapping[str, str]] | None = None,
    labels: Mapping[str, FactorLabel] | None = None,
) -> dict[str, Any]:
    """The JSON object of one stored record (without the per-send `id`/`attempt`, see `envelope`).

    `mns`: outlet → {platform: MN}; `labels`: the site's factor table (default: the built-in one).
    """
    record = stored.record
    factors: dict[str, Any] = {}
    for group in record.factors:
        entry: dict[str, Any] = _labels(group.factor, settings, labels, with_cou="Cou" in group.values)
        entry.update(group.values)
        entry["count"] = group.count
        factors[group.factor] = entry
    body: dict[str, Any] = {"site": settings.site, "outlet": record.outlet}
    mn = dict((mns or {}).get(record.outlet, {}))
    if mn:
        body["mn"] = mn
    body.update(
        kind=KIND_NAMES[record.kind],
        cn=RECORD_CN[record.kind],
        data_time=iso_time(record.data_time, settings),
        record_id=stored.id,
        revision=stored.revision,
        factors=factors,
    )
    if record.extra:
        body["extra"] = dict(record.extra)
    return body


def alarm_body(
    stored: StoredAlarm, settings: MqttSettings, labels: Mapping[str, FactorLabel] | None = None
) -> dict[str, Any]:
    """The JSON object of an alarm as it stands (opened, or cleared when `end` is set)."""
    alarm: Alarm = stored.alarm
    body: dict[str, Any] = {
        "site": settings.site,
        "alarm_id": stored.id,
        "kind": alarm.kind,
        "level": alarm.level,
        "state": "active" if alarm.end is None else "cleared",
        "start": iso_time(alarm.start, settings),
        "end": iso_time(alarm.end, settings),
        "outlet": alarm.outlet,
        "factor": alarm.factor,
        "device": alarm.device,
        "detail": alarm.detail,
    }
    if alarm.factor:
        body.update(_labels(alarm.factor, settings, labels, with_cou=False))
    return body


def status_body(fields: Mapping[str, Any], settings: MqttSettings, time: datetime) -> dict[str, Any]:
    """The retained DAS status: the agent's fields under `site` and `time` (latest wins, not outboxed)."""
    return {"site": settings.site, "time": iso_time(time, settings), **fields}


_ENVELOPE = ("id", "enqueued_at", "attempt")


def envelope(item: OutboxItem, body: Mapping[str, Any], settings: MqttSettings) -> bytes:
    """UTF-8 JSON of `body` led by the dedupe key `id`, when it was enqueued and the send `attempt` (1 first).

    Outbox ids are never reused within a store file (AUTOINCREMENT, store schema v4); `enqueued_at` keeps the key
    unique for strict consumers even across a replaced store file.
    """
    head = {"id": item.id, "enqueued_at": iso_time(item.enqueued_at, settings), "attempt": item.attempts + 1}
    rest = {key: value for key, value in body.items() if key not in _ENVELOPE}
    return json.dumps({**head, **rest}, **_JSON).encode()


def payload_body(item: OutboxItem) -> dict[str, Any]:
    """The stored body of a payload item (alarms are stored as finished JSON objects when enqueued)."""
    try:
        body = json.loads(item.payload or "")
    except ValueError as err:
        raise PayloadError(f"outbox item {item.id}: payload is not JSON ({err})") from err
    if not isinstance(body, dict):
        raise PayloadError(f"outbox item {item.id}: payload is JSON {type(body).__name__}, expected an object")
    return body


def dumps(body: Mapping[str, Any]) -> str:
    return json.dumps(body, **_JSON)
