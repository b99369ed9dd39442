"""HJ 212-2025 identity and key: 1001 hardware serial (DAS→platform), 1002 MN assignment, 1014 SM4 key
(hj212-2025.md §2, §4).

- 1002 (platform→DAS): the header MN is the new MN, the CP's `i23005-Info` names the DAS it is meant for. A
  1002 for another DAS id is refused with QnRtn 4 (MN 错误: it is not addressed to us); with no identity
  configured it is refused with QnRtn 2. Adopted MNs are persisted; the 9011/9012 echo the request's (new) MN.
- 1014 (platform→DAS): `SKCreateTime=…,NewSK=<16 characters>` → the key is persisted for this target and used
  from the next frame on (the 9012 is never encrypted).
- `send_hardware_sn` / `request_new_key`: the DAS's own 1001 and 1014 notifications (answered 9013).
"""

from __future__ import annotations

from datetime import datetime

from uplink.context import SessionContext
from uplink.hj212 import CN, Cp, ExeRtn, QnRtn
from uplink.settings import SettingKey

from ._flow import DasIdentity, Exchange, log
from ._params import new_secret_key
from ._settings import update


def check_assignment(x: Exchange) -> int | None:
    """QnRtn to refuse a 1002 with, or None when its i23005 is this DAS's id."""
    if x.identity is None:
        log.warning("未配置数采仪编号 / %s: 1002 refused, no DAS id (i23005) configured", x.ctx.target)
        return QnRtn.REJECTED
    if x.req.cp.get("i23005-Info") != x.identity.das_id:
        log.warning(
            "MN 分配对象不符 / %s: 1002 for DAS %r, we are %r",
            x.ctx.target,
            x.req.cp.get("i23005-Info"),
            x.identity.das_id,
        )
        return QnRtn.MN_ERROR
    return None


async def assign_mn(x: Exchange) -> int:
    old = x.ctx.mn
    await update(x, SettingKey.MN, x.req.mn)
    log.warning("MN 已更换 / %s: MN %s → %s by 1002", x.ctx.target, old, x.req.mn)
    return ExeRtn.SUCCESS


async def set_secret_key(x: Exchange) -> int:
    """1014 set: the key, then its creation time (SKCreateTime, or now when it is missing, malformed or in the
    future), so the session asks for the next one `key_rotation_days - key_request_lead_days` after it."""
    key = new_secret_key(x.req.cp)
    now = x.ctx.now()
    created = _stamp_time(x.req.cp.get("SKCreateTime"))
    if created is None or created > now:
        created = now
    await update(x, SettingKey.SM4_KEY, key)
    await update(x, SettingKey.SM4_KEY_CREATED, created.isoformat(sep=" "))
    return ExeRtn.SUCCESS


def _stamp_time(text: str | None) -> datetime | None:
    """A 17-digit HJ 212 time (YYYYMMDDhhmmsszzz) or 14 digits without milliseconds; None otherwise."""
    if text is None or not text.isdigit() or len(text) not in (14, 17):
        return None
    try:
        t = datetime.strptime(text[:14], "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return t.replace(microsecond=int(text[14:] or 0) * 1000)


def _stamp(t: datetime) -> str:
    return f"{t:%Y%m%d%H%M%S}{t.microsecond // 1000:03d}"


def hardware_sn_cp(identity: DasIdentity) -> Cp:
    """1001 CP (C2): i23005 DAS id, i23006 CPU id, i23007/i23008 MACs (12 hex digits each)."""
    plain: dict[str, object] = {"i23005-Info": identity.das_id}
    if identity.cpu_id:
        plain["i23006-Info"] = identity.cpu_id
    for n, mac in enumerate(identity.macs[:2]):
        plain[f"i2300{7 + n}-Info"] = mac
    return Cp.build(plain)


async def send_hardware_sn(ctx: SessionContext, identity: DasIdentity) -> bool:
    """Send 1001 (2025) so the platform can assign an MN (it answers 9013, later a 1002); True once answered, or
    once written to a platform configured without answers (`want_answer`: no answer bit, nothing to wait for).

    The session sends it on connect (`PlatformSession.wants_identity`, setting `send_identity`)."""
    answer = ctx.settings.want_answer
    frame = ctx.data_frame(CN.HARDWARE_SN, hardware_sn_cp(identity), answer=answer)
    log.info("上报硬件序列号 / %s: 1001 i23005=%s sent (QN=%s)", ctx.target, identity.das_id, frame.qn)
    return await ctx.send(frame, await_answer=answer)


async def request_new_key(ctx: SessionContext) -> bool:
    """Send 1014 `SKCreateTime` (2025 §6.4.3: ask for the next key ahead of its 90-day expiry); True on 9013
    (or once written to a platform without answers). The platform then sends a 1014 set (`set_secret_key`).

    What SKCreateTime should mean is uncertain (hj212-2025.md §2): `key_request_time` = "request" (default)
    sends the request time, "key" the current key's creation time (17 digits either way).
    """
    settings = ctx.settings
    when = ctx.now()
    if settings.key_request_time == "key" and settings.sm4_key_created is not None:
        when = settings.sm4_key_created
    answer = settings.want_answer
    frame = ctx.data_frame(CN.SECRET_KEY, Cp.build({"SKCreateTime": _stamp(when)}), answer=answer)
    log.info("请求新密钥 / %s: 1014 SKCreateTime=%s sent (QN=%s)", ctx.target, _stamp(when), frame.qn)
    return await ctx.send(frame, await_answer=answer)
