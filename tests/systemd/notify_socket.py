"""The listening end of a notify socket, as systemd holds it: a real `AF_UNIX` datagram socket."""

from __future__ import annotations

import select
import socket
from dataclasses import dataclass


@dataclass
class NotifySocket:
    """The listening end; `name` is what goes into NOTIFY_SOCKET."""

    name: str
    sock: socket.socket

    def messages(self, wait: float = 0.0) -> list[dict[str, str]]:
        """Every datagram received so far (waiting up to `wait` s for the first), parsed into KEY=VALUE dicts."""
        if wait > 0:
            select.select([self.sock], [], [], wait)
        out: list[dict[str, str]] = []
        while True:
            try:
                data = self.sock.recv(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return out
            out.append(dict(line.split("=", 1) for line in data.decode().split("\n")))


def bound_socket(address: str | bytes) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    return sock
