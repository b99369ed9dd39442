"""1000: the platform sets OverTime (s) and ReCount (HJ 212-2017 §6.2 Table 1, Table 4; C.1)."""

from __future__ import annotations

from uplink.hj212 import ExeRtn
from uplink.settings import SettingKey

from ._flow import Exchange
from ._params import overtime_recount
from ._settings import update


async def set_overtime_recount(x: Exchange) -> int:
    over_time, re_count = overtime_recount(x.req.cp)  # both checked before either is stored
    await update(x, SettingKey.OVER_TIME, over_time)
    await update(x, SettingKey.RE_COUNT, re_count)
    return ExeRtn.SUCCESS
