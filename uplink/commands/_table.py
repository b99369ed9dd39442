"""The command table: CN → flow and handler (hj212.md §8 for 2017, hj212-2025.md §4-§5 for 2025).

One row per CN and version set; docs/commands.md lists the same rows with what each answers and persists.
"""

from __future__ import annotations

from uplink.hj212 import CN

from . import history, identity, instrument, intervals, password, realtime, systemtime, timeouts
from ._flow import Command, Flow

_2025 = frozenset({2025})
R, N = Flow.REQUEST, Flow.NOTIFY

COMMANDS: tuple[Command, ...] = (
    Command(CN.SET_OVERTIME_RECOUNT, R, timeouts.set_overtime_recount, summary="OverTime/ReCount, persisted"),
    Command(CN.GET_TIME, R, systemtime.get_time, summary="1011 SystemTime packet"),
    Command(CN.SET_TIME, R, systemtime.set_time, summary="agent clock set within clock_set_bounds"),
    Command(CN.GET_RTD_INTERVAL, R, intervals.get_rtd_interval, summary="1061 RtdInterval packet"),
    Command(CN.SET_RTD_INTERVAL, R, intervals.set_rtd_interval, summary="RtdInterval, persisted"),
    Command(CN.GET_MIN_INTERVAL, R, intervals.get_min_interval, summary="1063 MinInterval packet"),
    Command(CN.SET_MIN_INTERVAL, R, intervals.set_min_interval, summary="MinInterval, persisted"),
    Command(CN.SET_PASSWORD, R, password.set_password, summary="NewPW, persisted"),
    Command(CN.RTD_DATA, R, realtime.start_rtd, summary="real-time upload on (2025 with a range: history)"),
    Command(CN.STOP_RTD, N, realtime.stop_rtd, summary="real-time upload off"),
    Command(CN.EQUIPMENT_STATE, R, realtime.start_state, summary="state upload on"),
    Command(CN.STOP_EQUIPMENT_STATE, N, realtime.stop_state, summary="state upload off"),
    Command(CN.DAY_DATA, R, history.fetch, summary="day records"),
    Command(CN.RUNTIME_DAY_DATA, R, history.fetch, summary="run-time day records"),
    Command(CN.MINUTE_DATA, R, history.fetch, summary="minute records"),
    Command(CN.HOUR_DATA, R, history.fetch, summary="hour records"),
    Command(CN.STANDARD_CHECK_DATA, R, history.standard_checks, _2025, summary="results from device-info history"),
    Command(CN.CALIBRATE, R, instrument.calibrate, summary="DeviceControl.calibrate"),
    Command(CN.SAMPLE_NOW, R, instrument.sample_now, summary="DeviceControl.sample_now"),
    Command(CN.GET_INSTRUMENT_SN, R, instrument.serial_numbers, summary="3019 packets"),
    Command(CN.SITE_INFO, R, instrument.site_info, summary="3020 packet(s)"),
    Command(CN.SET_SITE_INFO, R, instrument.set_parameter, summary="DeviceControl.set_param"),
    Command(CN.SAMPLE_RETENTION_NOW, R, instrument.sample_now, _2025, summary="DeviceControl.sample_now"),
    Command(CN.START_STANDARD_CHECK, R, instrument.standard_check, _2025, summary="DeviceControl.standard_check"),
    Command(CN.SET_MN, R, identity.assign_mn, _2025, identity.check_assignment, summary="MN, persisted"),
    Command(CN.SECRET_KEY, R, identity.set_secret_key, _2025, summary="SM4 key, persisted"),
)
