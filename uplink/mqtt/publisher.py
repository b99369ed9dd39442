"""The MQTT target: publishes one outbox (`mqtt:<name>`) at QoS 1 and acks an item only on its PUBACK.

Threads: paho runs its network loop in its own thread (`loop_start`), which also does the reconnects with
paho's backoff (`reconnect_min_s` doubling to `reconnect_max_s`). Every paho callback is handed to the
asyncio loop with `call_soon_threadsafe`, so the store (one connection, not shared between threads,
docs/store.md) is only ever touched from the loop. `publish()` is called from the loop too; paho's
`publish` is thread-safe and returns the message id before the PUBACK can be handled here, because the
callback is queued behind the step that registered the id.

Delivery is at-least-once:
- at most `window` items are in flight (published, not PUBACKed); paho's queue is sized above that, so it
  never drops a message silently (a full queue is an error code we wait out);
- an item is acked in the store only in `on_publish` for its message id, i.e. on the broker's PUBACK;
- after a lost connection paho re-sends the unacknowledged messages with DUP set, with the same ids, so the
  mapping id → item survives reconnects; after an agent restart the outbox sends every pending item again
  (`attempt` > 1 in the payload). A consumer may therefore see an item twice and dedupes on its `id`;
- a PUBACK with an MQTT 5 failure reason (e.g. 0x87 not authorized) leaves the item pending; it is retried
  after `retry_s`, as is an item that cannot be rendered (recorded as `last_error` in the outbox).

Availability: the will is `offline` (retained) on `<prefix>/<site>/availability`; each connect publishes
`online` there, and a clean stop publishes `offline` before disconnecting (the broker drops the will then).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from buffer import OutboxItem, Store, StoreError
from drivers.clock import Clock, MonotonicClock
from uplink.mqtt.client import build_client
from uplink.mqtt.payloads import (
    PayloadError,
    Topics,
    dumps,
    envelope,
    payload_body,
    record_body,
    status_body,
)
from uplink.mqtt.settings import FactorLabel, MqttSettings

__all__ = ["MqttPublisher", "PublisherState"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PublisherState:
    """A snapshot for the status page and tests."""

    target: str
    connected: bool
    connects: int  # successful CONNACKs since start
    inflight: int  # items published and waiting for their PUBACK
    published: int  # publish calls for outbox items (re-sends by paho after a reconnect not counted)
    acked: int  # items acked in the store on their PUBACK
    refused: int  # PUBACKs carrying a failure reason (MQTT 5)
    last_error: str | None


class MqttPublisher:
    """Publish the `mqtt:<name>` outbox; `start()`, then `notify()` after enqueuing, `stop()` at shutdown."""

    def __init__(
        self,
        settings: MqttSettings,
        store: Store,
        *,
        clock: Clock | None = None,
        mns: Mapping[str, Mapping[str, str]] | None = None,
        labels: Mapping[str, FactorLabel] | None = None,
        client_factory: Callable[[MqttSettings], mqtt.Client] = build_client,
    ) -> None:
        """`mns`: outlet → {platform: MN} and `labels`: the site's factor table (default: the built-in one),
        both shown in record payloads; `clock` paces retries and waits."""
        self.settings = settings
        self.store = store
        self.topics = Topics(settings)
        self._clock: Clock = clock or MonotonicClock()
        self._mns = mns or {}
        self._labels = labels
        self._client = client_factory(settings)
        self._client.on_connect = self._paho_connect
        self._client.on_connect_fail = self._paho_connect_fail
        self._client.on_disconnect = self._paho_disconnect
        self._client.on_publish = self._paho_publish
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._connected = False
        self._inflight: dict[int, int] = {}  # message id → outbox item id
        self._held: dict[int, float] = {}  # item id → clock time before which it is not re-sent
        self._waiters: dict[int, asyncio.Future[bool]] = {}  # message id → PUBACK of a non-outbox message
        self._acks: list[int] = []  # PUBACKed items not yet written: acked in one transaction per loop pass
        self._accepting = False  # paho callbacks are dropped outside start()…stop()
        self._status: bytes | None = None
        self._status_due = False
        self._connects = 0
        self._published = 0
        self._acked = 0
        self._refused = 0
        self._last_error: str | None = None
        self._down_logged = False
        self._stopping = False

    # lifecycle ---------------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect in the background (paho retries until the broker answers) and start the outbox pump."""
        if self._task is not None:
            raise RuntimeError(f"MQTT {self.settings.name} already started")
        self._loop = asyncio.get_running_loop()
        self._accepting = True
        s = self.settings
        if s.protocol == "5":
            self._client.connect_async(s.host, s.port, s.keepalive_s, clean_start=True)
        else:
            self._client.connect_async(s.host, s.port, s.keepalive_s)
        self._client.loop_start()
        self._task = asyncio.create_task(self._pump(), name=f"mqtt-{s.name}")

    async def stop(self, timeout: float = 5.0) -> None:
        """Publish `offline`, disconnect cleanly, stop paho's thread; unacked items stay pending in the store."""
        if self._task is None:
            return
        self._stopping = True
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        if self._connected:
            if self._status_due and self._status is not None:  # a last status set just before the stop
                self._client.publish(self.topics.status, self._status, qos=1, retain=True)
                self._status_due = False
            info = self._client.publish(self.topics.availability, "offline", qos=1, retain=True)
            await self._wait_puback(info.mid, timeout)
        self._client.disconnect()
        await asyncio.to_thread(self._client.loop_stop)  # PUBACKs that came before the thread ended ran already
        self._flush_acks()
        self._accepting = False
        self._connected = False
        self._task = None
        self._stopping = False

    async def __aenter__(self) -> MqttPublisher:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def notify(self) -> None:
        """Something was enqueued for this target: look at the outbox now rather than at the next poll."""
        self._wake.set()

    def publish_status(self, fields: Mapping[str, Any]) -> None:
        """Set the retained DAS status (latest wins; published now if connected, else on the next connect)."""
        self._status = dumps(status_body(fields, self.settings, self.store.clock())).encode()
        self._status_due = True
        self._wake.set()

    @property
    def state(self) -> PublisherState:
        return PublisherState(
            target=self.settings.target,
            connected=self._connected,
            connects=self._connects,
            inflight=len(self._inflight),
            published=self._published,
            acked=self._acked,
            refused=self._refused,
            last_error=self._last_error,
        )

    # the pump (asyncio side) -------------------------------------------------------------------------------
    async def _pump(self) -> None:
        while True:
            self._wake.clear()
            if self._connected:
                try:
                    self._fill()
                except (StoreError, sqlite3.Error) as err:  # a busy or failing disk: say so, try again later
                    self._error(f"发送队列出错 / outbox step failed: {err}")
                except Exception as err:  # a bug: logged with its traceback, the pump goes on
                    log.exception("MQTT %s: 发送队列处理失败 / outbox pump step failed", self.settings.name)
                    self._error(f"发送队列处理失败 / outbox pump step failed: {err}")
            with contextlib.suppress(TimeoutError):
                async with self._clock.timeout(self.settings.poll_s):
                    await self._wake.wait()

    def _fill(self) -> None:
        """Publish pending items until `window` are in flight (live classes first, then oldest first)."""
        if self._status_due and self._status is not None:
            info = self._client.publish(self.topics.status, self._status, qos=1, retain=True)
            self._status_due = info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN)
        free = self.settings.window - len(self._inflight)
        if free < max(1, self.settings.window // 4):
            return  # refill in steps of a quarter window: each look reads about a window of outbox rows
        now = self._clock.now()
        self._held = {item_id: until for item_id, until in self._held.items() if until > now}
        # In flight, PUBACKed but not yet written (still pending in the store), or held back after a failure.
        busy = set(self._inflight.values()) | set(self._acks) | self._held.keys()
        sent: list[int] = []
        failed: list[tuple[int, str]] = []
        for item in self.store.next_batch(self.settings.target, free + len(busy)):
            if free <= 0:
                break
            if item.id in busy:
                continue
            try:
                topic, payload = self._render(item)
            except (PayloadError, StoreError) as err:
                failed.append((item.id, str(err)))
                self._held[item.id] = now + self.settings.retry_s
                self._error(f"条目 {item.id} 无法发布 / item {item.id} not publishable: {err}")
                continue
            info = self._client.publish(topic, payload, qos=1)
            if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                break  # queue full or client shutting down: nothing was taken, try again on the next wake
            self._inflight[info.mid] = item.id
            self._published += 1
            sent.append(item.id)
            free -= 1
        if sent or failed:
            with self.store.transaction():  # attempts are counters: one commit for the whole pass
                for item_id in sent:
                    self.store.mark_sent(item_id)
                for item_id, why in failed:
                    self.store.mark_sent(item_id, error=why)

    def _render(self, item: OutboxItem) -> tuple[str, bytes]:
        if item.record_id is not None:
            stored = self.store.get_stored_record(item.record_id)
            if stored is None:
                raise PayloadError(f"outbox item {item.id}: record {item.record_id} is gone")
            body = record_body(stored, self.settings, self._mns, self._labels)
            return self.topics.record(stored.record.outlet, stored.record.kind), envelope(item, body, self.settings)
        return self.topics.payload(item.kind), envelope(item, payload_body(item), self.settings)

    async def _wait_puback(self, mid: int, timeout: float) -> bool:
        future = asyncio.get_running_loop().create_future()
        self._waiters[mid] = future
        try:
            async with self._clock.timeout(timeout):
                return await future
        except TimeoutError:
            return False
        finally:
            self._waiters.pop(mid, None)

    def _error(self, text: str) -> None:
        if text != self._last_error:
            log.warning("MQTT %s: 出错 / error: %s", self.settings.name, text)
        self._last_error = text

    # paho callbacks, moved onto the loop ---------------------------------------------------------------------
    def _to_loop(self, callback: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # loop closed: the agent is exiting, pending items stay pending
            loop.call_soon_threadsafe(self._dispatch, callback, *args)

    def _dispatch(self, callback: Callable[..., None], *args: Any) -> None:
        if self._accepting:  # after stop() the caller may have closed the store
            callback(*args)

    def _paho_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any) -> None:
        self._to_loop(self._on_connect, reason)

    def _paho_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        self._to_loop(self._on_down, "连接失败 / connection failed (broker unreachable or TLS refused)")

    def _paho_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any) -> None:
        self._to_loop(self._on_disconnect, reason)

    def _paho_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason: ReasonCode, props: Any) -> None:
        self._to_loop(self._on_puback, mid, reason)

    def _on_connect(self, reason: ReasonCode) -> None:
        if reason.is_failure:
            self._on_down(f"连接被拒绝 / connection refused ({reason})")
            return
        self._connected = True
        self._connects += 1
        self._down_logged = False
        self._last_error = None
        log.info("MQTT %s: 已连接 / connected to %s:%s", self.settings.name, self.settings.host, self.settings.port)
        self._client.publish(self.topics.availability, "online", qos=1, retain=True)
        self._status_due = self._status is not None
        self._wake.set()

    def _on_disconnect(self, reason: ReasonCode) -> None:
        if self._connected or self._last_error is None:  # after a refused CONNACK, the refusal says more
            self._on_down(f"断开 / disconnected ({reason})")

    def _on_down(self, why: str) -> None:
        self._connected = False
        if not self._down_logged and not self._stopping:
            log.warning("MQTT %s: %s; %d 条在途 / item(s) in flight", self.settings.name, why, len(self._inflight))
            self._down_logged = True
        self._last_error = why

    def _on_puback(self, mid: int, reason: ReasonCode) -> None:
        item_id = self._inflight.pop(mid, None)
        if item_id is None:
            waiter = self._waiters.get(mid)
            if waiter is not None and not waiter.done():
                waiter.set_result(not reason.is_failure)
            return
        if not reason.is_failure:
            self._acks.append(item_id)
            if len(self._acks) == 1:  # after the other PUBACKs already queued on the loop
                asyncio.get_running_loop().call_soon(self._dispatch, self._flush_acks)
            return
        self._refused += 1
        self._held[item_id] = self._clock.now() + self.settings.retry_s
        self._error(f"代理拒收条目 {item_id} / broker refused item {item_id}: {reason}")
        try:
            self.store.mark_sent(item_id, error=f"broker refused: {reason}")
        except StoreError as err:  # the item is gone: nothing to re-send
            self._error(f"条目 {item_id} 出错 / item {item_id}: {err}")
        self._wake.set()

    def _flush_acks(self) -> None:
        """Ack every PUBACKed item of this loop pass in one transaction (one fsync, not one per message)."""
        ids, self._acks = self._acks, []
        if not ids:
            return
        try:
            done = 0
            with self.store.transaction():
                for item_id in ids:
                    try:
                        done += self.store.ack(item_id)
                    except StoreError as err:  # deleted under us: nothing to ack, nothing to re-send
                        self._error(f"条目 {item_id} 确认失败 / ack of item {item_id} failed: {err}")
            self._acked += done
        except Exception as err:  # not written: the items stay pending and are sent again (at-least-once)
            log.exception("MQTT %s: %d 条确认失败 / acking %d item(s) failed", self.settings.name, len(ids), len(ids))
            self._error(f"{len(ids)} 条确认失败 / acking {len(ids)} item(s) failed: {err}")
        self._wake.set()
