"""Settings a platform changed by command, laid over the configuration file's settings at start-up (issue 5).

A platform may change the PW (1072), the intervals (1062/1064), OverTime/ReCount (1000), the MN (2025 1002),
the SM4 key (2025 1014) and switch real-time/state uploads (2011/2012/2021/2022). Each change is stored per
upload target in the store's `settings` table (buffer/settings.py) before the platform is told it succeeded,
and `effective_settings` applies them again when the agent restarts, so a new PW keeps working after a reboot.

A stored value that no longer fits (the file changed, or a newer agent wrote a key this one does not know) is
skipped with a warning: a bad override must not stop the session; the file's value is used instead.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from uplink.settings import PlatformSettings, SettingKey, apply_setting

log = logging.getLogger(__name__)


class SettingsStore(Protocol):
    """The part of `buffer.Store` this module needs."""

    def get_settings(self, target: str) -> dict[str, Any]: ...

    def set_setting(self, target: str, key: str, value: str) -> None: ...


def as_text(value: object) -> str:
    """Override values travel as text, as in the CP (`uplink.settings.apply_setting`)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def effective_settings(base: PlatformSettings, store: SettingsStore, outlet: str) -> PlatformSettings:
    """`base` with every override stored for `<platform>/<outlet>` applied, in `SettingKey` order."""
    stored = store.get_settings(base.target(outlet))
    settings = base
    known = [k.value for k in SettingKey]
    for key in sorted(stored, key=lambda k: known.index(k) if k in known else len(known)):
        try:
            settings = apply_setting(settings, outlet, key, as_text(stored[key]))
        except ValueError as err:
            log.warning("忽略保存的设置 / stored override ignored for %s: %s", base.target(outlet), err)
    return settings


def save_override(store: SettingsStore, target: str, key: str, value: object) -> None:
    """Store one override the session already checked (`apply_setting`); durable when this returns."""
    store.set_setting(target, key, as_text(value))


def persist_setting(
    settings: PlatformSettings, store: SettingsStore, outlet: str, key: str, value: object
) -> PlatformSettings:
    """Check one override against `settings`, store it, and return the settings with it applied.

    The check comes first, so nothing is stored that `effective_settings` would skip after a restart; the
    store call returns only once the change is durable (buffer/store.py), before the platform hears ExeRtn 1.
    """
    text = as_text(value)
    updated = apply_setting(settings, outlet, key, text)
    store.set_setting(settings.target(outlet), key, text)
    return updated
