"""Statistics engine: real-time, minute, hour and day records by HJ 75/76 and HJ 353-356 as practised.

Pure functions over readings (`minute_record`, `hour_record`, `day_record`) and an incremental `StatsEngine` that
uses them; parameters per outlet in `OutletParams`. Rules, sources and settings: docs/statistics.md.
"""

from agent.stats.aggregate import BatchCarry, day_record, hour_record
from agent.stats.config_file import ParamsFileError, load_params
from agent.stats.engine import StatsEngine, StatsOutput
from agent.stats.equipment import runtime_day_record, state_record
from agent.stats.minute import minute_record, rtd_record
from agent.stats.outputs import decimals
from agent.stats.params import (
    AlarmSettings,
    EquipmentParams,
    FactorParams,
    FlagRule,
    NoxParams,
    OutletKind,
    OutletParams,
    Role,
    Validity,
)
from agent.stats.recompute import ReadingsFileError, compute_windows, read_readings_csv, recompute
from agent.stats.text import alarm_json, cp_text, record_json

__all__ = [
    "AlarmSettings",
    "BatchCarry",
    "EquipmentParams",
    "FactorParams",
    "FlagRule",
    "NoxParams",
    "OutletKind",
    "OutletParams",
    "ParamsFileError",
    "ReadingsFileError",
    "Role",
    "StatsEngine",
    "StatsOutput",
    "Validity",
    "alarm_json",
    "compute_windows",
    "cp_text",
    "day_record",
    "decimals",
    "hour_record",
    "load_params",
    "minute_record",
    "read_readings_csv",
    "recompute",
    "record_json",
    "rtd_record",
    "runtime_day_record",
    "state_record",
]
