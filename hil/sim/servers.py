"""Simulated Modbus servers: TCP (MBAP or RTU over TCP, like a serial server / 4G DTU) and RTU on a pty.

The pty server emulates the wire: a reply is written no earlier than the request and reply bytes would take at
the configured baud rate (plus the slave's turnaround), one frame at a time as on a half-duplex bus. It reopens
its port if the pty disappears (socat killed and recreated), like a device that is power-cycled.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import struct
import termios

import serial

from drivers.clock import Clock, MonotonicClock
from hil.sim.bus import Answer, Reply, SimBus
from hil.sim.pty import read_queue, serve_reopening
from hil.sim.rtu import RtuRequestParser, rtu_frame

__all__ = ["RtuPtyServer", "TcpSimServer"]


class TcpSimServer:
    """Modbus TCP (framing="tcp") or RTU over TCP (framing="rtu") server for a SimBus on host:port."""

    def __init__(self, bus: SimBus, *, host: str = "127.0.0.1", port: int = 0, framing: str = "tcp") -> None:
        self.bus = bus
        self.host = host
        self.port = port
        self.framing = framing
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.connections = 0

    async def start(self) -> TcpSimServer:
        self._server = await asyncio.start_server(self._serve, self.host, self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Close the listener and every client connection (the device "disappears")."""
        if self._server is not None:
            self._server.close()
            for w in list(self._writers):
                w.transport.abort()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> TcpSimServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        try:
            if self.framing == "tcp":
                await self._serve_mbap(reader, writer)
            else:
                await self._serve_rtu(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()

    async def _send(self, writer: asyncio.StreamWriter, reply: Reply, frame: bytes) -> bool:
        if reply.delay:
            await self.bus.clock.sleep(reply.delay)
        if reply.kind is Answer.DISCONNECT:
            writer.transport.abort()
            return False
        if reply.kind is Answer.GARBAGE:
            writer.write(reply.data)
        elif reply.kind is Answer.PDU:
            writer.write(frame)
        await writer.drain()
        return True

    async def _serve_mbap(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            header = await reader.readexactly(7)
            tid, pid, length, unit = struct.unpack(">HHHB", header)
            if pid != 0 or not 2 <= length <= 254:
                return  # not Modbus TCP: a real server drops the connection
            pdu = await reader.readexactly(length - 1)
            reply = self.bus.respond(unit, pdu)
            frame = struct.pack(">HHHB", tid, 0, len(reply.data) + 1, unit) + reply.data
            if not await self._send(writer, reply, frame):
                return

    async def _serve_rtu(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        parser = RtuRequestParser()
        while True:
            try:
                chunk = await asyncio.wait_for(reader.read(512), 0.05) if parser.buf else await reader.read(512)
            except TimeoutError:
                parser.silence()
                continue
            if not chunk:
                return
            for unit, pdu, _ in parser.feed(chunk):
                reply = self.bus.respond(unit, pdu)
                if unit == 0:
                    continue
                if not await self._send(writer, reply, rtu_frame(unit, reply.data)):
                    return


class RtuPtyServer:
    """Serves a SimBus as RTU slaves on a serial port (the far end of a socat pty pair), with wire timing."""

    def __init__(
        self,
        bus: SimBus,
        port: str,
        *,
        baudrate: int = 9600,
        bits_per_char: int = 10,
        turnaround: float = 0.002,
        timed: bool = True,
        peer: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.bus = bus
        self.port = port
        self.baudrate = baudrate
        self.char_time = bits_per_char / baudrate
        self.turnaround = turnaround
        self.timed = timed
        self.peer = peer
        self.clock = clock or MonotonicClock()
        self.mismatched = 0
        self._task: asyncio.Task[None] | None = None
        self.frames = 0
        self.parser = RtuRequestParser()
        self._port: serial.Serial | None = None
        self._ready = asyncio.Event()

    def _peer_matches(self) -> bool:
        """Whether the master's end of the pty pair is set to our baud rate.

        A pty pair carries bytes whatever the line settings, so to emulate a wrong baud rate (what `das scan`
        must cope with) the simulator reads the master end's termios and stays silent on a mismatch. Parity
        cannot be emulated this way: the Linux pty driver clears PARENB (and may refuse it with EINVAL).
        """
        try:
            fd = os.open(self.peer or "", os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError:
            return True
        try:
            ispeed = termios.tcgetattr(fd)[4]
        finally:
            os.close(fd)
        return ispeed == getattr(termios, f"B{self.baudrate}", None)

    def inject(self, data: bytes) -> None:
        """Put bytes on the bus unasked (noise, a foreign master): the driver must survive it."""
        if self._port is not None:
            self._port.write(data)

    async def start(self, timeout: float = 5.0) -> RtuPtyServer:
        """Start serving; returns once the port is open, so no request can go out before the slave listens."""
        self._ready = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=f"rtu-sim {self.port}")
        async with asyncio.timeout(timeout):
            await self._ready.wait()
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def __aenter__(self) -> RtuPtyServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _run(self) -> None:
        await serve_reopening(self.port, self.baudrate, self._serve, name=f"rtu sim {self.port}")

    async def _serve(self, port: serial.Serial) -> None:
        queue = read_queue(port)
        self._port = port
        self._ready.set()
        parser = self.parser = RtuRequestParser()
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), 0.05) if parser.buf else await queue.get()
            except TimeoutError:
                parser.silence()
                continue
            if isinstance(item, BaseException):
                raise item
            if self.peer is not None and not self._peer_matches():
                self.mismatched += 1  # wrong baud/parity: a real slave sees only framing errors
                parser.silence()
                continue
            for unit, pdu, size in parser.feed(item):
                self.frames += 1
                reply = self.bus.respond(unit, pdu)
                if unit == 0 or reply.kind in (Answer.NONE, Answer.DISCONNECT):
                    continue
                data = reply.data if reply.kind is Answer.GARBAGE else rtu_frame(unit, reply.data)
                if self.timed:
                    # The request took size chars on the wire, the reply takes len(data) more.
                    await self.clock.sleep((size + len(data)) * self.char_time + self.turnaround + reply.delay)
                elif reply.delay:
                    await self.clock.sleep(reply.delay)
                port.write(data)
