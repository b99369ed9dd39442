"""`setup_logging` routes every logger of ours through the structured handler at the chosen level, and keeps
third-party libraries at WARNING (agent/logs.py)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from agent.logs import PACKAGES, event, get_logger, setup_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers), {n: logging.getLogger(n).level for n in PACKAGES})
    yield
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


def test_package_loggers_share_the_structured_handler(restore_logging: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNAL_STREAM", "1:1")
    stream = io.StringIO()
    setup_logging("DEBUG", stream)
    event(get_logger("site"), logging.WARNING, "x")
    logging.getLogger("uplink.session").warning("平台断开 / platform down")
    logging.getLogger("uplink.session").info("平台恢复 / platform back\nsecond line")
    logging.getLogger("drivers.link.owner").debug("链路 / link")
    logging.getLogger("paho.mqtt.client").info("chatter")
    logging.getLogger("asyncio").warning("slow callback")
    assert stream.getvalue().splitlines() == [
        "<4>site x",
        "<4>uplink.session 平台断开 / platform down",
        "<6>uplink.session 平台恢复 / platform back\\nsecond line",
        "<7>drivers.link.owner 链路 / link",
        "<4>asyncio slow callback",
    ]


def test_log_level_applies_to_our_loggers(restore_logging: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    stream = io.StringIO()
    setup_logging("WARNING", stream)
    setup_logging("WARNING", stream)  # a second call replaces its handler: still one line per event
    logging.getLogger("uplink.commands").info("平台命令 / command")
    logging.getLogger("agent.watchdog").error("健康检查失败 / health check failed")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and " ERROR agent.watchdog 健康检查失败" in lines[0]
