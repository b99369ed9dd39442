"""The sd_notify client against a real datagram socket, as systemd would receive it (sd_notify(3))."""

from __future__ import annotations

import os

import pytest
from notify_socket import NotifySocket

from agent.sdnotify import MAX_STATUS_CHARS, SdNotifier


@pytest.fixture(params=["path", "abstract"])
def notify_socket(request: pytest.FixtureRequest) -> NotifySocket:
    return request.getfixturevalue(f"notify_{request.param}")


def test_ready_status_stopping_arrive_as_datagrams(
    notify_socket: NotifySocket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", notify_socket.name)
    notifier = SdNotifier.from_env()
    assert notifier.enabled
    assert notifier.ready("polling 3 devices, 2 platforms online")
    assert notifier.status("平台离线 / platform offline: province")
    assert notifier.stopping()
    assert notifier.extend_timeout(2.5)
    notifier.close()
    assert notify_socket.messages(wait=2.0) == [
        {"READY": "1", "STATUS": "polling 3 devices, 2 platforms online"},
        {"STATUS": "平台离线 / platform offline: province"},
        {"STOPPING": "1"},
        {"EXTEND_TIMEOUT_USEC": "2500000"},
    ]


def test_status_is_kept_to_one_bounded_line(notify_path: NotifySocket) -> None:
    """A newline in STATUS would smuggle another assignment (e.g. READY=1) into the datagram."""
    notifier = SdNotifier(notify_path.name)
    notifier.status("one\nREADY=1\r\n  two")
    notifier.status("x" * 5000)
    first, second = notify_path.messages(wait=2.0)
    assert first == {"STATUS": "one READY=1 two"}
    assert len(second["STATUS"]) == MAX_STATUS_CHARS
    assert second["STATUS"].endswith("…")


def test_missing_notify_socket_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    notifier = SdNotifier.from_env()
    assert not notifier.enabled
    assert notifier.watchdog_interval is None
    assert not notifier.ready("x")
    assert not notifier.watchdog()
    assert not notifier.stopping()


def test_unsupported_socket_kind_is_a_no_op() -> None:
    notifier = SdNotifier("vsock:2:1234")
    assert not notifier.enabled
    assert not notifier.ready()


def test_vanished_socket_never_raises(notify_path: NotifySocket, caplog: pytest.LogCaptureFixture) -> None:
    """systemd gone (socket file removed): the daemon keeps running, one warning, not one per ping."""
    notifier = SdNotifier(notify_path.name)
    os.unlink(notify_path.name)
    assert not notifier.watchdog()
    assert not notifier.watchdog()
    assert len([r for r in caplog.records if "sd_notify" in r.message]) == 1


def test_watchdog_settings_follow_watchdog_pid() -> None:
    """WATCHDOG_PID names the process the watchdog is meant for; anyone else must not ping."""
    mine = {"NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}
    assert SdNotifier.from_env(mine).watchdog_interval == 15.0
    assert SdNotifier.from_env({**mine, "WATCHDOG_PID": "1"}).watchdog_interval is None
    assert SdNotifier.from_env({**mine, "WATCHDOG_PID": ""}).watchdog_interval == 15.0
    for bad in ({"WATCHDOG_USEC": "abc"}, {"WATCHDOG_USEC": "0"}, {"WATCHDOG_USEC": "-5"}, {"WATCHDOG_PID": "x"}):
        assert SdNotifier.from_env({**mine, **bad}).watchdog_interval is None


def test_unset_removes_the_variables_from_the_environment() -> None:
    """So a child process does not talk to a socket that only accepts the main PID (NotifyAccess=main)."""
    env = {"NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "1000", "WATCHDOG_PID": str(os.getpid()), "PATH": "/bin"}
    notifier = SdNotifier.from_env(env, unset=True)
    assert notifier.enabled and notifier.watchdog_usec == 1000
    assert env == {"PATH": "/bin"}
