"""MQTT target: records, alarms and the DAS status as JSON at QoS 1, acked on PUBACK (docs/mqtt.md)."""

from uplink.mqtt.client import MqttConfigError, build_client
from uplink.mqtt.enqueue import enqueue_alarm, record_targets
from uplink.mqtt.factors import STANDARD_FACTORS, label_for
from uplink.mqtt.payloads import RECORD_CN, PayloadError, Topics
from uplink.mqtt.publisher import MqttPublisher, PublisherState
from uplink.mqtt.settings import MQTT_KINDS, FactorLabel, MqttSettings, MqttTls

__all__ = [
    "MQTT_KINDS",
    "RECORD_CN",
    "STANDARD_FACTORS",
    "FactorLabel",
    "MqttConfigError",
    "MqttPublisher",
    "MqttSettings",
    "MqttTls",
    "PayloadError",
    "PublisherState",
    "Topics",
    "build_client",
    "enqueue_alarm",
    "label_for",
    "record_targets",
]
