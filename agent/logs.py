"""Structured logs: one line per event, `key=value` fields, no floods (style.md §5.5: log transitions).

    2026-01-05 08:00:03 ERROR daemon device_failed device=cems1 error="timeout after 1.0 s"

Under systemd (`JOURNAL_STREAM` set) each line starts with the syslog priority `<3>` instead of a time stamp:
journald reads the level from it and stamps the line itself. A field value with spaces or quotes is quoted.

`Flood` keeps a week-long outage at a few lines: the first failure of a key is logged at ERROR, repeats are
only counted and summarised at most once per `summary_s` (WARNING), and the recovery is one INFO line with the
count. Counters, not log lines, carry the rest (the status snapshot).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

__all__ = ["PACKAGES", "Flood", "StructuredFormatter", "event", "get_logger", "setup_logging"]

_SYSLOG_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}
_ROOT = "das"


def _quote(value: object) -> str:
    text = str(value)
    if text == "" or any(c in text for c in ' "=\n\t'):
        text = '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


class StructuredFormatter(logging.Formatter):
    """`time LEVEL component event k=v …` (or `<prio>component event k=v …` for journald)."""

    def __init__(self, journald: bool = False) -> None:
        super().__init__()
        self.journald = journald

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = getattr(record, "fields", {})
        name = record.name.removeprefix(_ROOT + ".") if record.name != _ROOT else "agent"
        parts = [name, getattr(record, "event", None) or record.getMessage()]
        if getattr(record, "event", None) and record.getMessage() != record.event:  # type: ignore[attr-defined]
            fields = {"msg": record.getMessage(), **fields}
        parts += [f"{k}={_quote(v)}" for k, v in fields.items() if v is not None]
        if record.exc_info:
            parts.append("exc=" + _quote(self.formatException(record.exc_info).splitlines()[-1]))
        line = " ".join(parts).replace("\n", "\\n")  # one line per event, whatever a message carries
        if self.journald:
            return f"<{_SYSLOG_PRIORITY.get(record.levelno, 6)}>{line}"
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.created))
        return f"{stamp} {record.levelname} {line}"


# Our top-level packages: each module logs to `logging.getLogger(__name__)` (uplink.session, drivers.link.owner,
# agent.daemon.clock …) or to `das.<component>` (get_logger); all of them follow `--log-level`.
PACKAGES = ("das", "agent", "drivers", "buffer", "uplink", "hil", "video")
# Third-party libraries (paho, asyncio, pymodbus) speak only from WARNING up: their INFO/DEBUG is noise here.
THIRD_PARTY_LEVEL = logging.WARNING


class _OurHandler(logging.StreamHandler[IO[str]]):
    """Marks the handler setup_logging installed, so a second call replaces it and leaves others' alone."""


def setup_logging(level: int | str = logging.INFO, stream: IO[str] | None = None) -> logging.Logger:
    """One structured handler on the root logger (stderr by default; journald keeps it under systemd).

    Every logger of ours (`PACKAGES`) is set to `level`; any other logger inherits the root's WARNING, so a
    third-party library's chatter stays out while its warnings still come in the same one-line format.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _OurHandler):
            root.removeHandler(handler)
    handler = _OurHandler(stream or sys.stderr)
    handler.setFormatter(StructuredFormatter(journald=bool(os.environ.get("JOURNAL_STREAM"))))
    root.addHandler(handler)
    root.setLevel(THIRD_PARTY_LEVEL)
    for name in PACKAGES:
        package = logging.getLogger(name)
        package.setLevel(level)
        package.propagate = True
        for old in list(package.handlers):
            if isinstance(old, _OurHandler):
                package.removeHandler(old)
    return logging.getLogger(_ROOT)


def get_logger(component: str) -> logging.Logger:
    return logging.getLogger(f"{_ROOT}.{component}")


def event(logger: logging.Logger, level: int, name: str, msg: str | None = None, **fields: object) -> None:
    """Log one event with fields; `msg` is an optional human sentence (Chinese / English)."""
    if logger.isEnabledFor(level):
        logger.log(level, msg or name, extra={"event": name, "fields": fields})


@dataclass(slots=True)
class _State:
    since: float
    count: int = 1
    last_summary: float = 0.0
    summarised: int = 0


class Flood:
    """Per-key failure/recovery logging with repeats summarised (first at ERROR, recovery at INFO)."""

    def __init__(
        self, logger: logging.Logger, *, summary_s: float = 600.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.logger = logger
        self.summary_s = summary_s
        self._monotonic = monotonic
        self._failing: dict[str, _State] = {}

    def failing(self, key: str) -> bool:
        return key in self._failing

    def fail(
        self, key: str, name: str, msg: str | None = None, *, level: int = logging.ERROR, **fields: object
    ) -> bool:
        """Record a failure; returns True when it was logged (the first one, or a periodic summary)."""
        now = self._monotonic()
        state = self._failing.get(key)
        if state is None:
            self._failing[key] = _State(since=now, last_summary=now)
            event(self.logger, level, name, msg, **fields)
            return True
        state.count += 1
        if now - state.last_summary >= self.summary_s:
            repeats = state.count - 1 - state.summarised
            state.summarised = state.count - 1
            state.last_summary = now
            event(
                self.logger,
                logging.WARNING,
                name,
                msg,
                repeated=repeats,
                failing_for_s=round(now - state.since),
                **fields,
            )
            return True
        return False

    def ok(self, key: str, name: str, msg: str | None = None, **fields: object) -> bool:
        """Record a success; logs one INFO line if the key was failing."""
        state = self._failing.pop(key, None)
        if state is None:
            return False
        event(
            self.logger,
            logging.INFO,
            name,
            msg,
            failures=state.count,
            failed_for_s=round(self._monotonic() - state.since),
            **fields,
        )
        return True
