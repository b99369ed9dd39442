"""The MQTT target against a real mosquitto broker: delivery across a broker restart, auth, TLS, last will.

Each test starts its own mosquitto on a loopback port with a temporary config, persistence directory and,
where needed, password file, ACL and certificates made here (cryptography, EC P-256: milliseconds). The
subscriber is an independent paho client with a persistent session (clean_session False, QoS 1), so it
misses nothing while the broker is away.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import pwd
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from loopback import free_port
from paho.mqtt.enums import CallbackAPIVersion

from agent.model import Alarm, FactorValues, Record, RecordKind
from buffer import Store
from uplink.mqtt import MqttPublisher, MqttSettings, MqttTls, enqueue_alarm

pytestmark = pytest.mark.hil

BASE = datetime(2024, 6, 1, 8, 0)
FAST = {"reconnect_min_s": 0.1, "reconnect_max_s": 0.5, "poll_s": 0.5, "retry_s": 60.0}


class Broker:
    """One mosquitto process; `stop()` + `start()` restarts it on the same port with the same persistence."""

    def __init__(self, exe: str, root: Path, body: str = "", *, ports: int = 1) -> None:
        self.exe = exe
        self.root = root
        self.ports = [free_port() for _ in range(ports)]
        self.port = self.ports[0]
        (root / "data").mkdir(exist_ok=True)
        user = pwd.getpwuid(os.getuid()).pw_name  # as root mosquitto would switch to user "mosquitto"
        head = f"user {user}\npersistence true\npersistence_location {root / 'data'}/\nmax_queued_messages 100000\n"
        self.conf = root / "mosquitto.conf"
        self.conf.write_text(head + body.format(*self.ports) if body else head + self.plain(self.port))
        self.proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def plain(port: int) -> str:
        return f"listener {port} 127.0.0.1\nallow_anonymous true\n"

    def start(self) -> None:
        log = (self.root / "mosquitto.log").open("ab")
        self.proc = subprocess.Popen([self.exe, "-c", str(self.conf)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {(self.root / 'mosquitto.log').read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.ports[-1]), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("mosquitto did not open its port in 10 s")

    def stop(self) -> None:
        """SIGTERM: mosquitto saves its in-memory database (queued QoS 1 messages, sessions) as it exits."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@pytest.fixture
def broker_factory(require_tool: Callable[[str], str], tmp_path: Path) -> Iterator[Callable[..., Broker]]:
    exe = require_tool("mosquitto")
    made: list[Broker] = []

    def make(body: str = "", *, ports: int = 1) -> Broker:
        root = tmp_path / f"broker{len(made)}"
        root.mkdir()
        broker = Broker(exe, root, body, ports=ports)
        made.append(broker)
        broker.start()
        return broker

    yield make
    for broker in made:
        broker.stop()


class Subscriber:
    """An independent consumer: paho with a persistent session, QoS 1, on its own network thread."""

    def __init__(
        self,
        port: int,
        topic: str,
        *,
        client_id: str = "test-subscriber",
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311, clean_session=False
        )
        if username:
            self.client.username_pw_set(username, password)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda c, u, mid, rcs, p: self.subscribed.set()
        self.client.on_message = self._message
        self.client.reconnect_delay_set(0.1, 0.5)  # type: ignore[arg-type]
        self.client.connect_async("127.0.0.1", port, keepalive=10)
        self.client.loop_start()
        assert self.subscribed.wait(10), "subscriber got no SUBACK"

    def _message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.messages.append((msg.topic, msg.payload, bool(msg.retain)))

    def on(self, topic: str) -> list[bytes]:
        with self.lock:
            return [payload for t, payload, _ in self.messages if t == topic]

    def retained(self, topic: str) -> list[bytes]:
        with self.lock:
            return [payload for t, payload, retain in self.messages if t == topic and retain]

    def json_on(self, suffix: str) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(payload) for t, payload, _ in self.messages if t.endswith(suffix)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


async def until(condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


def minute(i: int, outlet: str = "o1") -> Record:
    return Record(
        outlet=outlet,
        kind=RecordKind.MINUTE,
        data_time=BASE + timedelta(minutes=i),
        factors=(FactorValues("a21026", {"Avg": float(i), "Flag": "N"}, count=60),),
    )


def outbox_rows(store: Store, target: str) -> list[tuple[int, int, str | None]]:
    """(item id, record id, acked_at) of every item of the target."""
    return [tuple(r) for r in store.db.execute("SELECT id, record_id, acked_at FROM outbox WHERE target = ?", [target])]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "das.sqlite") as s:
        yield s


async def test_broker_restart_mid_run_loses_no_pubacked_record(
    broker_factory: Callable[..., Broker], store: Store
) -> None:
    """Two cuts: the broker restarts under a running publisher (paho re-sends with DUP), then the broker stops
    and the agent restarts too while it is away (only the outbox knows what is left). Each cut lands while a
    burst is being published, so items are in flight; records keep arriving throughout."""
    broker = broker_factory()
    settings = MqttSettings(name="cloud", host="127.0.0.1", port=broker.port, site="s1", **FAST)
    subscriber = Subscriber(broker.port, "das/s1/#")
    publisher = MqttPublisher(settings, store)
    total = 600
    acked_before: set[int] = set()
    pending_at_stop: list[int] = []

    async def produce(first: int, last: int) -> None:
        for i in range(first, last):
            store.put_record(minute(i), targets=[settings.target])
            publisher.notify()
            if i % 10 == 9:
                await asyncio.sleep(0.02)

    async def cut_during_burst(first: int, last: int) -> None:
        store.put_records([minute(i) for i in range(first, last)], targets=[settings.target])
        publisher.notify()
        await asyncio.sleep(0.01)  # the pump fills its window; some PUBACKs come back
        acked_before.update(item for item, _, acked in outbox_rows(store, settings.target) if acked)
        broker.stop()  # synchronous: no further ack can be taken on the loop until the broker is gone
        pending_at_stop.append(store.backlog_stats(settings.target).pending)
        await until(lambda: not publisher.state.connected, "the publisher to see the broker gone")

    try:
        await publisher.start()
        await produce(0, 100)
        await cut_during_burst(100, 250)
        await produce(250, 300)
        broker.start()
        await produce(300, 350)
        await until(lambda: publisher.state.connects == 2, "the first reconnect")

        await cut_during_burst(350, 500)
        first_publisher = publisher.state
        await publisher.stop()  # the agent goes too; what paho held in memory is gone with it
        await produce(500, 550)
        broker.start()
        publisher = MqttPublisher(settings, store)
        await publisher.start()
        await produce(550, total)
        await until(lambda: store.backlog_stats(settings.target).pending == 0, "every record acked", 30)

        rows = outbox_rows(store, settings.target)
        assert len(rows) == total and all(acked for _, _, acked in rows)
        wanted = {item: record for item, record, _ in rows}
        await until(lambda: wanted.keys() <= {m["id"] for m in subscriber.json_on("/o1/minute")}, "all ids", 15)
    finally:
        await publisher.stop()
        subscriber.close()

    received = subscriber.json_on("/o1/minute")
    by_id = {m["id"]: m for m in received}
    # The run really was cut: records were waiting at each stop, and the first publisher reconnected once.
    assert all(pending > 0 for pending in pending_at_stop) and len(pending_at_stop) == 2
    assert first_publisher.connects == 2
    assert acked_before <= by_id.keys(), "a record PUBACKed before a cut never reached the subscriber"
    assert by_id.keys() == wanted.keys()
    for item, message in by_id.items():  # each copy is the record it claims to be (duplicates allowed)
        assert message["record_id"] == wanted[item]
        i = int(message["factors"]["a21026"]["Avg"])
        assert message["data_time"] == (BASE + timedelta(minutes=i)).isoformat() + "+08:00"
    assert subscriber.on("das/s1/availability")[-1] == b"offline"  # a clean stop says so itself


async def test_nothing_is_acked_without_its_puback_and_the_window_bounds_what_is_in_flight(
    broker_factory: Callable[..., Broker], store: Store
) -> None:
    """A frozen broker (SIGSTOP) reads nothing and answers nothing: the window fills, nothing is acked."""
    broker = broker_factory()
    assert broker.proc is not None
    settings = MqttSettings(name="cloud", host="127.0.0.1", port=broker.port, site="s1", window=5, **FAST)
    subscriber = Subscriber(broker.port, "das/s1/o1/#")
    publisher = MqttPublisher(settings, store)
    try:
        await publisher.start()
        await until(lambda: publisher.state.connected, "connected")
        broker.proc.send_signal(signal.SIGSTOP)
        try:
            for i in range(50):
                store.put_record(minute(i), targets=[settings.target])
            publisher.notify()
            await until(lambda: publisher.state.inflight == 5, "a full window")
            await asyncio.sleep(0.5)  # more time changes nothing: no PUBACK, no ack, no sixth item
            state = publisher.state
            sent = [item for item in store.pending(settings.target, 100) if item.attempts]
        finally:
            broker.proc.send_signal(signal.SIGCONT)
        assert (state.inflight, state.published, state.acked) == (5, 5, 0)
        assert store.backlog_stats(settings.target).pending == 50 and len(sent) == 5
        await until(lambda: store.backlog_stats(settings.target).pending == 0, "all acked once the broker thaws")
        await until(lambda: len({m["id"] for m in subscriber.json_on("/minute")}) == 50, "all 50 received")
        await asyncio.sleep(0.2)
        # Without a cut, nothing is sent twice: one publish and one message per item.
        assert publisher.state.published == 50 and len(subscriber.json_on("/minute")) == 50
    finally:
        await publisher.stop()
        subscriber.close()


async def test_last_will_marks_a_killed_agent_offline(broker_factory: Callable[..., Broker], tmp_path: Path) -> None:
    broker = broker_factory()
    subscriber = Subscriber(broker.port, "das/s1/availability")
    child_code = (
        "import asyncio, sys\n"
        "from buffer import Store\n"
        "from uplink.mqtt import MqttPublisher, MqttSettings\n"
        "async def main():\n"
        "    s = MqttSettings(name='w', host='127.0.0.1', port=int(sys.argv[1]), site='s1', keepalive_s=60)\n"
        "    async with MqttPublisher(s, Store(sys.argv[2])):\n"
        "        await asyncio.sleep(120)\n"
        "asyncio.run(main())\n"
    )
    child = subprocess.Popen([sys.executable, "-c", child_code, str(broker.port), str(tmp_path / "child.sqlite")])
    try:
        await until(lambda: subscriber.on("das/s1/availability")[-1:] == [b"online"], "online", 20)
        child.kill()  # no DISCONNECT: the broker sees the socket close and publishes the will
        child.wait(10)
        await until(lambda: subscriber.on("das/s1/availability")[-1:] == [b"offline"], "the last will", 10)
    finally:
        child.kill()
        child.wait(10)
        subscriber.close()
    late = Subscriber(broker.port, "das/s1/availability")  # a new consumer learns it from the retained message
    try:
        await until(lambda: late.on("das/s1/availability") == [b"offline"], "retained offline", 10)
    finally:
        late.close()


async def test_status_is_retained_and_alarms_published(broker_factory: Callable[..., Broker], store: Store) -> None:
    broker = broker_factory()
    settings = MqttSettings(name="cloud", host="127.0.0.1", port=broker.port, site="s1", **FAST)
    early = Subscriber(broker.port, "das/s1/#")
    publisher = MqttPublisher(settings, store)
    publisher.publish_status({"state": "running", "outlets": ["o1"]})  # before connecting: sent on connect
    alarm_id = store.open_alarm(Alarm("comm_lost", BASE, "SO2 analyzer silent", outlet="o1", device="cems1"))
    item = enqueue_alarm(store, settings, alarm_id)
    await publisher.start()
    try:
        await until(lambda: store.backlog_stats(settings.target).pending == 0, "the alarm acked")
        await until(lambda: len(early.on("das/s1/status")) == 1, "the first status")
        publisher.publish_status({"state": "maintenance"})
        await until(lambda: len(early.on("das/s1/status")) == 2, "the new status")
        late = Subscriber(broker.port, "das/s1/#", client_id="late")
        try:
            await until(lambda: late.retained("das/s1/availability") == [b"online"], "retained availability")
            await until(lambda: len(late.retained("das/s1/status")) == 1, "retained status")
            status = json.loads(late.retained("das/s1/status")[0])
            assert (status["state"], status["site"]) == ("maintenance", "s1")
            assert status["time"].endswith("+08:00")
            assert late.json_on("/alarm") == []  # alarms are events, not retained
        finally:
            late.close()
    finally:
        await publisher.stop()
        early.close()
    (alarm,) = early.json_on("/alarm")
    assert (alarm["id"], alarm["alarm_id"], alarm["state"], alarm["device"]) == (item, alarm_id, "active", "cems1")
    assert json.loads(early.on("das/s1/status")[0])["outlets"] == ["o1"]


ACL = """\
topic read das/#
user das
topic write das/s1/good/#
topic write das/s1/availability
"""


async def test_password_acl_refusal_and_bad_items_keep_the_rest_flowing(
    broker_factory: Callable[..., Broker], require_tool: Callable[[str], str], tmp_path: Path, store: Store
) -> None:
    passwd = tmp_path / "passwd"
    tool = require_tool("mosquitto_passwd")
    subprocess.run([tool, "-c", "-b", str(passwd), "das", "s3cret"], check=True, capture_output=True)
    (tmp_path / "acl").write_text(ACL)
    body = (
        "per_listener_settings false\nallow_anonymous true\n"
        f"password_file {passwd}\nacl_file {tmp_path / 'acl'}\nlistener {{0}} 127.0.0.1\n"
    )
    broker = broker_factory(body)
    subscriber = Subscriber(broker.port, "das/#")
    good = MqttSettings(
        name="cloud",
        host="127.0.0.1",
        port=broker.port,
        site="s1",
        protocol="5",
        username="das",
        password="s3cret",
        **{**FAST, "retry_s": 0.3},  # refused and unpublishable items come back after this
    )
    wrong = good.model_copy(update={"name": "wrong", "password": None, "username": "das", "client_id": "wrong"})
    publisher = MqttPublisher(good, store)
    intruder = MqttPublisher(wrong, store)
    for i in range(5):
        store.put_record(minute(i, "good"), targets=[good.target, wrong.target])
    denied = store.put_record(minute(0, "bad"), targets=[good.target])  # the ACL refuses this topic
    broken = store.put_record(minute(0, "a/b"), targets=[good.target])  # not a topic level at all
    try:
        await publisher.start()
        await intruder.start()
        await until(lambda: publisher.state.acked == 5 and publisher.state.refused >= 2, "5 acked, 1 refused twice")
        await until(lambda: intruder.state.last_error is not None, "the wrong password refused")
        await asyncio.sleep(0.3)
        assert intruder.state.connects == 0 and "refused" in (intruder.state.last_error or "")
        assert store.backlog_stats(wrong.target).pending == 5  # nothing is acked without a PUBACK
        await until(lambda: min(attempts for _, _, attempts in _errors(store, good.target)) >= 2, "retries")
        errors = {record: error for record, error, _ in _errors(store, good.target)}
        assert set(errors) == {denied, broken}
        assert "Not authorized" in errors[denied] and "topic level" in errors[broken]
        await until(lambda: len(subscriber.json_on("/good/minute")) >= 5, "the good records")
        assert subscriber.json_on("/bad/minute") == []
    finally:
        await publisher.stop()
        await intruder.stop()
        subscriber.close()


def _errors(store: Store, target: str) -> list[tuple[int, str, int]]:
    """(record id, last error, attempts) of the pending items of a target."""
    rows = store.db.execute(
        "SELECT record_id, last_error, attempts FROM outbox WHERE target = ? AND acked_at IS NULL", [target]
    ).fetchall()
    return [(r, e or "", n) for r, e, n in rows]


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[str, ec.EllipticCurvePrivateKey] | None,
    usage: x509.ObjectIdentifier | None,
) -> x509.Certificate:
    now = datetime.now(tz=None).astimezone()
    signer_name, signer_key = issuer or (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(signer_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()), critical=False)
    )
    if usage is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        builder = builder.add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        if usage == ExtendedKeyUsageOID.SERVER_AUTH:
            names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(signer_key, hashes.SHA256())


def _write(path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey | None = None) -> None:
    path.with_suffix(".pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.with_suffix(".key").write_bytes(pem)
        path.with_suffix(".key").chmod(0o600)


def make_pki(root: Path) -> None:
    """ca.pem (trusted), server.pem/.key, client.pem/.key, and other-ca.pem (an unrelated CA)."""
    ca_key, other_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    _write(root / "ca", _cert("das test CA", ca_key, None, None))
    _write(root / "other-ca", _cert("someone else's CA", other_key, None, None))
    for name, usage in (("server", ExtendedKeyUsageOID.SERVER_AUTH), ("client", ExtendedKeyUsageOID.CLIENT_AUTH)):
        key = ec.generate_private_key(ec.SECP256R1())
        _write(root / name, _cert(f"das test {name}", key, ("das test CA", ca_key), usage), key)


async def test_tls_with_client_certificate_and_password(
    broker_factory: Callable[..., Broker], require_tool: Callable[[str], str], tmp_path: Path, store: Store
) -> None:
    pki = tmp_path / "pki"
    pki.mkdir()
    make_pki(pki)
    passwd = tmp_path / "passwd"
    subprocess.run([require_tool("mosquitto_passwd"), "-c", "-b", str(passwd), "das", "s3cret"], check=True)
    body = (
        f"per_listener_settings false\nallow_anonymous false\npassword_file {passwd}\n"
        "listener {0} 127.0.0.1\n"
        f"listener {{1}} 127.0.0.1\ncafile {pki / 'ca.pem'}\ncertfile {pki / 'server.pem'}\n"
        f"keyfile {pki / 'server.key'}\nrequire_certificate true\n"
    )
    broker = broker_factory(body, ports=2)
    subscriber = Subscriber(broker.ports[0], "das/#", username="das", password="s3cret")
    tls = MqttTls(ca_certs=pki / "ca.pem", certfile=pki / "client.pem", keyfile=pki / "client.key")
    good = MqttSettings(
        name="tls",
        host="127.0.0.1",
        port=broker.ports[1],
        site="s1",
        username="das",
        password="s3cret",
        tls=tls,
        **FAST,
    )
    untrusted = good.model_copy(
        update={
            "name": "untrusted",
            "client_id": "untrusted",
            "tls": MqttTls(ca_certs=pki / "other-ca.pem", certfile=pki / "client.pem", keyfile=pki / "client.key"),
        }
    )
    publisher, stranger = MqttPublisher(good, store), MqttPublisher(untrusted, store)
    store.put_record(minute(7), targets=[good.target, untrusted.target])
    try:
        await publisher.start()
        await stranger.start()
        await until(lambda: publisher.state.acked == 1, "the record over TLS")
        await until(lambda: subscriber.json_on("/o1/minute") != [], "the record at the subscriber")
        assert subscriber.json_on("/o1/minute")[0]["factors"]["a21026"]["Avg"] == 7.0
        await until(lambda: stranger.state.last_error is not None, "the untrusted broker refused")
        assert stranger.state.connects == 0 and store.backlog_stats(untrusted.target).pending == 1
    finally:
        await publisher.stop()
        await stranger.stop()
        subscriber.close()
