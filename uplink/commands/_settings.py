"""Persisting what a command changes, through the session (`ctx.update_setting`: store, then apply)."""

from __future__ import annotations

from uplink.settings import SettingKey

from ._flow import Exchange, log
from ._params import RequestError
from .redact import MASK


async def update(x: Exchange, key: SettingKey, value: object) -> None:
    """Persist one override; a value the settings refuse ends the command with ExeRtn 3 and changes nothing."""
    text = ("1" if value else "0") if isinstance(value, bool) else str(value)
    secret = key in (SettingKey.PW, SettingKey.SM4_KEY)
    shown = MASK if secret else text
    try:
        await x.ctx.update_setting(key.value, text)
    except ValueError as err:
        message = str(err).replace(text, MASK) if secret and text else str(err)  # it may quote the value
        raise RequestError(f"设置被拒绝 / {key.value}={shown!r} refused: {message}") from err
    log.warning("平台修改设置 / %s: %s set to %s by CN=%s", x.ctx.target, key.value, shown, x.req.cn)
