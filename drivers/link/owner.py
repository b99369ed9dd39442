"""The owner of one physical link: serializes, paces, times out, retries, backs off and reconnects.

Design from anchors.md §0-§3: one owner per endpoint (no shared-port races, ThingsBoard #905/#1336), a frame gap
(HA #9451), a per-device backoff so one dead analyzer costs at most one timeout per backoff period instead of
12 s every cycle (pymodbus #1654), and reconnect with bounded backoff after a link loss without a restart
(HA #68161, pymodbus #2326). The owner never closes the link because a device is silent.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from drivers.clock import Clock, MonotonicClock
from drivers.errors import DeviceBackingOff, DeviceTimeout, LinkDown, ProtocolError
from drivers.link.pacer import Pacer
from drivers.link.params import DeviceTiming, SerialParams, TcpParams
from drivers.link.protocol import ReplyLength
from drivers.link.transport import SerialTransport, TcpTransport, make_transport

__all__ = ["DeviceHealth", "LinkOwner"]

log = logging.getLogger(__name__)

MAX_RX = 4096
"""Bytes kept while waiting for a reply; beyond that the line carries noise, not a frame."""


@dataclass(slots=True)
class _DeviceState:
    failures: int = 0
    backoff_until: float = 0.0
    requests: int = 0
    ok: int = 0
    timeouts: int = 0
    protocol_errors: int = 0
    skipped: int = 0
    last_ok: float | None = None


@dataclass(frozen=True, slots=True)
class DeviceHealth:
    """A snapshot for the status page and counters (style.md §3.5: counters, not log lines)."""

    device: str
    failures: int
    backoff_until: float
    requests: int
    ok: int
    timeouts: int
    protocol_errors: int
    skipped: int
    last_ok: float | None


class LinkOwner:
    """Implements `ByteLink` for one serial port or TCP endpoint."""

    def __init__(
        self,
        params: SerialParams | TcpParams,
        *,
        clock: Clock | None = None,
        default_timing: DeviceTiming | None = None,
        transport: SerialTransport | TcpTransport | None = None,
        quiet: bool = False,
    ) -> None:
        """`quiet`: per-device transitions (not answering / answers again) are logged at DEBUG, for `das scan`,
        where hundreds of silent unit ids are the expected outcome, not news (the link's own events still log)."""
        self.params = params
        self.quiet = quiet
        self.endpoint = params.endpoint
        self.clock = clock or MonotonicClock()
        self.default_timing = default_timing or DeviceTiming()
        self._transport = transport or make_transport(params)
        self._lock = asyncio.Lock()
        self._pacer = Pacer(self.clock)
        self._timings: dict[str, DeviceTiming] = {}
        self._states: dict[str, _DeviceState] = {}
        self._reconnect_delay = params.reconnect_min
        self._reconnect_at = 0.0
        self._was_up = False
        self.connects = 0
        self.link_failures = 0
        self._closed = False

    # -- configuration -------------------------------------------------------------------------------------------
    def set_device(self, device: str, timing: DeviceTiming) -> None:
        """Register a device's timing; unknown devices use the owner's default timing."""
        self._timings[device] = timing

    def timing(self, device: str) -> DeviceTiming:
        return self._timings.get(device, self.default_timing)

    def health(self, device: str) -> DeviceHealth:
        s = self._states.get(device) or _DeviceState()
        return DeviceHealth(
            device, s.failures, s.backoff_until, s.requests, s.ok, s.timeouts, s.protocol_errors, s.skipped, s.last_ok
        )

    @property
    def is_connected(self) -> bool:
        return self._transport.is_open

    # -- the ByteLink contract ------------------------------------------------------------------------------------
    async def exchange(
        self,
        device: str,
        request: bytes,
        reply_length: ReplyLength,
        *,
        timeout: float | None = None,
    ) -> bytes:
        timing = self.timing(device)
        state = self._states.setdefault(device, _DeviceState())
        now = self.clock.now()
        if state.backoff_until > now:
            state.skipped += 1
            raise DeviceBackingOff(
                f"{device} on {self.endpoint}: backing off for {state.backoff_until - now:.1f} s after "
                f"{state.failures} failures / 设备退避中",
                until=state.backoff_until,
            )
        # A device that already failed gets one probe, no retries: one timeout per backoff period at most.
        attempts = 1 if state.failures >= timing.failures_before_backoff else 1 + timing.retries
        wait = timing.timeout if timeout is None else timeout
        last: DeviceTimeout | ProtocolError | None = None
        for _ in range(attempts):
            state.requests += 1
            try:
                # Each attempt queues for the bus again, so a retry never jumps ahead of the other devices.
                async with self._lock:
                    await self._ensure_open()
                    await self._pacer.wait(max(self.params.frame_gap, timing.gap))
                    try:
                        reply = await self._transact(device, request, reply_length, wait)
                    finally:
                        self._pacer.mark_end()
            except DeviceTimeout as err:
                state.timeouts += 1
                last = err
                continue
            except ProtocolError as err:
                state.protocol_errors += 1
                last = err
                continue
            if state.failures:
                log.log(
                    logging.DEBUG if self.quiet else logging.INFO,
                    "%s on %s answers again / 设备恢复",
                    device,
                    self.endpoint,
                )
            state.failures = 0
            state.backoff_until = 0.0
            state.ok += 1
            state.last_ok = self.clock.now()
            return reply
        assert last is not None
        self._record_failure(device, state, timing)
        raise last

    def _record_failure(self, device: str, state: _DeviceState, timing: DeviceTiming) -> None:
        state.failures += 1
        over = state.failures - timing.failures_before_backoff
        if over >= 0:
            period = min(timing.backoff_min * (2 ** min(over, 16)), timing.backoff_max)
            state.backoff_until = self.clock.now() + period
            if over == 0:
                log.log(
                    logging.DEBUG if self.quiet else logging.WARNING,
                    "%s on %s not answering, backing off / 设备无应答，退避 %.0f s",
                    device,
                    self.endpoint,
                    period,
                )

    async def _transact(self, device: str, request: bytes, reply_length: ReplyLength, timeout: float) -> bytes:
        transport = self._transport
        rx = transport.rx
        if request:
            rx.data.clear()  # stale bytes from a late reply or noise (devices.md §5.6: flush RX before each request)
            try:
                await transport.write(request)
            except LinkDown:
                self._link_lost()
                raise
        try:
            async with self.clock.timeout(timeout):
                while True:
                    if rx.data:
                        try:
                            n = reply_length(bytes(rx.data))
                        except ProtocolError:
                            rx.data.clear()
                            raise
                        if n is not None:
                            reply = bytes(rx.data[:n])
                            del rx.data[:n]
                            return reply
                        if len(rx.data) > MAX_RX:
                            rx.data.clear()
                            raise ProtocolError(f"{device}: more than {MAX_RX} bytes without a valid reply")
                    await rx.wait()
        except LinkDown:
            self._link_lost()
            raise
        except TimeoutError:
            if rx.data:
                count = len(rx.data)
                rx.data.clear()
                raise ProtocolError(f"{device}: {count} bytes received never formed a reply / 收到无效数据") from None
            raise DeviceTimeout(f"{device} on {self.endpoint}: no answer in {timeout:.3g} s / 设备无应答") from None

    # -- connection -----------------------------------------------------------------------------------------------
    async def _ensure_open(self) -> None:
        if self._transport.is_open:
            return
        if self._closed:
            raise LinkDown(f"{self.endpoint} is closed")
        now = self.clock.now()
        if now < self._reconnect_at:
            raise LinkDown(f"{self.endpoint} down, reconnect in {self._reconnect_at - now:.1f} s / 链路断开，等待重连")
        try:
            await self._transport.open()
        except LinkDown:
            self.link_failures += 1
            self._reconnect_at = self.clock.now() + self._reconnect_delay
            self._reconnect_delay = min(self._reconnect_delay * 2, self.params.reconnect_max)
            if self._was_up:
                log.debug("reconnect to %s failed", self.endpoint)
            raise
        self.connects += 1
        self._reconnect_delay = self.params.reconnect_min
        if self._was_up:
            log.info("%s reconnected / 链路已恢复", self.endpoint)
        self._was_up = True

    def _link_lost(self) -> None:
        self.link_failures += 1
        self._transport.close()
        # The first reconnect is tried at once on the next request; repeated failures back off.
        self._reconnect_at = 0.0
        log.warning("%s lost / 链路断开", self.endpoint)

    async def close(self) -> None:
        self._closed = True
        async with self._lock:
            self._transport.close()
