"""Overrides a platform set by command are applied over the file's settings after a restart (issue 5)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from buffer import Store
from uplink.overrides import effective_settings, persist_setting
from uplink.settings import PlatformSettings

MN = "010000A8900016F000169DC0"


def base() -> PlatformSettings:
    return PlatformSettings(name="national", host="127.0.0.1", port=9000, mns={"o1": MN, "o2": "MN2"})


def test_persisted_overrides_come_back_in_a_new_store(tmp_path: Path) -> None:
    path = tmp_path / "das.sqlite"
    with Store(path) as store:
        s = persist_setting(base(), store, "o1", "pw", "a1B2c3")
        s = persist_setting(s, store, "o1", "rtd_interval", 60)
        s = persist_setting(s, store, "o1", "min_interval", 5)
        s = persist_setting(s, store, "o1", "over_time", 5)
        s = persist_setting(s, store, "o1", "re_count", 2)
        s = persist_setting(s, store, "o1", "upload.rtd", False)
        s = persist_setting(s, store, "o1", "mn", "NEWMN0000000000000000001")
        assert (s.pw, s.rtd_interval, s.upload.rtd, s.mns["o1"]) == ("a1B2c3", 60, False, "NEWMN0000000000000000001")
    with Store(path) as store:
        o1 = effective_settings(base(), store, "o1")
        o2 = effective_settings(base(), store, "o2")
    assert (o1.pw, o1.rtd_interval, o1.min_interval, o1.over_time, o1.re_count) == ("a1B2c3", 60, 5, 5.0, 2)
    assert o1.upload.rtd is False and o1.upload.minute is True
    assert o1.mns == {"o1": "NEWMN0000000000000000001", "o2": "MN2"}
    assert o2 == base()  # another outlet's session on the same platform keeps the file's settings


def test_an_override_that_does_not_fit_is_refused_before_it_is_stored(tmp_path: Path) -> None:
    with Store(tmp_path / "das.sqlite") as store:
        with pytest.raises(ValueError, match="min_interval"):
            persist_setting(base(), store, "o1", "min_interval", 7)
        with pytest.raises(ValueError, match="unknown setting key"):
            persist_setting(base(), store, "o1", "colour", "red")
        assert store.get_settings("national/o1") == {}


def test_a_stored_override_that_no_longer_fits_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with Store(tmp_path / "das.sqlite") as store:
        store.set_setting("national/o1", "rtd_interval", "5")  # below 30 s: written by hand, or an old bug
        store.set_setting("national/o1", "from_a_newer_agent", "x")
        store.set_setting("national/o1", "pw", "654321")
        with caplog.at_level(logging.WARNING, logger="uplink.overrides"):
            s = effective_settings(base(), store, "o1")
    assert (s.rtd_interval, s.pw) == (30, "654321")
    assert "rtd_interval" in caplog.text and "from_a_newer_agent" in caplog.text


def test_save_override_is_what_the_session_calls_and_effective_settings_reads_it_back(tmp_path: Path) -> None:
    from uplink.overrides import save_override

    with Store(tmp_path / "das.sqlite") as store:
        save_override(store, "national/o1", "upload.state", True)
        save_override(store, "national/o1", "over_time", 5)
        s = effective_settings(base(), store, "o1")
    assert s.upload.state is True and s.over_time == 5.0
