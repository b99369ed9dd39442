"""Fixtures shared by the hil tests."""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from loopback import free_port


@pytest.fixture
def broker(require_tool: Callable[[str], str], tmp_path: Path) -> Iterator[int]:
    """A plain mosquitto (anonymous, no persistence) on a free loopback port; yields the port.
    test_mqtt_broker.py has its own, restartable broker with persistence, auth and TLS."""
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    user = pwd.getpwuid(os.getuid()).pw_name
    conf.write_text(f"user {user}\nlistener {port} 127.0.0.1\nallow_anonymous true\n")
    proc = subprocess.Popen([require_tool("mosquitto"), "-c", str(conf)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert time.monotonic() < deadline and proc.poll() is None, "mosquitto did not start"
            time.sleep(0.05)
    yield port
    proc.terminate()
    proc.wait(10)
