"""A short scripted exchange with the reference platform, for `das demo` until the full agent demo exists.

A DAS client built on the codec sends a real-time (2011), a minute (2051) and an hour (2061) record asking for
answers; the platform answers 9014 and sends a set-time command (1012), which the client answers 9011 then 9012
(hj212.md §8). Every frame is printed both ways, then the platform's report and where its SQLite file is.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from uplink.hj212 import Cp, Decoded, Dialect, Hj212Error, reply_9011, reply_9012

from .client import DasClient
from .commands import cn_name
from .config import MnConfig, PlatformConfig
from .report import render_text, report_from_store
from .server import Platform

MN = "010000A8900016F000169DC0"
FACTOR_NAMES = {
    "a21026": "二氧化硫 SO2",
    "a21002": "氮氧化物 NOx",
    "a19001": "氧气 O2",
    "a34013": "烟尘 dust",
    "a01012": "烟气温度 flue gas temperature",
}
GAS = (
    ("a21026", 35.21, 35.02, 35.6),
    ("a21002", 48.7, 47.9, 49.8),
    ("a34013", 4.8, 4.5, 5.1),
    ("a19001", 9.4, 9.1, 9.8),
)


def _show(out: Callable[[str], None]) -> Callable[[str, bytes, Decoded | Hj212Error | None], None]:
    def listener(direction: str, raw: bytes, item: Decoded | Hj212Error | None) -> None:
        arrow = "数采仪 → 平台 DAS → platform" if direction == "out" else "平台 → 数采仪 platform → DAS"
        if isinstance(item, Decoded):
            frame = item.frame
            out(f"{arrow}  CN={frame.cn} {cn_name(frame.cn)}  QN={frame.qn}  Flag={frame.flag}")
            for group in frame.cp.groups:
                code, dash, _ = group[0][0].partition("-")
                if dash:
                    items = "  ".join(f"{k.partition('-')[2]}={v}" for k, v in group)
                    out(f"      {code} {FACTOR_NAMES.get(code, '')}: {items}")
                else:
                    out("      " + "  ".join(f"{k}={v}" for k, v in group))
        else:
            out(f"{arrow}  无法解码 / cannot decode: {item}")
        out(f"      {raw.decode('utf-8', 'replace').rstrip()}")

    return listener


async def run_demo(out: Callable[[str], None] = print, workdir: Path | None = None) -> int:
    """Run the exchange; returns 0 when every answer came as expected."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="das-demo-"))
    db = workdir / "platform.sqlite"
    config = PlatformConfig(mns=(MnConfig(mn=MN, pw="123456", factors=("a21026", "a21002", "a34013")),))
    dialect = Dialect(version=2017)
    now = datetime.now().replace(microsecond=0)
    ok = True
    async with Platform(config, db) as platform:
        out(f"参考平台 / reference platform: 127.0.0.1:{platform.port}  (HJ 212-2017, MN {MN})")
        out("")
        das = await DasClient.connect("127.0.0.1", platform.port, dialect, listener=_show(out))
        try:
            rtd = Cp.build({"DataTime": now}, [(c, {"Rtd": v, "Flag": "N"}) for c, v, _, _ in GAS])
            minute = Cp.build(
                {"DataTime": now.replace(second=0) - timedelta(minutes=now.minute % 10 + 10)},
                [(c, {"Min": lo, "Avg": v, "Max": hi, "Flag": "N"}) for c, v, lo, hi in GAS],
            )
            hour = Cp.build(
                {"DataTime": now.replace(minute=0, second=0) - timedelta(hours=1)},
                [(c, {"Min": lo, "Avg": v, "Max": hi, "Flag": "N"}) for c, v, lo, hi in GAS],
            )
            for step, (cn, cp) in enumerate((("2011", rtd), ("2051", minute), ("2061", hour)), start=1):
                frame = das.frame(cn, cp, mn=MN, st="31", t=now + timedelta(milliseconds=step))
                await das.send(frame)
                answer = await das.receive_frame()
                ok &= answer.cn == "9014" and answer.qn == frame.qn
                out("")

            command_id = await platform.send_command(MN, "set-time")
            request = await das.receive_frame()
            await das.send(reply_9011(request, 1, dialect))
            await das.send(reply_9012(request, 1, dialect))
            row = await platform.wait_command(command_id, timeout=10)
            ok &= row.status == "done"
            out("")
            out(f"命令结果 / command outcome: 1012 {row.status} (QnRtn={row.qn_rtn}, ExeRtn={row.exe_rtn})")
        finally:
            await das.close()
        await platform.wait_frames(count=5)  # 3 uploads + 9011 + 9012

    from .store import PlatformStore

    with PlatformStore(db) as store:
        report = render_text(report_from_store(store))
    out("")
    out("平台报告 / platform report (das platform report --db FILE); 演示只发了 1 条小时数据 / one hour record sent:")
    out(report)
    out("")
    out(f"记录文件 / SQLite record: {db}")
    out(f"  查看报文 / see the frames: das platform frames --db {db}")
    out("演示完成 / demo finished" if ok else "演示出错 / demo finished with unexpected answers")
    return 0 if ok else 1
