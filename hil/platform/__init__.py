"""The reference HJ 212 platform (`das platform`): a TCP server that plays a regulator's platform for tests and demos.

It answers uploads (9014) and notifications (9013), records every frame in SQLite, sends commands to connected
DAS and records their answers, switches fault modes at runtime, and reports what it saw (docs/platform.md).
"""

from .client import DasClient
from .clock import Clock, SystemClock
from .commands import BUILDERS as COMMANDS
from .commands import CommandError, build_command, cn_name
from .config import DialectConfig, MnConfig, PlatformConfig, PlatformConfigError, load_config
from .faults import FAULT_NAMES, FaultError, Faults, check_fault
from .rates import STANDARD_CHECK_FACTORS, HourGroup, RateRow, Tally, rate_rows
from .report import MnReport, build_report, render_text, report_from_store
from .scenario import Scenario, StepResult, load_scenario, run_scenario
from .server import Platform, PlatformError
from .show import describe
from .store import CommandRow, FrameRow, PlatformStore

__all__ = [
    "COMMANDS",
    "FAULT_NAMES",
    "STANDARD_CHECK_FACTORS",
    "Clock",
    "CommandError",
    "CommandRow",
    "DasClient",
    "DialectConfig",
    "FaultError",
    "Faults",
    "FrameRow",
    "HourGroup",
    "MnConfig",
    "MnReport",
    "Platform",
    "PlatformConfig",
    "PlatformConfigError",
    "PlatformError",
    "PlatformStore",
    "RateRow",
    "Scenario",
    "StepResult",
    "SystemClock",
    "Tally",
    "build_command",
    "build_report",
    "check_fault",
    "cn_name",
    "describe",
    "load_config",
    "load_scenario",
    "rate_rows",
    "render_text",
    "report_from_store",
    "run_scenario",
]
