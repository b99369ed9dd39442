"""What one read of one item gives back, for every non-Modbus driver (DL/T 645, serial text).

A failed read is a value, not an exception: `value` is None and `error` says why, so one bad meter or one
unparsable field never stops the rest of a poll, and the flag logic can branch on the error type.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.errors import DriverError


@dataclass(frozen=True, slots=True)
class ReadResult:
    """`raw` holds the reply bytes as received (b"" when nothing arrived), kept for audits and bug reports."""

    name: str
    value: float | None
    unit: str
    raw: bytes = b""
    error: DriverError | None = None

    def __post_init__(self) -> None:
        if (self.value is None) == (self.error is None):
            raise ValueError(f"read result {self.name!r}: exactly one of value and error must be set")

    @property
    def ok(self) -> bool:
        return self.error is None
