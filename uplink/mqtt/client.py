"""Build the paho client of one MQTT target from its settings: protocol, credentials, TLS, will, limits.

Kept apart from the publisher so the broker-facing configuration is one readable function, and a bad file
(a missing CA, a key that does not match its certificate) fails here with the path in the message, at
start-up, rather than as a reconnect loop.
"""

from __future__ import annotations

import ssl

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from uplink.mqtt.payloads import Topics
from uplink.mqtt.settings import MqttSettings

__all__ = ["MqttConfigError", "build_client"]

# Room in paho's queue beyond the outbox window for the availability and status messages, so that
# `publish` answers MQTT_ERR_QUEUE_SIZE (which the publisher handles) rather than ever dropping anything.
SPARE_QUEUE = 8


class MqttConfigError(ValueError):
    """The settings cannot make a client (TLS files unreadable or mismatched)."""


def build_client(settings: MqttSettings) -> mqtt.Client:
    """A paho 2.x client, not yet connected, with QoS 1 limits and the `offline` last will set."""
    if settings.protocol == "5":
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=settings.effective_client_id, protocol=mqtt.MQTTv5)
    else:
        # A clean session: the publisher keeps nothing at the broker; unacked messages are ours to re-send.
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.effective_client_id,
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )
    if settings.username is not None:
        password = None if settings.password is None else settings.password.get_secret_value()
        client.username_pw_set(settings.username, password)
    if settings.tls is not None:
        tls = settings.tls
        try:
            client.tls_set(
                ca_certs=None if tls.ca_certs is None else str(tls.ca_certs),
                certfile=None if tls.certfile is None else str(tls.certfile),
                keyfile=None if tls.keyfile is None else str(tls.keyfile),
                cert_reqs=ssl.CERT_REQUIRED,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        except (OSError, ssl.SSLError, ValueError) as err:
            files = ", ".join(str(p) for p in (tls.ca_certs, tls.certfile, tls.keyfile) if p is not None)
            raise MqttConfigError(
                f"MQTT {settings.name}: TLS 设置无效 / TLS settings unusable ({files or 'system CAs'}): {err}"
            ) from err
        client.tls_insecure_set(not tls.verify_hostname)
    client.will_set(Topics(settings).availability, "offline", qos=1, retain=True)
    client.max_inflight_messages_set(settings.window)
    client.max_queued_messages_set(settings.window + SPARE_QUEUE)
    client.reconnect_delay_set(settings.reconnect_min_s, settings.reconnect_max_s)  # type: ignore[arg-type]
    return client
