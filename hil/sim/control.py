"""Switching a running `das simulate`'s faults from another process: a control directory of small files.

    DIR/devices.json                   written by the simulator at start: {device: [fault kinds it supports]}
    DIR/faults/<device>/<kind>         one file per fault switched on; its text is the argument ("" or a code)
    DIR/state.json                     written by the simulator after each change: what is applied now

Files rather than a socket or a database: `das simulate fault` creates or removes one file (atomically, with
a rename), so concurrent switches never lose each other's update, a shell user can do the same with `touch`/`rm`,
and nothing listens on a port. The simulator polls the directory a few times a second; `state.json` is the
acknowledgement the command waits for. Stopping the simulator removes `devices.json` and `state.json`; the
requests stay, so a restarted simulator comes back with the same faults (the control dir is the fault state).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path

__all__ = ["NAME", "ControlDir", "Faults"]

Faults = dict[str, dict[str, str]]
"""device → {fault kind → argument} ("" when the kind takes none)."""

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
"""Device names and fault kinds are file names: letters, digits, `_ . -`."""


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class ControlDir:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.requests = self.path / "faults"

    # -- the simulator's side ----------------------------------------------------------------------------------
    def publish(self, devices: Mapping[str, list[str]]) -> None:
        """Say which devices run and which fault kinds each supports (read by `das simulate fault`)."""
        self.requests.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.path / "devices.json", json.dumps({"pid": os.getpid(), "devices": dict(devices)}))

    def requested(self) -> Faults:
        """The faults switched on now, as the files say (an unreadable file counts as absent until it settles)."""
        out: Faults = {}
        try:
            device_dirs = list(self.requests.iterdir())
        except OSError:
            return out
        for device_dir in device_dirs:
            if not device_dir.is_dir() or not NAME.match(device_dir.name):
                continue
            for item in device_dir.iterdir():
                if not NAME.match(item.name):
                    continue  # editor backups, temporary files
                try:
                    out.setdefault(device_dir.name, {})[item.name] = item.read_text(encoding="utf-8").strip()
                except OSError:
                    continue
        return out

    def report(self, applied: Faults) -> None:
        _write_atomic(self.path / "state.json", json.dumps(applied, sort_keys=True))

    def close(self) -> None:
        for name in ("devices.json", "state.json"):
            (self.path / name).unlink(missing_ok=True)

    # -- the switching side -----------------------------------------------------------------------------------
    def devices(self) -> dict[str, list[str]] | None:
        """What the running simulator published, or None when none runs with this directory."""
        try:
            data = json.loads((self.path / "devices.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        devices = data.get("devices") if isinstance(data, dict) else None
        return devices if isinstance(devices, dict) else None

    def applied(self) -> Faults:
        try:
            data = json.loads((self.path / "state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def switch(self, device: str, kind: str, on: bool, argument: str = "") -> None:
        if not NAME.match(device) or not NAME.match(kind):
            raise ValueError(f"{device!r}/{kind!r}: names use letters, digits, _ . -")
        target = self.requests / device / kind
        if on:
            target.parent.mkdir(parents=True, exist_ok=True)
            _write_atomic(target, argument)
        else:
            target.unlink(missing_ok=True)
