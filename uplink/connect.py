"""Connecting to a platform: bounded exponential backoff with jitter, one shared attempt (style.md §2.3).

The DAS is the TCP client (hj212.md §8). After a failure the next attempt waits `min·2^n` seconds (capped at
`max`), scaled by a random factor in [0.5, 1] so that a DAS serving several platforms, or many DASs behind one
mobile cell, do not all retry in step after a network outage. Concurrent `connect()` calls share one attempt
behind `asyncio.shield`, so a command reply and the sender never open two sockets to one platform.

Connect failures are mapped to `ConnectError` with a `kind` a person can act on (refused, dns, timeout,
unreachable): `das uplink test` prints it, the session logs it once per transition.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass

from drivers.clock import Clock

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]

_MESSAGES = {
    "refused": "连接被拒绝 (平台未监听该端口) / connection refused: nothing listens on that port",
    "dns": "域名解析失败 / host name could not be resolved (DNS)",
    "timeout": "连接超时 (网络不通或被防火墙丢弃) / connect timed out: network down or firewalled",
    "unreachable": "网络不可达 / network or host unreachable",
    "closed": "会话已关闭 / session closed",
}


class ConnectError(ConnectionError):
    """A failed connect, with `kind` in refused/dns/timeout/unreachable/closed and a bilingual message."""

    def __init__(self, kind: str, host: str, port: int, detail: str = "") -> None:
        self.kind = kind
        self.host = host
        self.port = port
        self.detail = detail
        text = f"{host}:{port}: {_MESSAGES.get(kind, kind)}"
        super().__init__(f"{text} ({detail})" if detail else text)


@dataclass
class Backoff:
    """Delay before the next connect attempt: `base·2^failures`, at most `cap`, times a jitter in [0.5, 1]."""

    base: float = 1.0
    cap: float = 300.0
    rng: Callable[[], float] = random.random
    failures: int = 0

    def next_delay(self) -> float:
        """The wait after one more failure (counts it)."""
        raw = min(self.cap, self.base * 2 ** min(self.failures, 30))
        self.failures += 1
        return raw * (0.5 + 0.5 * self.rng())

    def reset(self) -> None:
        """A link that worked (an answer came back) starts the next outage from `base` again."""
        self.failures = 0


async def open_tcp(host: str, port: int, clock: Clock, timeout: float) -> Streams:
    """Open a TCP connection, mapping every failure to a `ConnectError` kind."""
    try:
        async with clock.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
    except TimeoutError as err:
        raise ConnectError("timeout", host, port, f"{timeout:g} s") from err
    except socket.gaierror as err:
        raise ConnectError("dns", host, port, str(err.strerror or err)) from err
    except ConnectionRefusedError as err:
        raise ConnectError("refused", host, port) from err
    except OSError as err:
        raise ConnectError("unreachable", host, port, err.strerror or str(err)) from err
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # one HJ 212 packet = one segment
    return reader, writer


class Connector:
    """Single-flight connect with backoff: the first caller starts the attempt, the others await the same one."""

    def __init__(
        self,
        host: str,
        port: int,
        clock: Clock,
        *,
        timeout: float = 10.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.clock = clock
        self.timeout = timeout
        self.backoff = backoff or Backoff()
        self._flight: asyncio.Task[Streams] | None = None
        self._not_before = 0.0  # clock time before which no attempt starts (backoff)
        self._closed = False

    async def connect(self) -> Streams:
        """Wait out the backoff, connect; share the attempt with concurrent callers. Raises ConnectError."""
        if self._closed:
            raise ConnectError("closed", self.host, self.port)
        if self._flight is None:
            self._flight = asyncio.create_task(self._attempt(), name=f"uplink-connect-{self.host}:{self.port}")
            self._flight.add_done_callback(self._landed)
        return await asyncio.shield(self._flight)

    def _landed(self, task: asyncio.Task[Streams]) -> None:
        self._flight = None
        if not task.cancelled():
            task.exception()  # consumed here: a failure is re-raised to the callers, never "never retrieved"

    async def _attempt(self) -> Streams:
        wait = self._not_before - self.clock.now()
        if wait > 0:
            await self.clock.sleep(wait)
        try:
            return await open_tcp(self.host, self.port, self.clock, self.timeout)
        except ConnectError:
            self.failed()
            raise

    def failed(self) -> None:
        """Count a failure (a connect, or a link that died before any answer): the next attempt backs off."""
        self._not_before = self.clock.now() + self.backoff.next_delay()

    def succeeded(self) -> None:
        self.backoff.reset()
        self._not_before = 0.0

    async def close(self) -> None:
        """No more attempts; wait an attempt in flight out and close a socket that arrives late."""
        self._closed = True
        flight = self._flight
        if flight is None:
            return
        flight.cancel()
        with contextlib.suppress(BaseException):
            _, writer = await flight
            writer.close()
