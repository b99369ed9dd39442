"""The whole agent on the demo site at real-time speed: CPU share, peak memory and start-up time to the first poll.

The demo site's simulators and both reference platforms run in their own process (`python -m hil.e2e`), so
the figures are `das run`'s process alone: 10 devices on 4 links polled every 5 s (the demo config's HJ 76
sample period), two outlets' statistics, two HJ 212 platforms (2017 and 2025) with real-time, minute and hour
uploads, the SQLite store with synchronous commits.

- start-up: from spawning `das run` to its `agent_starting`, `site_started` and `first_poll_cycle` log lines
  (polls are aligned to multiples of the interval since midnight, so the first one waits up to 5 s for its tick;
  the log line's own `seconds` is the site start → first cycle part);
- CPU share: utime + stime from /proc/<pid>/stat over wall time, counted from the first poll cycle to the end;
- peak RSS: VmHWM from /proc/<pid>/status just before SIGTERM.

Run: `.venv/bin/python -m bench agent` (120 s of steady running; `BENCH_QUICK=1`: 30 s).
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hil.e2e import AgentProcess, das_command, proc_cpu_seconds, proc_peak_rss_kib

ROOT = Path(__file__).resolve().parents[1]


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


async def _measure(workdir: Path, seconds: float) -> dict[str, float | str]:
    site = subprocess.Popen(
        [sys.executable, "-m", "hil.e2e", "--workdir", str(workdir)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert site.stdout is not None
        line = site.stdout.readline().split()
        if not line or line[0] != "READY":
            raise RuntimeError(f"site process did not start: {line}")
        config = Path(line[1])
        agent = AgentProcess(das_command("run", "--config", str(config)), workdir / "agent.log")
        await agent.start()
        try:
            starting = await agent.wait_log("agent_starting", 60)
            started = await agent.wait_log("site_started", 60)
            first = await agent.wait_log("first_poll_cycle", 60)
            found = re.search(r"first_poll_cycle.*seconds=([0-9.]+)", agent.text())
            site_to_first = float(found.group(1)) if found else float("nan")
            cpu0, wall0 = proc_cpu_seconds(agent.pid), time.monotonic()
            site_cpu0 = proc_cpu_seconds(site.pid)
            await asyncio.sleep(seconds)
            cpu1, wall1 = proc_cpu_seconds(agent.pid), time.monotonic()
            site_cpu1 = proc_cpu_seconds(site.pid)
            peak = proc_peak_rss_kib(agent.pid)
            status = (workdir / "status.json").read_text(encoding="utf-8") if (workdir / "status.json").exists() else ""
        finally:
            code = await agent.stop()
        overruns = sum(int(n) for n in re.findall(r'"overruns": (\d+)', status))
        return {
            "spawn → agent_starting (imports, config) s": starting,
            "spawn → site_started s": started,
            "spawn → first_poll_cycle s": first,
            "site start → first poll cycle (log) s": site_to_first,
            "agent CPU spawn → first poll s": cpu0,
            "steady wall s": wall1 - wall0,
            "agent CPU s": cpu1 - cpu0,
            "agent CPU share % of one core": 100 * (cpu1 - cpu0) / (wall1 - wall0),
            "simulators+platforms CPU share %": 100 * (site_cpu1 - site_cpu0) / (wall1 - wall0),
            "agent peak RSS (VmHWM) MiB": peak / 1024,
            "poll overruns": float(overruns),
            "agent exit code": float(code),
        }
    finally:
        site.terminate()
        site.wait(10)


def main() -> None:
    seconds = 30.0 if os.environ.get("BENCH_QUICK") == "1" else 120.0
    cores = os.cpu_count()
    print(f"machine: {cores} cores, Python {sys.version.split()[0]}; load average before: {_load()}")
    with tempfile.TemporaryDirectory(prefix="das-bench-agent-") as tmp:
        figures = asyncio.run(_measure(Path(tmp), seconds))
    for name, value in figures.items():
        print(f"  {name:<42} {value:.3f}" if isinstance(value, float) else f"  {name:<42} {value}")
    print(f"load average after: {_load()}")


if __name__ == "__main__":
    main()
