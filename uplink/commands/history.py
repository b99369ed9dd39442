"""History fetches answered from the store: 2031 day, 2041 run time, 2051 minute, 2061 hour (HJ 212-2017 §8,
C.47-C.50); 2025 also 2011 with BeginTime/EndTime (ST=44/45 real-time records, hj212-2025.md §6) and 2062
(standard-check results, rebuilt from device-info history).

Flow: 9011, then each record as its own packet (with the answer bit when the platform wants answers, each
waiting for its 9014 before the next; else no ack), then 9012 ExeRtn 1, or 100 (没有数据) when the range
holds no record. In 2025 each record carries PNUM=n;PNO=i (record i of n, hj212-2025.md §8). BeginTime and
EndTime are both inclusive (C.47: BeginTime = EndTime fetches one record).
"""

from __future__ import annotations

from datetime import timedelta

from agent.model import Record, RecordKind
from uplink.cp_build import power_stream, record_st, record_to_cp, standard_check_cp
from uplink.hj212 import CN, CpError, ExeRtn
from uplink.standard_check import stored_results

from ._flow import Exchange, log
from ._params import time_range

KIND_BY_CN: dict[str, RecordKind] = {
    CN.DAY_DATA: RecordKind.DAY,
    CN.RUNTIME_DAY_DATA: RecordKind.RUNTIME_DAY,
    CN.MINUTE_DATA: RecordKind.MINUTE,
    CN.HOUR_DATA: RecordKind.HOUR,
    CN.RTD_DATA: RecordKind.RTD,
}
_INCLUSIVE = timedelta(microseconds=1)


def _wanted(record: Record, st: str, station_st: str) -> bool:
    """For a 2011 fetch, the request's ST picks electricity (44), production conditions (45) or the rest."""
    return record_st(record, station_st) == st


async def fetch(x: Exchange) -> int:
    """Send the records of the request's kind and range, one per packet; the ExeRtn for the 9012."""
    begin, end = time_range(x.req.cp)
    ctx = x.ctx
    kind = KIND_BY_CN[x.req.cn]
    records = ctx.store.records(ctx.outlet, kind, begin, end + _INCLUSIVE)
    if kind is RecordKind.RTD:
        if x.req.st == "44":  # the outlet's ST=44 records are stored under its power stream (cp_build)
            records += ctx.store.records(power_stream(ctx.outlet), kind, begin, end + _INCLUSIVE)
            records.sort(key=lambda r: r.data_time)
        records = [r for r in records if _wanted(r, x.req.st, ctx.settings.st)]
    if not records:
        log.info("历史数据为空 / %s: CN=%s %s..%s has no records", ctx.target, x.req.cn, begin, end)
        return ExeRtn.NO_DATA
    numbered = ctx.settings.version == 2025
    total = len(records)
    sent = 0
    for i, record in enumerate(records, start=1):
        try:
            cp = record_to_cp(record, ctx.decimals)
        except CpError as err:  # a stored value HJ 212 cannot carry: reported, never patched
            log.error("记录无法编码 / %s: %s record %s skipped: %s", ctx.target, kind, record.data_time, err)
            continue
        st = record_st(record, ctx.settings.st) if kind is RecordKind.RTD else None
        ok = await x.data(x.req.cn, cp, st=st, pnum=total if numbered else None, pno=i if numbered else None)
        if not ok:
            log.warning(
                "历史数据发送中断 / %s: CN=%s stopped after %d of %d records", ctx.target, x.req.cn, sent, total
            )
            return ExeRtn.TIMEOUT
        sent += 1
    log.info("历史数据已发送 / %s: CN=%s %d of %d records %s..%s", ctx.target, x.req.cn, sent, total, begin, end)
    return ExeRtn.SUCCESS if sent == total else ExeRtn.FAILED


async def standard_checks(x: Exchange) -> int:
    """2025 2062 fetch: the outlet's completed standard checks with DataTime in the range, rebuilt from device-info
    history by the builder the daemon's 2062 upload uses (uplink.standard_check), one 2062 per result and factor."""
    begin, end = time_range(x.req.cp)
    ctx = x.ctx
    specs = getattr(ctx.devices, "standard_checks", None)
    found = [
        (result, pol_id)
        for device, spec, pol_ids in (specs(ctx.outlet) if specs is not None else [])
        for result in stored_results(ctx.store, device, spec, begin, end)
        for pol_id in pol_ids
    ]
    found.sort(key=lambda item: (item[0].time, item[1]))
    if not found:
        log.info("标样核查历史为空 / %s: 2062 %s..%s has no results", ctx.target, begin, end)
        return ExeRtn.NO_DATA
    total = len(found)
    for i, (result, pol_id) in enumerate(found, start=1):
        cp = standard_check_cp(result.time, pol_id, result.measured, result.standard, result.passed)
        if not await x.data(x.req.cn, cp, pnum=total, pno=i):  # 2062 is 2025 only: always numbered
            log.warning("历史数据发送中断 / %s: CN=2062 stopped after %d of %d results", ctx.target, i - 1, total)
            return ExeRtn.TIMEOUT
    log.info("历史数据已发送 / %s: CN=2062 %d results %s..%s", ctx.target, total, begin, end)
    return ExeRtn.SUCCESS
