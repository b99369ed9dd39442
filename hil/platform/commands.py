"""Platform→DAS commands by name, shared by the CLI, scenario files and the Python API (hj212.md §3, §8).

Each builder returns the CN and the plaintext CP. Values are checked against HJ 212-2017 Table 4 ranges here,
so a typo fails on the command line instead of drawing a QnRtn from the DAS.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from uplink.hj212 import CN, Cp

MIN_INTERVALS = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)  # HJ 212-2017 Table 4, MinInterval
HISTORY_CNS = {"minute": CN.MINUTE_DATA, "hour": CN.HOUR_DATA, "day": CN.DAY_DATA, "runtime": CN.RUNTIME_DAY_DATA}
TIME_FORMAT = "%Y%m%d%H%M%S"

# Bilingual names of the CNs the platform deals with, for the CLI, the demo and the report.
CN_NAMES: dict[str, str] = {
    "1000": "设置超时重发 / set timeout and retries",
    "1001": "上传硬件序号 / DAS hardware serial",
    "1002": "设置 MN / assign MN",
    "1011": "提取/上传时间 / get or upload time",
    "1012": "设置时间 / set time",
    "1013": "校时请求 / time calibration request",
    "1014": "密钥 / SM4 key",
    "1061": "提取实时间隔 / get real-time interval",
    "1062": "设置实时间隔 / set real-time interval",
    "1063": "提取分钟间隔 / get minute interval",
    "1064": "设置分钟间隔 / set minute interval",
    "1072": "设置密码 / set password",
    "2011": "实时数据 / real-time data",
    "2012": "停止实时数据 / stop real-time data",
    "2013": "原始监测数据 / raw monitoring data",
    "2021": "设备运行状态 / equipment state",
    "2022": "停止设备状态 / stop equipment state",
    "2031": "日数据 / day data",
    "2041": "设备运行时间日数据 / equipment run-time day data",
    "2051": "分钟数据 / minute data",
    "2052": "噪声单次 / single noise measurement",
    "2061": "小时数据 / hour data",
    "2062": "标样核查数据 / standard check data",
    "2081": "数采仪开机时间 / DAS restart time",
    "2111": "炉膛温度 / furnace temperature",
    "3019": "仪器编号 / instrument serial",
    "3020": "现场机信息 / site-machine info",
    "9011": "请求应答 / request answer",
    "9012": "执行结果 / execution result",
    "9013": "通知应答 / notification answer",
    "9014": "数据应答 / data answer",
    "9015": "心跳 / heartbeat",
}


def cn_name(cn: str | None) -> str:
    return CN_NAMES.get(cn or "", "未知命令 / unknown command")


class CommandError(ValueError):
    """A command name or argument the platform cannot send."""


def parse_time(text: str) -> datetime:
    """YYYYMMDDhhmmss (as on the wire) or ISO 8601."""
    for parse in (lambda t: datetime.strptime(t, TIME_FORMAT), datetime.fromisoformat):
        try:
            return parse(text)
        except ValueError:
            continue
    raise CommandError(f"not a time: {text!r} (expected YYYYMMDDhhmmss or ISO 8601)")


def _int(args: Mapping[str, object], key: str, low: int, high: int) -> int:
    if key not in args:
        raise CommandError(f"missing argument {key!r}")
    try:
        value = int(str(args[key]))
    except ValueError:
        raise CommandError(f"{key} must be a whole number, got {args[key]!r}") from None
    if not low <= value <= high:
        raise CommandError(f"{key} must be within {low}..{high}, got {value}")
    return value


def _time_arg(args: Mapping[str, object], key: str) -> datetime:
    value = args.get(key)
    if value is None:
        raise CommandError(f"missing argument {key!r}")
    return value if isinstance(value, datetime) else parse_time(str(value))


def _set_time(args: Mapping[str, object], now: datetime) -> tuple[str, Cp]:
    when = _time_arg(args, "time") if args.get("time") is not None else now
    plain: dict[str, object] = {"PolId": args["polid"]} if args.get("polid") else {}
    plain["SystemTime"] = when
    return CN.SET_TIME, Cp.build(plain)


def _get_time(args: Mapping[str, object], now: datetime) -> tuple[str, Cp]:
    return CN.GET_TIME, Cp.build({"PolId": args["polid"]} if args.get("polid") else {})


def _rtd_interval(args: Mapping[str, object], now: datetime) -> tuple[str, Cp]:
    return CN.SET_RTD_INTERVAL, Cp.build({"RtdInterval": _int(args, "seconds", 30, 3600)})


def _min_interval(args: Mapping[str, object], now: datetime) -> tuple[str, Cp]:
    minutes = _int(args, "minutes", 1, 30)
    if minutes not in MIN_INTERVALS:
        raise CommandError(f"minutes must be one of {MIN_INTERVALS} (HJ 212-2017 Table 4), got {minutes}")
    return CN.SET_MIN_INTERVAL, Cp.build({"MinInterval": minutes})


def _history(args: Mapping[str, object], now: datetime) -> tuple[str, Cp]:
    kind = str(args.get("kind", ""))
    if kind not in HISTORY_CNS:
        raise CommandError(f"history kind must be one of {', '.join(HISTORY_CNS)}, got {kind!r}")
    begin, end = _time_arg(args, "begin"), _time_arg(args, "end")
    if end < begin:
        raise CommandError(f"end {end} is before begin {begin}")
    return HISTORY_CNS[kind], Cp.build({"BeginTime": begin, "EndTime": end})


def _password(args: Mapping[str, object], now: datetime) -> tuple[str, Cp]:
    new = str(args.get("password", ""))
    if not (len(new) == 6 and new.isascii() and new.isalnum()):
        raise CommandError(f"NewPW must be 6 characters 0-9a-zA-Z (HJ 212-2017 Table 4), got {new!r}")
    return CN.SET_PASSWORD, Cp.build({"NewPW": new})


def _overtime(args: Mapping[str, object], now: datetime) -> tuple[str, Cp]:
    return CN.SET_OVERTIME_RECOUNT, Cp.build(
        {"OverTime": _int(args, "overtime", 1, 99), "ReCount": _int(args, "recount", 1, 99)}
    )


def _raw(args: Mapping[str, object], now: datetime) -> tuple[str, Cp]:
    cn = str(args.get("cn", ""))
    if not (len(cn) == 4 and cn.isdigit()):
        raise CommandError(f"cn must be 4 digits, got {cn!r}")
    return cn, Cp.parse(str(args.get("cp", "")))


BUILDERS: dict[str, Callable[[Mapping[str, object], datetime], tuple[str, Cp]]] = {
    "set-time": _set_time,
    "get-time": _get_time,
    "set-rtd-interval": _rtd_interval,
    "set-min-interval": _min_interval,
    "history": _history,
    "set-password": _password,
    "set-overtime": _overtime,
    "start-rtd": lambda args, now: (CN.RTD_DATA, Cp.build({})),
    "stop-rtd": lambda args, now: (CN.STOP_RTD, Cp.build({})),
    "raw": _raw,
}


def build_command(kind: str, args: Mapping[str, object], *, now: datetime) -> tuple[str, Cp]:
    """CN and CP of a named command; `now` is the platform's wall time (used by set-time without a time)."""
    builder = BUILDERS.get(kind)
    if builder is None:
        raise CommandError(f"unknown command {kind!r}; known: {', '.join(BUILDERS)}")
    cn, cp = builder(args, now)
    return str(cn), cp
