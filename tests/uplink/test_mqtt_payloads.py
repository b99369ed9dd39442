"""MQTT topics, payloads, settings and enqueueing, without a broker (the broker tests are in hil/tests)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from agent.daemon.status_mqtt import status_fields
from agent.model import Alarm, FactorValues, Record, RecordKind
from buffer import Store
from uplink.mqtt import (
    FactorLabel,
    MqttConfigError,
    MqttSettings,
    MqttTls,
    PayloadError,
    Topics,
    build_client,
    enqueue_alarm,
    label_for,
    record_targets,
)
from uplink.mqtt.payloads import envelope, iso_time, payload_body, record_body, status_body

T0 = datetime(2024, 6, 1, 8, 40)


def settings(**changes: object) -> MqttSettings:
    base: dict[str, object] = {"name": "cloud", "host": "127.0.0.1", "site": "plant-a"}
    base.update(changes)
    return MqttSettings.model_validate(base)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "das.sqlite", clock=lambda: datetime(2024, 6, 1, 9, 0)) as s:
        yield s


def minute_record(outlet: str = "outlet1") -> Record:
    return Record(
        outlet=outlet,
        kind=RecordKind.MINUTE,
        data_time=T0,
        factors=(
            FactorValues("a21026", {"Min": 10.1, "Avg": 12.3, "Max": 14.2, "Cou": 0.52, "Flag": "N"}, count=60),
            FactorValues("a00000", {"Avg": 1200.0, "Cou": 72000.0, "Flag": "N"}, count=60),
            FactorValues("x99999", {"Avg": 1.5, "Flag": "D"}, count=3),
        ),
        extra={"SB1-RS": "1"},
    )


def test_record_payload_is_the_documented_json(store: Store) -> None:
    s = settings(factors={"a00000": FactorLabel(unit="m3/h", cou_unit="m3")})
    record_id = store.put_record(minute_record(), targets=[s.target])
    (item,) = store.pending(s.target)
    stored = store.get_stored_record(record_id)
    assert stored is not None
    body = record_body(stored, s, {"outlet1": {"national": "010000A8900016F000169DC0"}})
    message = json.loads(envelope(item, body, s))
    assert message == {
        "id": item.id,
        "enqueued_at": "2024-06-01T09:00:00+08:00",
        "attempt": 1,
        "site": "plant-a",
        "outlet": "outlet1",
        "mn": {"national": "010000A8900016F000169DC0"},
        "kind": "minute",
        "cn": "2051",
        "data_time": "2024-06-01T08:40:00+08:00",
        "record_id": record_id,
        "revision": 1,
        "factors": {
            "a21026": {
                "name_zh": "二氧化硫",
                "name_en": "SO2",
                "unit": "mg/m3",
                "cou_unit": "kg",
                "Min": 10.1,
                "Avg": 12.3,
                "Max": 14.2,
                "Cou": 0.52,
                "Flag": "N",
                "count": 60,
            },
            # Flow units vary by configuration: the built-in table names the factor, the settings give units.
            "a00000": {
                "name_zh": "废气",
                "name_en": "flue gas flow",
                "unit": "m3/h",
                "cou_unit": "m3",
                "Avg": 1200.0,
                "Cou": 72000.0,
                "Flag": "N",
                "count": 60,
            },
            # An unknown code gets no invented name or unit.
            "x99999": {"Avg": 1.5, "Flag": "D", "count": 3},
        },
        "extra": {"SB1-RS": "1"},
    }
    assert Topics(s).record("outlet1", RecordKind.MINUTE) == "das/plant-a/outlet1/minute"


def test_resend_carries_the_same_id_and_a_higher_attempt(store: Store) -> None:
    s = settings()
    store.put_record(minute_record(), targets=[s.target])
    (item,) = store.pending(s.target)
    store.mark_sent(item.id)
    (again,) = store.pending(s.target)
    first, second = json.loads(envelope(item, {"x": 1}, s)), json.loads(envelope(again, {"x": 1}, s))
    assert (first["id"], first["attempt"]) == (item.id, 1)
    assert (second["id"], second["attempt"]) == (item.id, 2)
    assert first["enqueued_at"] == second["enqueued_at"] == "2024-06-01T09:00:00+08:00"
    # A body cannot overwrite the envelope.
    spoofed = json.loads(envelope(item, {"id": "spoofed", "attempt": 9, "enqueued_at": "x"}, s))
    assert (spoofed["id"], spoofed["attempt"], spoofed["enqueued_at"]) == (item.id, 1, first["enqueued_at"])


def test_topics_per_kind_and_zone_setting() -> None:
    s = settings(prefix="acme/das", zone="-03:30")
    topics = Topics(s)
    kinds = {k: topics.record("o1", k).rsplit("/", 1)[1] for k in RecordKind}
    assert kinds == {
        RecordKind.RTD: "rtd",
        RecordKind.MINUTE: "minute",
        RecordKind.HOUR: "hour",
        RecordKind.DAY: "day",
        RecordKind.RUNTIME_DAY: "runtime",
        RecordKind.STATE: "state",
    }
    assert (topics.alarm, topics.status, topics.availability) == (
        "acme/das/plant-a/alarm",
        "acme/das/plant-a/status",
        "acme/das/plant-a/availability",
    )
    assert iso_time(T0, s) == "2024-06-01T08:40:00-03:30"


@pytest.mark.parametrize("outlet", ["", "a/b", "a+", "#"])
def test_outlet_that_is_not_a_topic_level_is_a_payload_error(outlet: str) -> None:
    with pytest.raises(PayloadError, match="topic level"):
        Topics(settings()).record(outlet, RecordKind.HOUR)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"site": "a/b"}, "site"),
        ({"site": ""}, "site"),
        ({"prefix": "das/"}, "prefix"),
        ({"prefix": "das/+"}, "prefix"),
        ({"zone": "+8"}, "zone"),
        ({"kinds": ["minute", "weekly"]}, "weekly"),
        ({"password": "secret"}, "password without username"),
        ({"reconnect_min_s": 10, "reconnect_max_s": 1}, "reconnect_max_s"),
        ({"name": "my cloud"}, "name"),
        ({"tls": {"certfile": "/x.pem"}}, "keyfile"),
        ({"pasword": "x"}, "pasword"),
    ],
)
def test_bad_settings_are_refused_with_the_key_named(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        settings(**changes)


def test_target_and_client_id() -> None:
    s = settings()
    assert s.target == "mqtt:cloud"
    assert s.effective_client_id == "das-plant-a-cloud"
    assert settings(client_id="box7").effective_client_id == "box7"
    assert "secret" not in repr(settings(username="u", password="secret"))


def test_record_targets_follow_the_kinds_setting() -> None:
    everything = settings()
    hours_only = settings(name="hours", kinds=["hour", "day"])
    assert record_targets([everything, hours_only], RecordKind.HOUR) == ["mqtt:cloud", "mqtt:hours"]
    assert record_targets([everything, hours_only], RecordKind.RTD) == ["mqtt:cloud"]
    assert record_targets([everything, hours_only], RecordKind.RUNTIME_DAY) == ["mqtt:cloud"]


def test_labels_merge_field_by_field() -> None:
    merged = label_for("a21026", {"a21026": FactorLabel(unit="μmol/mol")})
    assert merged == FactorLabel(name_zh="二氧化硫", name_en="SO2", unit="μmol/mol", cou_unit="kg")
    assert label_for("x1", {}) is None
    assert label_for("x1", {"x1": FactorLabel(name_en="stack temp")}) == FactorLabel(name_en="stack temp")
    # The site's table (passed by the agent) replaces the built-in one; the target's settings still win.
    site = {"a21026": FactorLabel(name_zh="二氧化硫", name_en="sulphur dioxide", unit="mg/m3")}
    assert label_for("a21026", {}, site) == site["a21026"]
    assert label_for("a34013", {}, site) is None
    assert label_for("a21026", {"a21026": FactorLabel(name_en="SO2")}, site) == FactorLabel(
        name_zh="二氧化硫", name_en="SO2", unit="mg/m3"
    )


def test_alarm_open_and_clear_are_two_messages(store: Store) -> None:
    s = settings()
    alarm_id = store.open_alarm(Alarm("over_limit", T0, "SO2 above 35 mg/m3", outlet="outlet1", factor="a21026"))
    opened = enqueue_alarm(store, s, alarm_id)
    store.close_alarm(alarm_id, datetime(2024, 6, 1, 9, 10))
    cleared = enqueue_alarm(store, s, alarm_id)
    items = {item.id: item for item in store.pending(s.target)}
    assert opened is not None and cleared is not None and set(items) == {opened, cleared}
    first = json.loads(envelope(items[opened], payload_body(items[opened]), s))
    assert first == {
        "id": opened,
        "enqueued_at": "2024-06-01T09:00:00+08:00",
        "attempt": 1,
        "site": "plant-a",
        "alarm_id": alarm_id,
        "kind": "over_limit",
        "level": "warning",
        "state": "active",
        "start": "2024-06-01T08:40:00+08:00",
        "end": None,
        "outlet": "outlet1",
        "factor": "a21026",
        "device": None,
        "detail": "SO2 above 35 mg/m3",
        "name_zh": "二氧化硫",
        "name_en": "SO2",
        "unit": "mg/m3",
    }
    second = json.loads(envelope(items[cleared], payload_body(items[cleared]), s))
    assert (second["state"], second["end"]) == ("cleared", "2024-06-01T09:10:00+08:00")
    assert Topics(s).payload("alarm") == "das/plant-a/alarm"
    assert enqueue_alarm(store, settings(name="quiet", kinds=["hour"]), alarm_id) is None


def test_payload_item_that_is_not_a_json_object_is_a_payload_error(store: Store) -> None:
    s = settings()
    for text in ("not json", "[1, 2]"):
        item_id = store.enqueue(s.target, payload=text, kind="alarm")
        item = store.get_outbox_item(item_id or 0)
        assert item is not None
        with pytest.raises(PayloadError, match=f"outbox item {item.id}"):
            payload_body(item)


def test_unreadable_tls_files_fail_at_build_time(tmp_path: Path) -> None:
    s = settings(tls=MqttTls(ca_certs=tmp_path / "missing-ca.pem"))
    with pytest.raises(MqttConfigError, match=r"missing-ca\.pem"):
        build_client(s)


def _doc_examples() -> dict[str, object]:
    text = (Path(__file__).resolve().parents[2] / "docs" / "mqtt.md").read_text(encoding="utf-8")
    found = re.findall(r"<!-- example: (\w+) -->\n```json\n(.*?)```", text, flags=re.S)
    return {name: json.loads(body) for name, body in found}


def test_the_examples_in_docs_mqtt_md_are_what_the_code_publishes(tmp_path: Path) -> None:
    """docs/mqtt.md is the consumers' contract: its JSON examples are rebuilt here from their inputs."""
    examples = _doc_examples()
    assert set(examples) == {"record", "alarm", "status"}
    s = settings(factors={"a00000": FactorLabel(unit="m3/h", cou_unit="m3")})
    with Store(tmp_path / "doc.sqlite", clock=lambda: datetime(2024, 6, 1, 9, 0, 5)) as store:
        record = Record(
            outlet="outlet1",
            kind=RecordKind.HOUR,
            data_time=datetime(2024, 6, 1, 8, 0),
            factors=(
                FactorValues(
                    "a21026", {"Cou": 0.52, "Min": 10.1, "Avg": 12.3, "Max": 14.2, "ZsAvg": 15.8, "Flag": "N"}, 58
                ),
                FactorValues("a19001", {"Min": 7.9, "Avg": 8.4, "Max": 9.0, "Flag": "N"}, 58),
                FactorValues(
                    "a00000", {"Cou": 43200.0, "Min": 11800.0, "Avg": 12000.0, "Max": 12300.0, "Flag": "N"}, 58
                ),
            ),
        )
        record_id = store.put_record(record, targets=[s.target])
        (item,) = store.pending(s.target)
        stored = store.get_stored_record(record_id)
        assert stored is not None
        mns = {"outlet1": {"national": "010000A8900016F000169DC0", "province": "33010000000001"}}
        assert json.loads(envelope(item, record_body(stored, s, mns), s)) == examples["record"]

        detail = "二氧化硫 SO2 超标 / above limit: 38.2 > 35 mg/m3"
        alarm_id = store.open_alarm(Alarm("over_limit", datetime(2024, 6, 1, 8, 41), detail, "outlet1", "a21026"))
        alarm_item = store.get_outbox_item(enqueue_alarm(store, s, alarm_id) or 0)
        assert alarm_item is not None
        assert json.loads(envelope(alarm_item, payload_body(alarm_item), s)) == examples["alarm"]
    assert status_body(status_fields(SITE_STATUS), s, datetime(2024, 6, 1, 9, 0, 5)) == examples["status"]


# What `Site.status()` gives (agent/daemon/site.py) for the status example: status_fields trims it.
SITE_STATUS = {
    "site": "plant-a",
    "clock": "2024-06-01 09:00:05",
    "speed": 1.0,
    "devices": [
        {"name": "cems", "link": "com1", "interval_s": 5.0, "state": "ok", "polls": 8000, "failures": 0,
         "overruns": 0, "last_poll": "2024-06-01 09:00:04", "last_ok": "2024-06-01 09:00:04", "last_error": None,
         "values": {"so2": {"factor": "a21026", "value": 12.0, "unit": "mg/m3", "flag": "N", "note": None}}}
    ],
    "outlets": [
        {"outlet": "outlet1", "kind": "gas", "devices": ["cems"], "records_stored": 90, "alarms_changed": 0,
         "dropped_late": 0, "latest": {"rtd": "2024-06-01 09:00:00", "minute": "2024-06-01 08:50:00",
                                       "hour": "2024-06-01 08:00:00"}}
    ],
    "uplinks": [
        {"target": "national/outlet1", "platform": "national", "outlet": "outlet1", "mn": "010000A8900016F000169DC0",
         "state": "up", "connected": True, "since": "2024-06-01 07:12:40", "last_ack": "2024-06-01 09:00:01",
         "backlog": 0, "oldest_data_time": None, "oldest_age": None, "rtt_s": 0.05, "rtt_avg_s": 0.06, "sent": 9,
         "acked": 9, "timeouts": 0, "reconnects": 0, "stray_answers": 0, "bad_frames": 0, "last_error": None},
        {"target": "mqtt:plant", "connected": True, "connects": 1, "inflight": 2, "published": 90, "acked": 88,
         "refused": 0, "last_error": None},
    ],
    "backlog": {"mqtt:plant": {"pending": 2, "by_priority": {"1": 2}}, "national/outlet1": {"pending": 0}},
    "tasks": {},
    "first_poll_s": 0.4,
}  # fmt: skip
