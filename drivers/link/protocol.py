"""The byte-level contract every protocol driver uses to talk over a shared physical link (api_link.md).

Modbus RTU, DL/T 645 and serial-text devices on one RS-485 bus all go through the same owner, so requests are
serialized and paced whatever the protocol (anchors.md §0.1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["ByteLink", "ReplyLength"]

ReplyLength = Callable[[bytes], int | None]
"""Called with the bytes received so far: None while incomplete, else the byte count of the complete reply
(leading garbage/preamble included). Raise `drivers.errors.ProtocolError` for bytes that can never become a
valid reply."""


@runtime_checkable
class ByteLink(Protocol):
    """One owner per physical link (serial port path, or host:port), keyed by `endpoint`."""

    endpoint: str

    async def exchange(
        self,
        device: str,
        request: bytes,
        reply_length: ReplyLength,
        *,
        timeout: float | None = None,
    ) -> bytes:
        """Send `request` (b"" to only listen) and return the complete reply as framed by `reply_length`.

        `device` keys per-device pacing, timeout, retries and backoff. Raises `LinkDown`, `DeviceTimeout`,
        `ProtocolError` or `DeviceBackingOff` (all from `drivers.errors`).
        """
        ...
