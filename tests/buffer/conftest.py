"""Fixtures for the store tests: a store in a temporary directory on a settable clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from store_samples import FakeWallClock

from buffer import Store


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
