"""Intervals: 1061/1063 get, 1062/1064 set RtdInterval and MinInterval (HJ 212-2017 Table 4, C.5-C.8).

A set is persisted (`ctx.update_setting`) before ExeRtn 1 goes out, so it survives a restart.
"""

from __future__ import annotations

from uplink.hj212 import CN, Cp, ExeRtn
from uplink.settings import SettingKey

from ._flow import Exchange
from ._params import min_interval, rtd_interval
from ._settings import update


async def get_rtd_interval(x: Exchange) -> int:
    ok = await x.data(CN.GET_RTD_INTERVAL, Cp.build({"RtdInterval": x.ctx.settings.rtd_interval}))
    return ExeRtn.SUCCESS if ok else ExeRtn.TIMEOUT


async def set_rtd_interval(x: Exchange) -> int:
    await update(x, SettingKey.RTD_INTERVAL, rtd_interval(x.req.cp))
    return ExeRtn.SUCCESS


async def get_min_interval(x: Exchange) -> int:
    ok = await x.data(CN.GET_MIN_INTERVAL, Cp.build({"MinInterval": x.ctx.settings.min_interval}))
    return ExeRtn.SUCCESS if ok else ExeRtn.TIMEOUT


async def set_min_interval(x: Exchange) -> int:
    await update(x, SettingKey.MIN_INTERVAL, min_interval(x.req.cp))
    return ExeRtn.SUCCESS
