"""A tiny sd_notify client: tell systemd we are ready, alive, what we are doing and that we are stopping.

The unit runs with `Type=notify` and `WatchdogSec=` (systemd/das-agent.service), so systemd starts counting the
service as up only on READY=1 and restarts it when WATCHDOG=1 pings stop. The protocol (sd_notify(3)) is one
datagram of newline-separated `KEY=VALUE` lines sent to the `AF_UNIX` socket named by `NOTIFY_SOCKET`; a name
starting with `@` lives in the abstract namespace. It is small enough that we speak it ourselves instead of adding
a dependency.

Sending never raises: if systemd is gone or the socket is full, the daemon keeps polling and storing (one
warning per kind of failure), because losing a status line must never cost a measurement.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
from collections.abc import Mapping, MutableMapping

__all__ = ["MAX_STATUS_CHARS", "SdNotifier"]

log = logging.getLogger(__name__)

MAX_STATUS_CHARS = 1024
"""STATUS is a one-line summary for `systemctl status`; systemd drops datagrams larger than its 4 KiB buffer."""

_ENV_KEYS = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")


def _one_line(text: str) -> str:
    """STATUS must not contain a newline: the next line would be read as another KEY=VALUE assignment."""
    flat = " ".join(text.split())
    if len(flat) > MAX_STATUS_CHARS:
        flat = flat[: MAX_STATUS_CHARS - 1] + "…"
    return flat


def _socket_address(name: str) -> bytes | None:
    """Turn a NOTIFY_SOCKET value into a connectable address, or None for kinds we do not speak."""
    if name.startswith("/"):
        return os.fsencode(name)
    if name.startswith("@") and len(name) > 1:
        return b"\0" + os.fsencode(name[1:])  # abstract namespace: a leading NUL byte, no file
    return None  # e.g. vsock:CID:PORT (systemd ≥ 254 inside VMs); not used on a DAS


def _watchdog_usec(env: Mapping[str, str]) -> int | None:
    """WATCHDOG_USEC, if it is meant for this process (sd_watchdog_enabled(3) semantics)."""
    raw = env.get("WATCHDOG_USEC")
    if not raw:
        return None
    pid = env.get("WATCHDOG_PID")
    if pid:
        try:
            if int(pid) != os.getpid():
                return None  # set for our parent (or a wrapper that exec'd us under another pid): not ours
        except ValueError:
            log.warning("WATCHDOG_PID=%r is not a number; watchdog disabled", pid)
            return None
    try:
        usec = int(raw)
    except ValueError:
        log.warning("WATCHDOG_USEC=%r is not a number; watchdog disabled", raw)
        return None
    if usec <= 0:
        log.warning("WATCHDOG_USEC=%r is not positive; watchdog disabled", raw)
        return None
    return usec


class SdNotifier:
    """Sends notifications to the service manager; every method is a no-op (returning False) without one.

    Build it with `from_env()` in the daemon's main process: with `NotifyAccess=main` systemd accepts
    messages only from the main PID.
    """

    def __init__(self, socket_name: str | None, *, watchdog_usec: int | None = None) -> None:
        self.socket_name = socket_name or None
        self._address = _socket_address(socket_name) if socket_name else None
        if socket_name and self._address is None:
            log.warning("NOTIFY_SOCKET=%r is not a path or @abstract name; notifications disabled", socket_name)
        self.watchdog_usec = watchdog_usec if self._address is not None else None
        self._sock: socket.socket | None = None
        self._warned: set[int] = set()

    @classmethod
    def from_env(cls, environ: MutableMapping[str, str] | None = None, *, unset: bool = False) -> SdNotifier:
        """Read NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID (os.environ by default).

        `unset=True` removes them afterwards, so child processes (the video process, a shell hook) do not
        inherit a socket whose messages systemd would reject as not coming from the main PID.
        """
        env = os.environ if environ is None else environ
        notifier = cls(env.get("NOTIFY_SOCKET"), watchdog_usec=_watchdog_usec(env))
        if unset:
            for key in _ENV_KEYS:
                env.pop(key, None)
        return notifier

    @property
    def enabled(self) -> bool:
        """True when running under a service manager that listens for notifications."""
        return self._address is not None

    @property
    def watchdog_interval(self) -> float | None:
        """Seconds between WATCHDOG=1 pings: half of WATCHDOG_USEC, as sd_watchdog_enabled(3) recommends."""
        if self.watchdog_usec is None:
            return None
        return self.watchdog_usec / 2_000_000

    def notify(self, *assignments: str) -> bool:
        """Send `KEY=VALUE` lines in one datagram (systemd applies them together); True if it was sent."""
        if self._address is None:
            return False
        payload = "\n".join(assignments).encode()
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                self._sock.setblocking(False)  # a full queue must not stall the event loop; the ping is retried
            self._sock.sendto(payload, self._address)
        except OSError as err:
            code = err.errno or 0
            if code not in self._warned:
                self._warned.add(code)
                log.warning(
                    "sd_notify to %s failed (%s); continuing without it",
                    self.socket_name,
                    errno.errorcode.get(code, code),
                )
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        """READY=1 (with a STATUS line): systemd now counts the start as finished."""
        if status is None:
            return self.notify("READY=1")
        return self.notify("READY=1", f"STATUS={_one_line(status)}")

    def status(self, text: str) -> bool:
        """STATUS=…: the one-line health summary shown by `systemctl status` and `das service status`."""
        return self.notify(f"STATUS={_one_line(text)}")

    def watchdog(self) -> bool:
        """WATCHDOG=1: the keep-alive ping (see agent/watchdog.py for who sends it and when)."""
        return self.notify("WATCHDOG=1")

    def stopping(self, status: str | None = None) -> bool:
        """STOPPING=1: a clean shutdown has begun, so systemd does not treat the stop as a hang."""
        if status is None:
            return self.notify("STOPPING=1")
        return self.notify("STOPPING=1", f"STATUS={_one_line(status)}")

    def extend_timeout(self, seconds: float) -> bool:
        """EXTEND_TIMEOUT_USEC: ask for more start/stop time, e.g. while a first poll waits on dead analyzers."""
        return self.notify(f"EXTEND_TIMEOUT_USEC={max(1, round(seconds * 1_000_000))}")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __repr__(self) -> str:
        return f"SdNotifier({self.socket_name!r}, watchdog_usec={self.watchdog_usec!r})"
