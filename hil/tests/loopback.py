"""Loopback helpers for the hil tests."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port nothing listens on now (bound and released: a broker or a dead peer is put there)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
