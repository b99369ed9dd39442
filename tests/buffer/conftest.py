"""Fixtures for the store tests: a store in a temporary directory on a settable clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from buffer import Store


class FakeWallClock:
    """The agent's wall clock, moved by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> FakeWallClock:
    return FakeWallClock(datetime(2025, 3, 1, 12, 0, 0))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "das.sqlite"


@pytest.fixture
def store(db_path: Path, clock: FakeWallClock) -> Iterator[Store]:
    with Store(db_path, clock=clock) as s:
        yield s
