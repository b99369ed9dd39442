"""The watchdog's alive() (agent/daemon/liveness.py, wired in `das run`): pings are withheld when neither a poll
nor a statistics tick moved for N poll intervals (agent time at the clock's speed, in real seconds), and kept
while a site is still starting; on a real notify socket, driven by the manual clock."""

from __future__ import annotations

import select
import socket
import tempfile
from pathlib import Path
from types import SimpleNamespace

from agent.daemon.liveness import Liveness, site_progress
from agent.daemon.runner import ALIVE_FLOOR_S, ALIVE_PERIODS, Daemon, RunOptions
from agent.sdnotify import SdNotifier
from agent.watchdog import start_watchdog
from drivers.clock import ManualClock


def _site(
    polls: int = 0, records: int = 0, first_poll_s: float | None = 1.0, interval_s: float = 5.0
) -> SimpleNamespace:
    device = SimpleNamespace(polls=polls, interval_s=interval_s)
    pipeline = SimpleNamespace(records_stored=records, params=SimpleNamespace(rtd_interval=30))
    return SimpleNamespace(
        acquisition=SimpleNamespace(state={"cems": device}), pipelines={"DA001": pipeline}, first_poll_s=first_poll_s
    )


def _pings(sock: socket.socket, wait: float) -> int:
    """WATCHDOG=1 datagrams received (waiting up to `wait` s for the first)."""
    select.select([sock], [], [], wait)
    count = 0
    while True:
        try:
            assert sock.recv(4096) == b"WATCHDOG=1"
        except BlockingIOError:
            return count
        count += 1


async def test_pings_stop_when_polls_and_ticks_stop() -> None:
    path = Path(tempfile.mkdtemp(prefix="das-wd-")) / "notify"  # short: sun_path holds 108 bytes
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.setblocking(False)
    clock = ManualClock()
    site = _site()
    alive = Liveness(lambda: site_progress(site), lambda: 60.0, starting=lambda: site.first_poll_s is None, clock=clock)
    task = start_watchdog(notifier=SdNotifier(str(path), watchdog_usec=30_000_000), clock=clock, alive=alive)
    assert task is not None
    try:
        for _ in range(8):  # 120 s of work: a poll every 15 s
            await clock.advance(15)
            site.acquisition.state["cems"].polls += 1
        assert _pings(sock, 1.0) >= 7  # one every 15 s
        site.pipelines["DA001"].records_stored += 1  # a statistics tick alone also counts as progress
        await clock.advance(60)
        assert _pings(sock, 1.0) >= 3
        await clock.advance(120)  # nothing moves: pings stop once 60 s have passed without progress
        assert _pings(sock, 0.5) <= 1  # the ping due as it began (progress 60 s before)
        await clock.advance(60)
        assert _pings(sock, 0.5) == 0
        site.acquisition.state["cems"].polls += 1
        await clock.advance(15)
        assert _pings(sock, 1.0) == 1
    finally:
        task.cancel()
        sock.close()
        path.unlink()
        path.parent.rmdir()


async def test_a_starting_site_is_alive_within_its_grace() -> None:
    clock = ManualClock()
    site = _site(first_poll_s=None)
    alive = Liveness(lambda: site_progress(site), lambda: 60.0, starting=lambda: site.first_poll_s is None, clock=clock)
    assert alive()
    await clock.advance(100)  # no progress yet, still within the 120 s start grace
    assert alive()
    await clock.advance(30)  # a start that never finishes is not alive forever
    assert not alive()


def test_daemon_limit_is_n_poll_intervals_in_real_seconds(tmp_path: Path) -> None:
    config = Path(__file__).resolve().parents[2] / "agent" / "config" / "demo_site.toml"
    from agent.daemon.runner import load_plan

    options = RunOptions(config, clock_speed=0.1, state_dir=tmp_path)
    daemon = Daemon(options, load_plan(options))
    assert daemon._alive_limit_s() == ALIVE_FLOOR_S
    daemon.site = _site(interval_s=20.0)  # type: ignore[assignment]
    assert daemon._alive_limit_s() == ALIVE_PERIODS * 20.0 / 0.1
    daemon.site = None
    assert daemon.liveness()  # no site (starting or reloading): alive
