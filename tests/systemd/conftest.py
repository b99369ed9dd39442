"""Real notify sockets (a file and an abstract name) for the sd_notify and watchdog tests."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from notify_socket import NotifySocket, bound_socket


@pytest.fixture
def notify_path() -> Iterator[NotifySocket]:
    """A socket file, as systemd's /run/systemd/notify (short temp dir: sun_path holds 108 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="das-sd-"))
    path = folder / "notify"
    sock = bound_socket(str(path))
    yield NotifySocket(str(path), sock)
    sock.close()
    path.unlink(missing_ok=True)
    folder.rmdir()


@pytest.fixture
def notify_abstract() -> Iterator[NotifySocket]:
    """A socket in the abstract namespace (`@name` in NOTIFY_SOCKET), as systemd uses inside containers."""
    name = f"das-sd-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    sock = bound_socket(b"\0" + name.encode())
    yield NotifySocket("@" + name, sock)
    sock.close()
