"""The analyzer operations a platform asks for (3011, 3012, 3021, 2025 3022 and 3024), carried out on the devices
of the running site, and the standard-check results that become 2062 uploads.

The site plan routes each outlet factor (PolId) to the device that measures it; the device's profile says what
may be done to it: `[[commands]]` (the register or coil write that starts an operation) and `writable` `[[info]]`
items with the range a value must lie in. Anything the profile does not list is refused (None → ExeRtn 3), so a
platform can never write a register nobody declared. A write goes through the device's link owner, queued behind
the poll in progress (one owner per link, DEVELOPERS.md). Each command is logged with its outcome.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping

from agent.logs import event, get_logger
from drivers.errors import DriverError
from drivers.reader import ProfiledDevice
from uplink.standard_check import CheckResult, check_result  # the 2062 builder, shared with the 2062 history answer

__all__ = ["CheckResult", "SiteDeviceControl", "check_result"]

log = get_logger("devicecontrol")

# 3011 CalibrationType (HJ 212-2025: 0 zero, 1 span); a 2017 3011 names none: the analyzer's own calibration.
_CALIBRATION = {0: "zero_calibration", 1: "span_calibration", None: "calibration"}


class SiteDeviceControl:
    """`uplink.services.DeviceControl` writes over the site's devices. `routes(outlet)` gives (device, factor
    code) pairs of the outlet's feeds; `devices` the running `ProfiledDevice`s by name."""

    def __init__(
        self, devices: Callable[[], Mapping[str, ProfiledDevice]], routes: Callable[[str], list[tuple[str, str]]]
    ) -> None:
        self._devices = devices
        self._routes = routes

    def _measuring(self, outlet: str, pol_id: str | None) -> list[ProfiledDevice]:
        """The devices that measure `pol_id` on this outlet (all of the outlet's devices for no PolId)."""
        devices = self._devices()
        names = dict.fromkeys(d for d, code in self._routes(outlet) if pol_id in (None, "", code))
        return [devices[n] for n in names if n in devices]

    def _done(
        self, what: str, outlet: str, pol_id: str | None, device: str | None, result: bool | None, **why: object
    ) -> bool | None:
        level = logging.INFO if result else logging.WARNING
        verdict = {True: "done", False: "failed", None: "refused"}[result]
        text = {True: "仪器命令完成", False: "仪器命令失败", None: "仪器命令被拒绝"}[result]
        event(log, level, "device_command", f"{text} / device command {verdict}", command=what, outlet=outlet,
              pol_id=pol_id, device=device, **why)  # fmt: skip
        return result

    async def set_param(self, outlet: str, pol_id: str | None, info_id: str, value: str) -> bool | None:
        """3021: write the parameter if a device measuring `pol_id` declares it writable and the value fits."""
        what = f"3021 {info_id}={value}"
        candidates = [
            (d, item)
            for d in self._measuring(outlet, pol_id)
            if d.writable and (item := d.profile.info_item(info_id)) is not None and item.writable
        ]
        if len(candidates) != 1:
            why = "no device declares it writable" if not candidates else "several devices could take it"
            return self._done(what, outlet, pol_id, None, None, reason=why)
        device, item = candidates[0]
        try:
            number = float(value)
        except ValueError:
            return self._done(what, outlet, pol_id, device.name, None, reason="not a number")
        assert item.range is not None  # the schema requires it for a writable item
        low, high = item.range
        if not (math.isfinite(number) and low <= number <= high):
            return self._done(what, outlet, pol_id, device.name, None, reason=f"outside [{low:g}, {high:g}]")
        try:
            await device.write_info(item, number)
        except ValueError as err:  # the register cannot hold it exactly (a scale step, a type limit)
            return self._done(what, outlet, pol_id, device.name, None, reason=str(err))
        except DriverError as err:
            return self._done(what, outlet, pol_id, device.name, False, error=str(err))
        return self._done(what, outlet, pol_id, device.name, True)

    async def _command(self, what: str, kind: str, outlet: str, pol_id: str) -> bool | None:
        found = [
            (d, c) for d in self._measuring(outlet, pol_id) if d.writable and (c := d.profile.command(kind)) is not None
        ]
        if not found:
            return self._done(what, outlet, pol_id, None, None, reason=f"no profile has a {kind} command")
        result: bool | None = True
        for device, command in found:  # two analyzers measuring one factor (a spare): each is asked
            try:
                await device.send_command(command)
            except DriverError as err:
                result = self._done(what, outlet, pol_id, device.name, False, error=str(err))
                continue
            self._done(what, outlet, pol_id, device.name, True)
        return result

    async def calibrate(self, outlet: str, pol_id: str, kind: int | None) -> bool | None:
        """3011 (2025 CalibrationType 0 zero, 1 span; 2017 none: the analyzer's own calibration)."""
        if kind not in _CALIBRATION:
            return self._done(f"3011 type {kind}", outlet, pol_id, None, None, reason="unknown CalibrationType")
        return await self._command(f"3011 type {kind}", _CALIBRATION[kind], outlet, pol_id)

    async def sample_now(self, outlet: str, pol_id: str) -> bool | None:
        """3012 immediate measurement."""
        return await self._command("3012", "measure_now", outlet, pol_id)

    async def sample_retain(self, outlet: str, pol_id: str) -> bool | None:
        """2025 3022 immediate sample retention."""
        return await self._command("3022", "sample_retain", outlet, pol_id)

    async def standard_check(self, outlet: str, pol_id: str) -> bool | None:
        """2025 3024; the result comes later as a 2062 (`check_result`)."""
        return await self._command("3024", "standard_check", outlet, pol_id)
