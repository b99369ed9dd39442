"""`das demo` (simulated meters, the reference platforms, `das run` as a process): equipment state (CN 2021,
SBxxx-RS) reaches a platform only while the platform wants it. HJ 212-2017 §8: 2021 is a request (9011, 9012,
then the DAS uploads the state), 2022 a notification (9013, the uploads stop). DW001's SB1/SB2 are driven by the
simulated power meters; the test is the 2017 platform, queueing its commands into the recording's SQLite file
from this process, as `das platform command` does."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from hil.platform import PlatformStore
from hil.platform.store import CommandRow, FrameRow

DW001_2017 = "010000A8900016F000169DC1"
SPEED = 60.0  # a 30 s RtdInterval is half a real second: the stop is seen over many intervals
INTERVAL = timedelta(seconds=30)  # the demo's RtdInterval (agent time), the state record's interval
GRACE = 3 * INTERVAL  # a state packet already written when the 2022 arrived may still land
QUIET = 10 * INTERVAL  # then watched this long (agent time) for a 2021 that should not come
TIMEOUT = 90.0  # real s for each wait; the 2 cores are shared with other tests

T = TypeVar("T")


def _until(what: str, get: Callable[[], T | None], timeout: float = TIMEOUT) -> T:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = get()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _command(store: PlatformStore, cn: str) -> CommandRow:
    """Queue a raw command (empty CP) for the demo's platform to send; wait for it to finish."""
    command_id = store.queue_command(
        mn=DW001_2017, cn=cn, cp="", source="test", at=datetime.now(), kind="raw", args={"cn": cn, "cp": ""}
    )

    def finished() -> CommandRow | None:
        row = store.command(command_id)
        return row if row is not None and row.finished else None

    return _until(f"command {cn}", finished)


def _states(store: PlatformStore) -> list[FrameRow]:
    return store.frames(mn=DW001_2017, cn="2021", direction="in", verdict="accepted")


def _latest_in(store: PlatformStore) -> datetime | None:
    frames = store.frames(mn=DW001_2017, direction="in")
    return max((f.at for f in frames), default=None)


def test_state_upload_starts_on_2021_and_stops_on_2022(tmp_path: Path) -> None:
    code = "import sys; from agent.cli import main; sys.argv = ['das', 'demo'] + sys.argv[1:]; main()"
    args = ["--workdir", str(tmp_path), "--speed", str(SPEED), "--duration", "300"]
    log = (tmp_path / "demo.out").open("w")
    demo = subprocess.Popen([sys.executable, "-c", code, *args], stdout=log, stderr=subprocess.STDOUT)
    try:
        db = tmp_path / "platform-national.sqlite"
        _until("the national platform's recording", db.exists)
        with PlatformStore(db) as store:
            # Connected and sending real-time data; no state yet, nobody asked for it.
            _until("DW001's 2011 frames", lambda: store.frames(mn=DW001_2017, cn="2011", direction="in"))
            assert not _states(store)

            start = _command(store, "2021")
            assert (start.status, start.qn_rtn, start.exe_rtn) == ("done", 1, 1), start
            replies = {f.cn for f in store.frames(mn=DW001_2017, direction="in") if f.qn == start.qn}
            assert {"9011", "9012"} <= replies, replies
            states = _until("two 2021 frames", lambda: _states(store)[1:] and _states(store))
            for frame in states:
                assert frame.st == "32" and frame.data_time is not None
                assert "SB1-RS=" in (frame.cp_text or "") and "SB2-RS=" in (frame.cp_text or ""), frame.cp_text
                assert frame.cp is not None and {"SB1", "SB2"} <= set(frame.cp.factors())

            stop = _command(store, "2022")
            assert (stop.status, stop.detail) == ("done", "9013"), stop
            assert stop.finished_at is not None
            stopped = stop.finished_at
            _until(
                "the agent clock past the quiet window",
                lambda: (_latest_in(store) or stopped) > stopped + GRACE + QUIET,
            )
            late = [f for f in _states(store) if f.at > stopped + GRACE]
            assert not late, [(f.at, f.data_time) for f in late]
    finally:
        demo.send_signal(signal.SIGTERM)
        try:
            demo.wait(timeout=60)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait()
        log.close()
