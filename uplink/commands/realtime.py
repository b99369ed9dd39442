"""2011/2012 real-time and 2021/2022 equipment-state uploads switched on and off (HJ 212-2017 Table 9, §8).

2011/2021 are requests (9011, 9012); 2012/2022 are notifications answered 9013. The switch is persisted, so
a platform that stopped real-time data does not get it again after a restart. A 2025 CN 2011 carrying
BeginTime/EndTime is a history fetch instead (ST=44 electricity, hj212-2025.md §6): see history.py.
"""

from __future__ import annotations

from uplink.hj212 import ExeRtn
from uplink.settings import SettingKey

from . import history
from ._flow import Exchange
from ._params import has_range
from ._settings import update


async def start_rtd(x: Exchange) -> int:
    if x.ctx.settings.version == 2025 and has_range(x.req.cp):
        return await history.fetch(x)
    await update(x, SettingKey.UPLOAD_RTD, True)
    return ExeRtn.SUCCESS


async def stop_rtd(x: Exchange) -> None:
    await update(x, SettingKey.UPLOAD_RTD, False)


async def start_state(x: Exchange) -> int:
    await update(x, SettingKey.UPLOAD_STATE, True)
    return ExeRtn.SUCCESS


async def stop_state(x: Exchange) -> None:
    await update(x, SettingKey.UPLOAD_STATE, False)
