"""Settings of the HJ 212-2025 identity flow (hj212-2025.md §4): an empty MN waits for the platform's 1002 and
exists only in 2025; `send_identity` decides when a session sends 1001."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from buffer import Store
from uplink.clock import SimClock
from uplink.commands import DasIdentity
from uplink.session import PlatformSession
from uplink.settings import PlatformSettings, apply_setting

ME = DasIdentity("6970000000001ABCDEFG1234")


def settings(**kw: object) -> PlatformSettings:
    return PlatformSettings.model_validate({"name": "p", "host": "127.0.0.1", "port": 9, "mns": {"o1": ""}, **kw})


def test_an_empty_mn_is_only_for_2025() -> None:
    assert settings(version=2025).mns == {"o1": ""}
    with pytest.raises(ValidationError, match=r"empty MN .* needs version=2025"):
        settings()
    with pytest.raises(ValueError, match="cannot be set to empty"):
        apply_setting(settings(version=2025, mns={"o1": "A1"}), "o1", "mn", "")
    assert apply_setting(settings(version=2025), "o1", "mn", "A1").mns == {"o1": "A1"}


@pytest.mark.parametrize(
    ("version", "mn", "mode", "identity", "sends"),
    [
        (2025, "", "auto", ME, True),
        (2025, "A1", "auto", ME, False),
        (2025, "A1", "on_connect", ME, True),
        (2025, "", "never", ME, False),
        (2025, "", "auto", None, False),  # no [site] das_id: nothing to announce
        (2017, "A1", "on_connect", ME, False),  # 1001 is HJ 212-2025 only
    ],
)
def test_when_a_session_sends_1001(
    tmp_path: Path, version: int, mn: str, mode: str, identity: DasIdentity | None, sends: bool
) -> None:
    s = settings(version=version, mns={"o1": mn}, send_identity=mode)
    with Store(tmp_path / "das.sqlite") as store:
        session = PlatformSession(s, "o1", store, clock=SimClock(datetime(2026, 1, 5)))
        session.identity = identity
        assert session.wants_identity() is sends
