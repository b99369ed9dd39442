"""Commands from the platform (HJ 212-2017 §8, HJ 212-2025 §4-§5): a table CN → flow and handler.

The session passes every decoded frame that is not an answer (9011-9014) to `CommandHandler.handle`, which
checks it (QnRtn 3 PW, 4 MN, 5 ST, 6 Flag, 7 QN, 8 CN, 2 refused), then answers 9011, the data, 9012 (or
9013 for a notification). What a command changes is persisted through `ctx.update_setting` before the
platform hears it succeeded. docs/commands.md has the flow and the answers of every CN.
"""

from ._dispatch import STANDARD_REQUESTS, CommandHandler, log_undecodable
from ._flow import Command, DasIdentity, Exchange, Flow
from ._params import RequestError
from ._table import COMMANDS
from .identity import request_new_key, send_hardware_sn
from .systemtime import request_time_calibration

__all__ = [
    "COMMANDS",
    "STANDARD_REQUESTS",
    "Command",
    "CommandHandler",
    "DasIdentity",
    "Exchange",
    "Flow",
    "RequestError",
    "log_undecodable",
    "request_new_key",
    "request_time_calibration",
    "send_hardware_sn",
]
