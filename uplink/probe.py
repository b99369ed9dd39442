"""`das uplink test`: one 2011 to one platform, its answer and round trip, and what is wrong when it fails.

A field technician commissioning a DAS needs one sentence, not a traceback: refused (nothing listens there),
DNS (host name wrong), timeout (network or firewall), wrong password (the platform answered 9011 QnRtn=3),
a CRC complaint (QnRtn=9: encoding, or the SM4 key or cipher form disagrees), the platform closing the
connection, or no answer within OverTime.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from drivers.clock import Clock
from uplink.connect import ConnectError, open_tcp
from uplink.hj212 import CN, REPLY_CNS, Cp, CrcError, Frame, Hj212Error, StreamDecoder, encode, make_flag, new_qn
from uplink.services import AgentClock
from uplink.session import qn_rtn_text
from uplink.settings import PlatformSettings


@dataclass(frozen=True, slots=True)
class ProbeResult:
    ok: bool
    kind: str  # ok, sent (no answer expected), refused, dns, timeout, unreachable, rejected, crc, closed, no-answer
    message: str
    sent: bytes | None = None
    answer: bytes | None = None
    rtt_s: float | None = None


async def probe(settings: PlatformSettings, outlet: str, cp: Cp, *, clock: AgentClock, timer: Clock) -> ProbeResult:
    """Connect, send one 2011 (answer bit as configured) and wait one OverTime for the answer with its QN."""
    try:
        reader, writer = await open_tcp(settings.host, settings.port, timer, settings.connect_timeout_s)
    except ConnectError as err:
        return ProbeResult(False, err.kind, str(err))
    try:
        dialect = settings.dialect
        frame = Frame(
            qn=new_qn(clock.now()),
            st=settings.st,
            cn=CN.RTD_DATA.value,
            pw=settings.pw,
            mn=settings.mns[outlet],
            flag=make_flag(settings.version, answer=settings.want_answer),
            cp=cp,
        )
        data = encode(frame, dialect)
        start = timer.now()
        writer.write(data)
        await writer.drain()
        decoder = StreamDecoder(dialect, strict=False)
        wait = settings.over_time if settings.want_answer else min(settings.no_answer_grace_s, settings.over_time)
        try:
            async with timer.timeout(wait):
                while True:
                    chunk = await reader.read(65536)
                    if not chunk:
                        return ProbeResult(
                            False,
                            "closed",
                            "平台关闭了连接 (MN、PW 或协议版本不被接受?) / the platform closed the connection "
                            "(MN, PW or protocol version not accepted?)",
                            data,
                        )
                    for item in decoder.feed(chunk):
                        if isinstance(item, CrcError):
                            return ProbeResult(
                                False,
                                "crc",
                                f"平台应答的 CRC 错误 / the platform's answer has a bad CRC: {item}",
                                data,
                                getattr(item, "raw", None),
                            )
                        if isinstance(item, Hj212Error):
                            continue
                        answer = item.frame
                        if answer.cn not in REPLY_CNS or answer.qn != frame.qn:
                            continue
                        rtt = timer.now() - start
                        if answer.cn == CN.REQUEST_ANSWER:
                            rtn_text = answer.cp.get("QnRtn") or "100"
                            rtn = int(rtn_text) if rtn_text.isdigit() else 100
                            if rtn != 1:
                                kind = "crc" if rtn == 9 else "rejected"
                                hint = (
                                    " — 检查编码/SM4 密钥/密文形式 / check encoding, SM4 key, cipher_wire"
                                    if rtn == 9
                                    else ""
                                )
                                return ProbeResult(
                                    False, kind, f"平台拒绝 / refused: {qn_rtn_text(rtn)}{hint}", data, item.raw, rtt
                                )
                        return ProbeResult(True, "ok", f"平台应答 / answered CN={answer.cn}", data, item.raw, rtt)
        except TimeoutError:
            if not settings.want_answer:
                return ProbeResult(
                    True,
                    "sent",
                    f"已发送, 平台配置为不应答, 连接 {wait:g} s 内正常 / sent; platform answers nothing by "
                    f"configuration and the connection stayed open for {wait:g} s",
                    data,
                )
            return ProbeResult(
                False,
                "no-answer",
                f"OverTime {wait:g} s 内无应答 / no answer within OverTime {wait:g} s "
                "(PW/MN wrong on a silent platform, or wrong protocol version?)",
                data,
            )
    except (ConnectionError, OSError) as err:
        return ProbeResult(False, "closed", f"连接中断 / connection lost: {err}")
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
