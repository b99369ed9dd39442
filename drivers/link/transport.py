"""Byte transports under a link owner: a serial port (pyserial, non-blocking, on the event loop) and TCP.

The owner, not a client library, holds the bytes, so Modbus RTU, DL/T 645 and serial-text devices can share one
RS-485 bus, and a lost connection or unplugged USB adapter becomes a `LinkDown` the owner can recover from.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import termios
from typing import Protocol

import serial

from drivers.errors import LinkDown
from drivers.link.params import SerialParams, TcpParams

__all__ = ["RxBuffer", "SerialTransport", "TcpTransport", "Transport", "make_transport"]


class RxBuffer:
    """Received bytes plus a waiter; a transport feeds it, the owner consumes it."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.lost: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None

    def feed(self, chunk: bytes) -> None:
        self.data += chunk
        self._wake()

    def fail(self, exc: BaseException) -> None:
        self.lost = exc
        self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self) -> None:
        """Return when new bytes arrived since the last call; raise LinkDown when the link was lost."""
        if self.lost is not None:
            raise LinkDown(str(self.lost)) from self.lost
        self._waiter = asyncio.get_running_loop().create_future()
        await self._waiter
        if self.lost is not None:
            raise LinkDown(str(self.lost)) from self.lost


class Transport(Protocol):
    rx: RxBuffer

    @property
    def is_open(self) -> bool: ...

    async def open(self) -> None: ...

    async def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class SerialTransport:
    """A serial port read through `loop.add_reader` (no thread); reopened by path after a USB unplug."""

    def __init__(self, params: SerialParams) -> None:
        self.params = params
        self.rx = RxBuffer()
        self._port: serial.Serial | None = None

    @property
    def is_open(self) -> bool:
        return self._port is not None and self.rx.lost is None

    async def open(self) -> None:
        self.close()
        p = self.params
        try:
            port = self._open(p.parity)
        except termios.error as err:
            # A pseudo-terminal has no parity bit: Linux clears PARENB and may answer EINVAL when parity is the
            # only change. Ptys carry bytes whatever the line settings, so open without it (simulators, tests).
            if p.parity == "N" or not os.path.realpath(p.port).startswith("/dev/pts/"):
                raise LinkDown(f"串口参数无效 / {p.port} refuses {p.line}: {err}") from err
            try:
                port = self._open("N")
            except (serial.SerialException, OSError, ValueError, termios.error) as err2:
                raise LinkDown(f"串口打开失败 / cannot open {p.port} at {p.line}: {err2}") from err2
        except (serial.SerialException, OSError, ValueError) as err:
            raise LinkDown(f"串口打开失败 / cannot open {p.port} at {p.line}: {err}") from err
        self.rx = RxBuffer()
        self._port = port
        asyncio.get_running_loop().add_reader(port.fileno(), self._readable)

    def _open(self, parity: str) -> serial.Serial:
        p = self.params
        return serial.Serial(
            p.port,
            baudrate=p.baudrate,
            bytesize=p.bytesize,
            parity=parity,
            stopbits=p.stopbits,
            timeout=0,
            write_timeout=2.0,
            exclusive=True,
        )

    def _readable(self) -> None:
        port = self._port
        if port is None:
            return
        try:
            chunk = port.read(max(1, port.in_waiting))
            if not chunk:
                raise serial.SerialException("port readable but no data (device unplugged?)")
        except (serial.SerialException, OSError) as err:
            self._drop_reader()
            self.rx.fail(err)
            return
        self.rx.feed(chunk)

    async def write(self, data: bytes) -> None:
        port = self._port
        if port is None or self.rx.lost is not None:
            raise LinkDown(f"{self.params.port} is not open")
        try:
            port.write(data)
        except (serial.SerialException, OSError) as err:
            self.rx.fail(err)
            raise LinkDown(f"串口写入失败 / write to {self.params.port} failed: {err}") from err

    def _drop_reader(self) -> None:
        if self._port is not None:
            with contextlib.suppress(RuntimeError, ValueError, OSError):
                asyncio.get_running_loop().remove_reader(self._port.fileno())

    def close(self) -> None:
        port, self._port = self._port, None
        if port is None:
            return
        with contextlib.suppress(RuntimeError, ValueError, OSError):
            asyncio.get_running_loop().remove_reader(port.fileno())
        with contextlib.suppress(serial.SerialException, OSError):
            port.close()


class _TcpProtocol(asyncio.Protocol):
    def __init__(self, rx: RxBuffer) -> None:
        self.rx = rx

    def data_received(self, data: bytes) -> None:
        self.rx.feed(data)

    def eof_received(self) -> bool:
        self.rx.fail(ConnectionResetError("connection closed by peer"))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.rx.lost is None:
            self.rx.fail(exc or ConnectionResetError("connection closed"))


class TcpTransport:
    """A TCP connection (Modbus TCP device, serial server, 4G DTU)."""

    def __init__(self, params: TcpParams) -> None:
        self.params = params
        self.rx = RxBuffer()
        self._transport: asyncio.Transport | None = None

    @property
    def is_open(self) -> bool:
        return self._transport is not None and self.rx.lost is None and not self._transport.is_closing()

    async def open(self) -> None:
        self.close()
        rx = RxBuffer()
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.params.connect_timeout):
                transport, _ = await loop.create_connection(
                    lambda: _TcpProtocol(rx), self.params.host, self.params.port
                )
        except (OSError, TimeoutError) as err:
            raise LinkDown(f"连接失败 / connection to {self.params.endpoint} failed: {err or 'timeout'}") from err
        self.rx = rx
        self._transport = transport  # type: ignore[assignment]

    async def write(self, data: bytes) -> None:
        transport = self._transport
        if transport is None or transport.is_closing() or self.rx.lost is not None:
            raise LinkDown(f"{self.params.endpoint} is not connected")
        transport.write(data)

    def close(self) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.abort()


def make_transport(params: SerialParams | TcpParams) -> SerialTransport | TcpTransport:
    if isinstance(params, SerialParams):
        return SerialTransport(params)
    return TcpTransport(params)
