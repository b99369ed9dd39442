"""Fault modes a real platform shows in the field, switchable while the server runs.

Persistent modes (stay until switched off): `refuse` (stop listening: connects get ECONNREFUSED),
`withhold` (no 9013/9014/9011 answers), `delay` (answers go out N seconds late), `bad-crc` (every frame the
platform sends carries a wrong CRC), `garbage` (every frame the platform sends is preceded by junk bytes).
One-shot actions: `drop` (close the connections now, of one MN or all) and `drop-next` (a mode that closes the
connection of the next upload instead of answering it, then switches itself off).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

FAULT_NAMES = ("refuse", "withhold", "delay", "bad-crc", "garbage", "drop-next")
ACTION_NAMES = ("drop",)

# Junk that looks like the start of frames: a DAS must resynchronise on the next real `##`.
GARBAGE = b"\x00\xff##12xx\r\n##0010QN=1;\xfe\xfe garbage \r\n"


class FaultError(ValueError):
    """A fault name or value the platform does not know."""


_ON = {"on", "true", "1", "yes", "开"}
_OFF = {"off", "false", "0", "no", "关"}


def _bool(name: str, text: str) -> bool:
    word = text.strip().lower()
    if word in _ON:
        return True
    if word in _OFF:
        return False
    raise FaultError(f"fault {name!r}: expected on/off, got {text!r}")


@dataclass(frozen=True, slots=True)
class Faults:
    """The fault modes in force. Immutable: a change makes a new value, so a reader never sees half of one."""

    refuse: bool = False
    withhold: bool = False
    delay: float = 0.0
    bad_crc: bool = False
    garbage: bool = False
    drop_next: bool = False

    def with_value(self, name: str, text: str) -> Faults:
        """Apply one `name value` pair as typed on the command line (`delay 2.5`, `withhold on`)."""
        if name not in FAULT_NAMES:
            raise FaultError(f"unknown fault {name!r}; known: {', '.join(FAULT_NAMES)}")
        attr = name.replace("-", "_")
        if attr == "delay":
            try:
                seconds = float(text)
            except ValueError:
                raise FaultError(f"fault 'delay': expected seconds, got {text!r}") from None
            if not 0 <= seconds <= 3600:
                raise FaultError(f"fault 'delay': seconds must be within 0..3600, got {seconds}")
            return replace(self, delay=seconds)
        return replace(self, **{attr: _bool(name, text)})

    def describe(self) -> str:
        active = [f"{f.name.replace('_', '-')}={getattr(self, f.name)}" for f in fields(self) if getattr(self, f.name)]
        return ", ".join(active) or "none"


def check_fault(name: str, text: str) -> None:
    """Validate a fault before it is written to the control table (so a typo fails in the CLI, not later)."""
    Faults().with_value(name, text)
