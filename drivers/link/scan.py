"""Find devices on a serial port or TCP host: try line settings, run every protocol's probe, report findings.

A probe is a small object per protocol (Modbus here; DL/T 645 adds its own by listing its module in
`PROBE_MODULES`, which must expose `PROBES: list[Probe]`). Each line setting gets a fresh link owner with short
timeouts and no retries, so a scan of 247 unit ids at 9600 baud stays within minutes. The owners are quiet: a
silent unit id is the usual answer to a probe, so it is not logged (thousands of WARNING lines in a full sweep).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from drivers.clock import Clock
from drivers.errors import LinkDown
from drivers.link.owner import LinkOwner
from drivers.link.params import DeviceTiming, SerialParams, TcpParams

__all__ = [
    "PROBE_MODULES",
    "Found",
    "LineStep",
    "Probe",
    "ScanOptions",
    "estimate_seconds",
    "line_plan",
    "load_probes",
    "scan_serial",
    "scan_tcp",
]

PROBE_MODULES = ("drivers.modbus.scan", "drivers.dlt645.scan")
"""Modules exposing `PROBES`; a module not written yet is skipped."""

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Found:
    """One device that answered."""

    protocol: str  # "modbus-rtu", "modbus-tcp", "dlt645", ...
    endpoint: str
    address: str  # unit id, meter address
    line: str = ""  # "9600 8N1" on serial links
    detail: str = ""
    device: dict[str, object] = field(default_factory=dict)
    """Keys for the `[devices.<name>]` table of the config snippet (e.g. unit = 3, address = "…")."""


@dataclass(frozen=True, slots=True)
class ScanOptions:
    units: tuple[int, ...] = tuple(range(1, 248))
    timeout: float = 0.3


class Probe(Protocol):
    name: str
    transport: Literal["serial", "tcp", "both"]
    bauds: tuple[int, ...]
    """Serial: the baud rates this protocol's devices usually run at, swept when the user gives none."""
    parities: tuple[str, ...]
    """Serial: the usual parities, likewise."""

    def steps(self, options: ScanOptions) -> int:
        """How many progress steps `run` reports (for the progress bar)."""
        ...

    def silent_seconds(self, options: ScanOptions, params: SerialParams | TcpParams) -> float:
        """How long `run` takes when nothing answers (the worst case, for the time estimate)."""
        ...

    async def run(
        self, link: LinkOwner, params: SerialParams | TcpParams, options: ScanOptions, progress: Progress
    ) -> list[Found]: ...


def load_probes(modules: Sequence[str] = PROBE_MODULES) -> list[Probe]:
    probes: list[Probe] = []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name is not None and name.startswith(err.name):
                continue  # that protocol's scanner is not there (yet)
            raise
        probes.extend(getattr(module, "PROBES", []))
    return probes


def _timing(options: ScanOptions) -> DeviceTiming:
    return DeviceTiming(timeout=options.timeout, retries=0, backoff_min=0.001, backoff_max=0.001)


@dataclass(frozen=True, slots=True)
class LineStep:
    """One line setting of a serial sweep and the probes tried at it."""

    params: SerialParams
    probes: tuple[Probe, ...]


def line_plan(
    port: str,
    probes: Sequence[Probe],
    *,
    bauds: Sequence[int] | None = None,
    parities: Sequence[str] | None = None,
) -> list[LineStep]:
    """The line settings to try and which probes run at each.

    Each protocol sweeps its own usual settings unless the user narrows them: DL/T 645 meters run at 2400 8E1
    (1200 8E1 for 1997-edition meters, devices.md §1.1), Modbus analyzers mostly at 9600 or 19200, N or E. A
    setting two protocols share (2400 E, 9600 E) is visited once with both probes. A given list replaces the
    probes' own for every probe, so `--baud 9600 --parity N` tries exactly 9600 8N1.
    """
    settings: dict[tuple[int, str], list[Probe]] = {}
    for probe in probes:
        if probe.transport not in ("serial", "both"):
            continue
        for baud in bauds if bauds else probe.bauds:
            for parity in parities if parities else probe.parities:
                settings.setdefault((baud, parity), []).append(probe)
    return [
        LineStep(SerialParams(port=port, baudrate=baud, parity=parity, stopbits=1), tuple(chosen))
        for (baud, parity), chosen in settings.items()
    ]


def serial_steps(plan: Sequence[LineStep], options: ScanOptions) -> int:
    return sum(p.steps(options) for step in plan for p in step.probes)


def estimate_seconds(plan: Sequence[LineStep], options: ScanOptions) -> float:
    """The sweep's duration when nothing answers (each answer makes it shorter, not longer)."""
    return sum(p.silent_seconds(options, step.params) for step in plan for p in step.probes)


async def scan_serial(
    port: str,
    *,
    bauds: Sequence[int] | None = None,
    parities: Sequence[str] | None = None,
    options: ScanOptions = ScanOptions(),
    probes: Sequence[Probe] | None = None,
    progress: Progress = lambda n: None,
    clock: Clock | None = None,
    stop_at_first_line: bool = False,
    plan: Sequence[LineStep] | None = None,
) -> list[Found]:
    """Every line setting of `line_plan` in turn; with `stop_at_first_line`, stop after the first that found any."""
    if plan is None:
        plan = line_plan(port, probes if probes is not None else load_probes(), bauds=bauds, parities=parities)
    found: list[Found] = []
    failures: list[LinkDown] = []
    for line in plan:
        params = line.params
        steps = sum(p.steps(options) for p in line.probes)
        link = LinkOwner(params, clock=clock, default_timing=_timing(options), quiet=True)
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            progress(n)

        try:
            for probe in line.probes:
                found += await probe.run(link, params, options, step)
        except LinkDown as err:  # e.g. a line setting the port refuses: try the others
            failures.append(err)
            progress(max(0, steps - done))
        finally:
            await link.close()
        if stop_at_first_line and found:
            return found
    if failures and len(failures) == len(plan):
        raise failures[0]
    return found


async def scan_tcp(
    host: str,
    port: int = 502,
    *,
    options: ScanOptions = ScanOptions(),
    probes: Sequence[Probe] | None = None,
    progress: Progress = lambda n: None,
    clock: Clock | None = None,
) -> list[Found]:
    params = TcpParams(host=host, port=port)
    chosen = [p for p in (probes if probes is not None else load_probes()) if p.transport in ("tcp", "both")]
    link = LinkOwner(params, clock=clock, default_timing=_timing(options), quiet=True)
    found: list[Found] = []
    try:
        for probe in chosen:
            found += await probe.run(link, params, options, progress)
    finally:
        await link.close()
    return found
