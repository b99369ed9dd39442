"""Time: 1011 get, 1012 set, 1013 the DAS asks for a time set (HJ 212-2017 Table 9, §8).

A platform's 1012 moves the agent clock (`AgentClock.set`) only within the platform's `clock_set_bounds`:
a platform whose own clock is broken must not move the DAS into another year (windows and DataTimes would
follow). Every change is logged old → new; a refused one is logged too and ends with ExeRtn 3.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from uplink.context import SessionContext
from uplink.hj212 import CN, Cp, ExeRtn

from ._flow import Exchange, log
from ._params import RequestError, pol_id, time_value

_FMT = "%Y%m%d%H%M%S"


@runtime_checkable
class ReportingClock(Protocol):
    """An agent clock that tells the agent who set it (the daemon's `AgentClock`: its listeners raise
    clock_drift when the step exceeds the outlet's threshold, agent/daemon/clockdrift.py)."""

    def set_by(self, t: datetime, *, source: str, outlet: str | None = None) -> None: ...


def _no_instrument_clock(x: Exchange) -> None:
    pol = pol_id(x.req.cp, required=False)
    if pol is not None:
        # PolId asks for the analyzer's own clock; no device service reads or sets it (services.py).
        raise RequestError(f"不能访问仪器时钟 / this DAS cannot reach the clock of instrument {pol}")


async def get_time(x: Exchange) -> int:
    """1011: answer `SystemTime` (agent clock) as a 1011 data packet (C.2)."""
    _no_instrument_clock(x)
    now = x.ctx.clock.now() if x.ctx.clock is not None else x.ctx.now()
    ok = await x.data(CN.GET_TIME, Cp.build({"SystemTime": now}))
    return ExeRtn.SUCCESS if ok else ExeRtn.TIMEOUT


async def set_time(x: Exchange) -> int:
    """1012: set the agent clock to `SystemTime` if within `clock_set_bounds` (earliest, latest, max step)."""
    _no_instrument_clock(x)
    new = time_value(x.req.cp, "SystemTime")
    clock = x.ctx.clock
    if clock is None:
        raise RequestError("时钟不可设 / no settable agent clock in this setup", exe_rtn=ExeRtn.FAILED)
    bounds = x.ctx.settings.clock_set_bounds
    old = clock.now()
    step = (new - old).total_seconds()
    why = None
    if not bounds.earliest <= new <= bounds.latest:
        why = f"outside {bounds.earliest:%Y-%m-%d %H:%M:%S} .. {bounds.latest:%Y-%m-%d %H:%M:%S}"
    elif bounds.max_step_s is not None and abs(step) > bounds.max_step_s:
        why = f"a step of {step:+.0f} s exceeds the limit of {bounds.max_step_s:g} s"
    if why is not None:
        log.warning(
            "拒绝校时 / %s: 1012 SystemTime=%s refused (clock %s): %s",
            x.ctx.target,
            f"{new:{_FMT}}",
            f"{old:{_FMT}}",
            why,
        )
        raise RequestError(f"校时超出范围 / SystemTime {new:{_FMT}} {why}")
    if isinstance(clock, ReportingClock):
        clock.set_by(new, source=f"{x.ctx.target} CN 1012", outlet=x.ctx.outlet)
    else:
        clock.set(new)
    log.warning(
        "时钟已校正 / %s: agent clock set by 1012 %s → %s (%+.1f s)",
        x.ctx.target,
        f"{old:{_FMT}}",
        f"{new:{_FMT}}",
        step,
    )
    return ExeRtn.SUCCESS


async def request_time_calibration(ctx: SessionContext) -> bool:
    """Send 1013 (notify) to ask the platform for a 1012; True once the platform answered 9013 (or, for a
    platform configured without answers, once written).

    The session calls this on each connection and whenever the clock may have drifted beyond
    `clock_drift_limit_s` since the last request (`PlatformSession._time_sync`; hj212.md §8: "after 1013 the
    platform sends 1012"); the 1012 then arrives as an ordinary request.
    """
    answer = ctx.settings.want_answer
    frame = ctx.data_frame(CN.TIME_CALIBRATION_REQUEST, Cp(), answer=answer)
    log.info("请求校时 / %s: 1013 sent (QN=%s)", ctx.target, frame.qn)
    try:
        return await ctx.send(frame, await_answer=answer)
    except OSError as err:
        log.warning("校时请求未发出 / %s: 1013 not sent: %s", ctx.target, err)
        return False
