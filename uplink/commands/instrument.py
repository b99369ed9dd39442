"""Instrument commands passed to the analyzers through `DeviceControl` (HJ 212-2017 C.29-C.46; 2025 §5).

3019 SN and 3020 info are reads (data packets between 9011 and 9012); 3011 calibrate, 3012 sample now,
3021 set a parameter, 2025 3022 retain a sample and 3024 start a standard check are actions (9011, 9012).
What the device service returns decides the ExeRtn: True → 1, False (tried, failed) → 2, None (the
analyzer's profile does not allow it) → 3 命令请求条件错误, so a platform can never write a parameter the
profile does not list. With no device service at all, actions end ExeRtn 2 and reads fall back to the last
values the store holds (3019/3020 history) or end ExeRtn 100.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from uplink.cp_build import instrument_sn_cp, site_info_cp
from uplink.hj212 import CN, ExeRtn
from uplink.services import DeviceControl

from ._flow import Exchange, log
from ._params import RequestError, calibration_type, has_range, info_id, info_value, pol_id, time_range

_INCLUSIVE = timedelta(microseconds=1)


def _devices(x: Exchange) -> DeviceControl:
    """The device service an action goes through; without one the action ends ExeRtn 2 (nothing was tried)."""
    devices = x.ctx.devices
    if devices is None:
        raise RequestError("无设备服务 / no device service in this setup", exe_rtn=ExeRtn.FAILED)
    return devices


def _outcome(x: Exchange, what: str, result: bool | None) -> int:
    if result is None:
        raise RequestError(f"仪器不支持 / the analyzer's profile does not allow {what}")
    if not result:
        log.warning("仪器操作失败 / %s: %s failed (CN=%s)", x.ctx.target, what, x.req.cn)
        return ExeRtn.FAILED
    log.info("仪器操作完成 / %s: %s done (CN=%s)", x.ctx.target, what, x.req.cn)
    return ExeRtn.SUCCESS


async def serial_numbers(x: Exchange) -> int:
    """3019: one `DataTime;PolId;<pol>-SN` packet per instrument (C.39), optionally for one PolId."""
    ctx = x.ctx
    wanted = pol_id(x.req.cp, required=False)
    sns: Mapping[str, str] | None
    if ctx.devices is not None:
        sns = await ctx.devices.serial_numbers(ctx.outlet)
        if sns is None:
            raise RequestError("仪器不支持 / no instrument SN can be read on this outlet")
    else:
        sns = {e.factor: str(e.value) for e in ctx.store.latest_device_info() if e.code == "SN" and e.factor}
    chosen = {pol: sn for pol, sn in sns.items() if wanted is None or pol == wanted}
    if not chosen:
        return ExeRtn.NO_DATA
    now = ctx.now()
    for pol, sn in chosen.items():
        if not await x.data(CN.GET_INSTRUMENT_SN, instrument_sn_cp(now, pol, sn)):
            return ExeRtn.TIMEOUT
    return ExeRtn.SUCCESS


async def site_info(x: Exchange) -> int:
    """3020: current values (`DataTime;PolId;<InfoId>-Info=…`, C.41-C.44), or the stored history when the
    request carries BeginTime/EndTime (one packet per recorded value, at the time it was recorded)."""
    ctx = x.ctx
    cp = x.req.cp
    pol = pol_id(cp, required=False)
    code = info_id(cp, required=False)
    if has_range(cp):
        begin, end = time_range(cp)
        entries = ctx.store.device_info_history(begin, end + _INCLUSIVE, factor=pol, code=code)
        entries = [e for e in entries if e.code != "SN"]
        if not entries:
            return ExeRtn.NO_DATA
        for e in entries:
            if not await x.data(CN.SITE_INFO, site_info_cp(e.time, e.factor or None, {e.code: e.value})):
                return ExeRtn.TIMEOUT
        return ExeRtn.SUCCESS
    if ctx.devices is not None:
        values = await ctx.devices.info(ctx.outlet, pol, [code] if code else [])
        if values is None:
            raise RequestError(f"仪器不支持 / the profile offers no site-machine info {code or ''} for {pol or '-'}")
        when = ctx.now()
    else:
        entries = [e for e in ctx.store.latest_device_info(factor=pol) if e.code != "SN" and code in (None, e.code)]
        values = {e.code: e.value for e in entries}
        when = max((e.time for e in entries), default=ctx.now())
    values = {k: v for k, v in values.items() if k != "SN"}  # the serial number is 3019's, not a 3020 info
    if code is not None:
        values = {k: v for k, v in values.items() if k == code}
    if not values:
        return ExeRtn.NO_DATA
    ok = await x.data(CN.SITE_INFO, site_info_cp(when, pol, values))
    return ExeRtn.SUCCESS if ok else ExeRtn.TIMEOUT


async def set_parameter(x: Exchange) -> int:
    """3021: `PolId;InfoId;<InfoId>-Info=value` (C.45) written to the analyzer if its profile allows it."""
    cp = x.req.cp
    pol = pol_id(cp, required=False)
    code = info_id(cp)
    assert code is not None
    value = info_value(cp, code)
    devices = _devices(x)
    result = await devices.set_param(x.ctx.outlet, pol, code, value)
    return _outcome(x, f"set {pol or '-'} {code}={value}", result)


async def calibrate(x: Exchange) -> int:
    """3011: zero/span calibration of PolId (2025: CalibrationType 0 zero, 1 span)."""
    pol = pol_id(x.req.cp)
    assert pol is not None
    kind = calibration_type(x.req.cp)
    devices = _devices(x)
    return _outcome(x, f"calibration of {pol} (type {kind})", await devices.calibrate(x.ctx.outlet, pol, kind))


async def sample_now(x: Exchange) -> int:
    """3012 immediate sampling; 2025 3022 immediate sample retention (the same device operation)."""
    pol = pol_id(x.req.cp)
    assert pol is not None
    devices = _devices(x)
    retain = getattr(devices, "sample_retain", None) if x.req.cn == CN.SAMPLE_RETENTION_NOW else None
    if retain is not None:  # a service that tells retention from measurement (das run's profiles do)
        return _outcome(x, f"sample retention of {pol}", await retain(x.ctx.outlet, pol))
    return _outcome(x, f"sampling of {pol}", await devices.sample_now(x.ctx.outlet, pol))


async def standard_check(x: Exchange) -> int:
    """2025 3024: start an automatic standard check; the result comes later as a 2062 upload."""
    pol = pol_id(x.req.cp)
    assert pol is not None
    devices = _devices(x)
    return _outcome(x, f"standard check of {pol}", await devices.standard_check(x.ctx.outlet, pol))
