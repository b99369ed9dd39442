"""Putting things into an MQTT target's outbox.

Records go in with the rest: `store.put_record(record, targets=[..., *record_targets(mqtt_settings, kind)])`,
in the same transaction as the HJ 212 targets. An alarm is stored as a finished JSON object (a payload item),
so what is published is the alarm as it stood when it was opened or cleared, each a message of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from agent.model import KIND_NAMES, RecordKind
from buffer import Store, UnknownItemError
from uplink.mqtt.payloads import alarm_body, dumps
from uplink.mqtt.settings import FactorLabel, MqttSettings

__all__ = ["enqueue_alarm", "record_targets"]


def record_targets(targets: Iterable[MqttSettings], kind: RecordKind) -> list[str]:
    """The outbox targets (`mqtt:<name>`) that carry records of `kind` (settings `kinds`)."""
    topic_kind = KIND_NAMES[RecordKind(kind)]
    return [s.target for s in targets if topic_kind in s.kinds]


def enqueue_alarm(
    store: Store, settings: MqttSettings, alarm_id: int, labels: Mapping[str, FactorLabel] | None = None
) -> int | None:
    """Enqueue the alarm's current state for this target; None when the target does not carry alarms."""
    if "alarm" not in settings.kinds:
        return None
    stored = store.get_alarm(alarm_id)
    if stored is None:
        raise UnknownItemError(f"no alarm with id {alarm_id}")
    alarm = stored.alarm
    return store.enqueue(
        settings.target,
        payload=dumps(alarm_body(stored, settings, labels)),
        kind="alarm",
        data_time=alarm.start if alarm.end is None else alarm.end,
    )
