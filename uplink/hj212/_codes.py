"""Named HJ 212 codes: CN (2017 Table 9, 2025 additions), ST (Table 5), QnRtn and ExeRtn (Table 4).

CN and ST are StrEnums because they travel as text (`CN=2061`, `ST=A1` extensions exist); QnRtn and ExeRtn are
numbers in the CP of 9011/9012.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class CN(StrEnum):
    """Command codes. P = platform→DAS, D = DAS→platform (HJ 212-2017 Table 9; 2025 per hj212-2025.md §3-5)."""

    SET_OVERTIME_RECOUNT = "1000"  # P set OverTime/ReCount
    HARDWARE_SN = "1001"  # 2025: D upload DAS id, CPU id, MACs (i23005-i23008)
    SET_MN = "1002"  # 2025: P assign MN
    GET_TIME = "1011"  # P get time / D upload SystemTime
    SET_TIME = "1012"  # P set SystemTime
    TIME_CALIBRATION_REQUEST = "1013"  # D asks for a time set (notify)
    SECRET_KEY = "1014"  # 2025: SM4 key request (D) / NewSK (P)
    GET_RTD_INTERVAL = "1061"
    SET_RTD_INTERVAL = "1062"
    GET_MIN_INTERVAL = "1063"
    SET_MIN_INTERVAL = "1064"
    SET_PASSWORD = "1072"  # NewPW
    RTD_DATA = "2011"  # real-time data (also ST 44/45 in 2025)
    STOP_RTD = "2012"  # notify
    RAW_DATA = "2013"  # 2025: raw monitoring data
    EQUIPMENT_STATE = "2021"  # SBxxx-RS
    STOP_EQUIPMENT_STATE = "2022"  # notify
    DAY_DATA = "2031"
    RUNTIME_DAY_DATA = "2041"  # SBxxx-RT
    MINUTE_DATA = "2051"
    NOISE_SINGLE = "2052"  # 2025
    HOUR_DATA = "2061"
    STANDARD_CHECK_DATA = "2062"  # 2025: automatic standard check results
    RESTART_TIME = "2081"
    FURNACE_TEMP_5MIN = "2111"  # 2025
    CALIBRATE = "3011"
    SAMPLE_NOW = "3012"
    CLEAN_BLOWBACK = "3013"
    COMPARISON_SAMPLE = "3014"  # removed in 2025
    OVER_LIMIT_RETENTION = "3015"
    SET_SAMPLING_CYCLE = "3016"  # removed in 2025
    GET_SAMPLING_CYCLE = "3017"  # removed in 2025
    GET_SAMPLE_OUT_TIME = "3018"
    GET_INSTRUMENT_SN = "3019"
    SITE_INFO = "3020"
    SET_SITE_INFO = "3021"
    SAMPLE_RETENTION_NOW = "3022"  # 2025
    START_STANDARD_CHECK = "3024"  # 2025
    REQUEST_ANSWER = "9011"  # QnRtn
    EXECUTION_RESULT = "9012"  # ExeRtn
    NOTIFY_ANSWER = "9013"
    DATA_ANSWER = "9014"
    HEARTBEAT = "9015"  # 2025


CN_2025_ONLY = frozenset({CN.HARDWARE_SN, CN.SET_MN, CN.SECRET_KEY, CN.RAW_DATA, CN.NOISE_SINGLE})
CN_2025_ONLY |= frozenset({CN.STANDARD_CHECK_DATA, CN.FURNACE_TEMP_5MIN, CN.SAMPLE_RETENTION_NOW})
CN_2025_ONLY |= frozenset({CN.START_STANDARD_CHECK, CN.HEARTBEAT})
CN_REMOVED_2025 = frozenset({CN.COMPARISON_SAMPLE, CN.SET_SAMPLING_CYCLE, CN.GET_SAMPLING_CYCLE})
CN_2017 = frozenset(CN) - CN_2025_ONLY
CN_2025 = frozenset(CN) - CN_REMOVED_2025
REPLY_CNS = frozenset({CN.REQUEST_ANSWER, CN.EXECUTION_RESULT, CN.NOTIFY_ANSWER, CN.DATA_ANSWER})


class ST(StrEnum):
    """System codes (HJ 212-2017 Table 5; 44/45 from 2025). Extensions A0-Z9 are legal too."""

    SURFACE_WATER_QUALITY = "21"
    AIR_QUALITY = "22"
    NOISE_QUALITY = "23"
    GROUNDWATER_QUALITY = "24"
    SOIL_QUALITY = "25"
    SEAWATER_QUALITY = "26"
    VOCS = "27"
    FLUE_GAS = "31"  # 大气环境污染源 (CEMS)
    WASTEWATER = "32"  # 地表水体环境污染源
    GROUNDWATER_SOURCE = "33"
    MARINE_SOURCE = "34"
    SOIL_SOURCE = "35"
    NOISE_SOURCE = "36"
    VIBRATION_SOURCE = "37"
    RADIOACTIVE_SOURCE = "38"
    CONSTRUCTION_DUST = "39"
    ELECTROMAGNETIC_SOURCE = "41"
    ELECTRICITY = "44"  # 2025 用电监控
    PRODUCTION_CONDITION = "45"  # 2025 关键生产工况
    FLUE_GAS_PROCESS = "51"
    WASTEWATER_PROCESS = "52"
    SYSTEM = "91"  # 系统交互, used by 9011-9014 replies


class QnRtn(IntEnum):
    """9011 request answer codes (HJ 212-2017 Table 4 / hj212.md §8, unchanged in 2025)."""

    READY = 1  # 准备执行请求
    REJECTED = 2  # 请求被拒绝
    PW_ERROR = 3
    MN_ERROR = 4
    ST_ERROR = 5
    FLAG_ERROR = 6
    QN_ERROR = 7
    CN_ERROR = 8
    CRC_ERROR = 9
    UNKNOWN = 100  # 未知错误


class ExeRtn(IntEnum):
    """9012 execution result codes (HJ 212-2017 Table 4 / hj212.md §8)."""

    SUCCESS = 1
    FAILED = 2  # 执行失败，但不知道原因
    CONDITION_ERROR = 3  # 命令请求条件错误
    TIMEOUT = 4  # 通讯超时
    BUSY = 5  # 系统繁忙不能执行
    SYSTEM_FAULT = 6
    NO_DATA = 100  # 没有数据
