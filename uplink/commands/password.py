"""1072: the platform sets a new access password (NewPW, 6 × 0-9a-zA-Z; HJ 212-2017 Table 4, C.11).

The new PW is persisted before ExeRtn 1, and every frame after it carries it; the 9011/9012 of the 1072
itself echo the request's (old) PW, as every reply echoes its request (the reference platform accepts both).
"""

from __future__ import annotations

from uplink.hj212 import ExeRtn
from uplink.settings import SettingKey

from ._flow import Exchange
from ._params import new_password
from ._settings import update


async def set_password(x: Exchange) -> int:
    await update(x, SettingKey.PW, new_password(x.req.cp))
    return ExeRtn.SUCCESS
