"""Scenario files: a TOML list of timed steps the platform plays against a connected DAS.

```toml
mn = "010000A8900016F000169DC0"      # default MN for the steps
[[step]]
connect = true                       # wait until that MN has sent a frame
timeout = 30
[[step]]
command = "set-time"                 # any name of commands.py, arguments in `args`
expect = "done"                      # final status wanted (done, failed, refused, timeout …)
[[step]]
fault = "withhold"
value = "on"
[[step]]
wait = 2.5                           # seconds
[[step]]
drop = true                          # close the MN's connections now
```
Every step is logged in the `scenario` table with its outcome; a failed expectation does not stop the run.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .commands import BUILDERS
from .config import PlatformConfigError
from .faults import FAULT_NAMES
from .server import Platform

_ACTIONS = ("wait", "connect", "command", "fault", "drop")


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    wait: float | None = Field(None, ge=0, le=86400, description="等待秒数 / seconds to wait")
    connect: bool | None = None
    command: str | None = None
    fault: str | None = None
    drop: bool | None = None
    mn: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    value: str | float | bool | None = None
    expect: str | None = Field(None, description="期望的命令结果 / expected command status")
    timeout: float = Field(30.0, gt=0, le=86400)

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        given = [a for a in _ACTIONS if getattr(self, a) is not None]
        if len(given) != 1:
            raise ValueError(f"each step needs exactly one of {', '.join(_ACTIONS)}, got {given or 'none'}")
        if self.command is not None and self.command not in BUILDERS:
            raise ValueError(f"unknown command {self.command!r}; known: {', '.join(BUILDERS)}")
        if self.fault is not None:
            if self.fault not in FAULT_NAMES:
                raise ValueError(f"unknown fault {self.fault!r}; known: {', '.join(FAULT_NAMES)}")
            if self.value is None:
                raise ValueError(f"fault {self.fault!r} needs a value (on/off, or seconds for delay)")
        return self

    @property
    def action(self) -> str:
        return next(a for a in _ACTIONS if getattr(self, a) is not None)


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    mn: str | None = None
    steps: tuple[Step, ...] = Field((), alias="step")


def load_scenario(path: Path) -> Scenario:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return Scenario.model_validate(data)
    except OSError as err:
        raise PlatformConfigError(f"{path}: cannot read ({err.strerror})") from err
    except tomllib.TOMLDecodeError as err:
        raise PlatformConfigError(f"{path}: not valid TOML ({err})") from err
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors())
        raise PlatformConfigError(f"{path}: {problems}") from err


@dataclass(frozen=True, slots=True)
class StepResult:
    index: int
    what: str
    ok: bool
    detail: str


async def run_scenario(platform: Platform, scenario: Scenario) -> list[StepResult]:
    """Play the steps in order; returns one result per step (also logged in the store)."""
    results = []
    for index, step in enumerate(scenario.steps, start=1):
        mn = step.mn or scenario.mn
        ok, detail = await _run_step(platform, step, mn)
        what = f"{step.action} {step.command or step.fault or ''}".strip()
        platform.store.log_step(at=platform.clock.wall(), step=index, what=what, ok=ok, detail=detail)
        results.append(StepResult(index, what, ok, detail))
    return results


async def _run_step(platform: Platform, step: Step, mn: str | None) -> tuple[bool, str]:
    if step.wait is not None:
        await platform.clock.sleep(step.wait)
        return True, f"waited {step.wait:g} s"
    if step.fault is not None:
        value = step.value if step.value is not None else "on"
        await platform.set_fault(step.fault, value)
        return True, f"{step.fault} = {value}"
    if step.drop is not None:
        return True, f"dropped {platform.drop(mn)} connection(s)"
    if mn is None:
        return False, "no MN: set `mn` at the top of the scenario or in the step"
    if step.connect is not None:
        try:
            await platform.wait_connected(mn, step.timeout)
        except TimeoutError as err:
            return False, str(err)
        return True, f"{mn} connected"
    assert step.command is not None
    command_id = await platform.send_command(mn, step.command, step.args, source="scenario")
    try:
        row = await platform.wait_command(command_id, step.timeout)
    except TimeoutError as err:
        return step.expect is None, str(err)
    detail = f"command {command_id}: {row.status} (QnRtn={row.qn_rtn}, ExeRtn={row.exe_rtn})"
    return step.expect is None or row.status == step.expect, detail
