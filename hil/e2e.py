"""Helpers for whole-agent runs: `das run` as a real process, what a reference platform received, and what
`das recompute` makes of the agent's stored readings.

Used by the end-to-end day test (hil/tests/test_e2e_day.py) and the agent benchmark (bench/bench_agent.py).
The agent runs as a separate process so that SIGKILL is a real kill (no `finally`, no flush) and /proc gives
its own CPU time and peak memory.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from agent.model import RecordKind
from buffer import Store
from hil.platform import PlatformStore
from uplink.hj212 import Cp

__all__ = [
    "AgentProcess",
    "Received",
    "das_command",
    "first_minute",
    "proc_cpu_seconds",
    "proc_peak_rss_kib",
    "received",
    "recompute",
]

# HJ 212-2017 Table 9: the upload CN of each record kind compared here.
CN_OF = {"minute": "2051", "hour": "2061", "day": "2031"}


def das_command(*args: str) -> list[str]:
    """`das ARGS` with this interpreter (works without the console script on PATH)."""
    code = "import sys; from agent.cli import main; sys.argv = ['das', *sys.argv[1:]]; main()"
    return [sys.executable, "-c", code, *args]


class AgentError(RuntimeError):
    """The agent process did not do what the run expected; the message carries the end of its log."""


class AgentProcess:
    """`das run` as a subprocess that can be started again with the same command (the same clock anchor keeps
    the simulated timeline going), killed with SIGKILL or stopped with SIGTERM. Every start appends to one log."""

    def __init__(self, command: Sequence[str], log: Path) -> None:
        self.command = list(command)
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.spawned_at = 0.0
        self._offset = 0

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise AgentError("agent not started")
        return self.proc.pid

    async def start(self) -> None:
        self._offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.spawned_at = time.monotonic()
            self.proc = await asyncio.create_subprocess_exec(
                *self.command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.starts += 1

    def text(self, *, this_run: bool = False) -> str:
        if not self.log.exists():
            return ""
        data = self.log.read_bytes()
        return data[self._offset :].decode("utf-8", "replace") if this_run else data.decode("utf-8", "replace")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.text().splitlines()[-lines:])

    async def wait_log(self, needle: str, timeout: float) -> float:
        """Wait until this run's log holds `needle`; returns the real seconds since spawn. Fails at once if the
        process exits first."""
        deadline = time.monotonic() + timeout
        while needle not in self.text(this_run=True):
            if self.proc is not None and self.proc.returncode is not None:
                raise AgentError(f"agent exited ({self.proc.returncode}) before {needle!r}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AgentError(f"no {needle!r} in the agent log within {timeout} s:\n{self.tail()}")
            await asyncio.sleep(0.05)
        return time.monotonic() - self.spawned_at

    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def kill(self) -> None:
        """SIGKILL: nothing is flushed, nothing is closed; the next start must recover from the store alone."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()

    async def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait for the staged shutdown; SIGKILL if it overruns. Returns the exit code."""
        if self.proc is None:
            return 0
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                await self.kill()
        return self.proc.returncode if self.proc.returncode is not None else -1


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a live process from /proc/<pid>/stat (fields 14 and 15, in clock ticks)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_peak_rss_kib(pid: int) -> int:
    """VmHWM (peak resident set) of a live process, KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AgentError(f"no VmHWM in /proc/{pid}/status")


@dataclass(frozen=True, slots=True)
class Received:
    """One accepted data frame as the platform decoded it."""

    data_time: str
    factors: dict[str, dict[str, str]]
    rf: bool
    at: datetime
    st: str | None = None


def received(db: Path, mn: str, cn: str) -> list[Received]:
    """Every accepted inbound frame of `mn` with `cn`, in arrival order (duplicates included)."""
    out = []
    with PlatformStore(db) as store:
        for frame in store.frames(mn=mn, cn=cn, direction="in", verdict="accepted"):
            cp = frame.cp
            if cp is None or frame.data_time is None:
                continue
            out.append(Received(frame.data_time, cp.factors(), bool(frame.rf), frame.at, frame.st))
    return out


def first_minute(store_path: Path, outlet: str, begin: datetime, end: datetime) -> datetime | None:
    """Where the agent's engine started: the first minute record it stored."""
    with Store(store_path, readonly=True) as store:
        found = store.records(outlet, RecordKind.MINUTE, begin, end)
    return found[0].data_time if found else None


def recompute(
    site_config: Path,
    outlet: str,
    store: Path,
    begin: datetime,
    end: datetime,
    kinds: Iterable[str] = ("minute", "hour", "day"),
) -> dict[tuple[str, str], dict[str, dict[str, str]]]:
    """`das recompute --site-config … --format cp` as a process: (kind, DataTime) → decoded CP factors."""
    args = ["recompute", "--site-config", str(site_config), "--outlet", outlet, "--store", str(store)]
    args += ["--from", begin.isoformat(), "--to", end.isoformat(), "--format", "cp"]
    for kind in kinds:
        args += ["--kind", kind]
    run = subprocess.run(das_command(*args), capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        raise AgentError(f"das recompute failed ({run.returncode}): {run.stderr}")
    out: dict[tuple[str, str], dict[str, dict[str, str]]] = {}
    for line in run.stdout.splitlines():
        kind, _, text = line.partition("\t")
        cp = Cp.parse(text)
        out[(kind, cp.get("DataTime") or "")] = cp.factors()
    return out


async def serve_site(workdir: Path, speed: float = 1.0, sample_period_s: float | None = None) -> None:
    """The demo site's simulators and reference platforms until SIGTERM, for an agent started elsewhere.

    Prints one line `READY <site config> <clock start ISO> <anchor>` once the derived config is written, so a
    benchmark can start `das run` on the same timeline and measure only the agent's process.
    """
    from hil.demo import SimTimeline, demo_site

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    timeline = SimTimeline(datetime.now().replace(microsecond=0), speed)
    async with demo_site(workdir, timeline, sample_period_s=sample_period_s) as run:
        print(f"READY {run.config} {timeline.start.isoformat()} {timeline.anchor!r}", flush=True)
        await stop.wait()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="demo site simulators and reference platforms (hil/e2e.py)")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--sample-period", type=float, default=None)
    ns = parser.parse_args()
    asyncio.run(serve_site(ns.workdir, ns.speed, ns.sample_period))
