"""A minimal DAS peer for tests and the demo: one TCP connection, frames in and out through the codec.

It has no session logic (no retries, no backlog); the real DAS session lives in `uplink/`. Tests use it to
drive the platform exactly, byte for byte when they need to (`send_raw`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime

from uplink.hj212 import Cp, Decoded, Dialect, Frame, Hj212Error, StreamDecoder, encode, make_flag, new_qn

Listener = Callable[[str, bytes, Decoded | Hj212Error | None], None]


class DasClient:
    """`async with await DasClient.connect(host, port, dialect) as das:` then `send` / `receive`."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        dialect: Dialect,
        *,
        listener: Listener | None = None,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.dialect = dialect
        self.decoder = StreamDecoder(dialect)
        self.listener = listener
        self._items: list[Decoded | Hj212Error] = []

    @classmethod
    async def connect(
        cls, host: str, port: int, dialect: Dialect | None = None, *, listener: Listener | None = None
    ) -> DasClient:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, dialect or Dialect(), listener=listener)

    async def __aenter__(self) -> DasClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()

    def frame(
        self,
        cn: str,
        cp: Cp,
        *,
        mn: str,
        pw: str = "123456",
        st: str = "32",
        qn: str | None = None,
        answer: bool = True,
        t: datetime | None = None,
    ) -> Frame:
        """A frame of this client's dialect; the QN comes from `t` (default: now) unless given."""
        return Frame(
            qn=qn or new_qn(t or datetime.now()),
            st=st,
            cn=cn,
            pw=pw,
            mn=mn,
            flag=make_flag(self.dialect.version, answer=answer, split=False),
            cp=cp,
        )

    async def send(self, frame: Frame) -> bytes:
        data = encode(frame, self.dialect)
        await self.send_raw(data)
        if self.listener is not None:
            self.listener("out", data, Decoded(frame, (), data))
        return data

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def receive(self, timeout: float = 5.0) -> Decoded | Hj212Error:
        """The next frame (or framing/decoding error) from the platform; TimeoutError if none comes."""
        async with asyncio.timeout(timeout):
            while not self._items:
                chunk = await self.reader.read(65536)
                if not chunk:
                    raise ConnectionResetError("平台关闭了连接 / the platform closed the connection")
                for item in self.decoder.feed(chunk):
                    if self.listener is not None:
                        raw = item.raw if isinstance(item, Decoded) else getattr(item, "raw", b"")
                        self.listener("in", raw, item)
                    self._items.append(item)
        return self._items.pop(0)

    async def receive_frame(self, timeout: float = 5.0) -> Frame:
        """The next well-formed frame; a bad one raises its `Hj212Error`."""
        item = await self.receive(timeout)
        if isinstance(item, Hj212Error):
            raise item
        return item.frame
