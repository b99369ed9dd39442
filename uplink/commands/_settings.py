"""Persisting what a command changes, through the session (`ctx.update_setting`: store, then apply)."""

from __future__ import annotations

from uplink.settings import SettingKey

from ._flow import Exchange, log
from ._params import RequestError


async def update(x: Exchange, key: SettingKey, value: object) -> None:
    """Persist one override; a value the settings refuse ends the command with ExeRtn 3 and changes nothing."""
    text = ("1" if value else "0") if isinstance(value, bool) else str(value)
    try:
        await x.ctx.update_setting(key.value, text)
    except ValueError as err:
        raise RequestError(f"设置被拒绝 / {key.value}={text!r} refused: {err}") from err
    shown = "******" if key in (SettingKey.PW, SettingKey.SM4_KEY) else text
    log.warning("平台修改设置 / %s: %s set to %s by CN=%s", x.ctx.target, key.value, shown, x.req.cn)
