"""Neutral driver errors, shared by every protocol and link (style.md §2.4).

pyserial and socket (OSError) failures are mapped to these in the transports (`drivers/link/transport.py`,
`raise ... from err`), bad frames and exception replies in each protocol's framing, so the poller, flags,
alarms and the status page branch on our types only, whatever port or protocol sits underneath.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AcknowledgeError",
    "DeviceBackingOff",
    "DeviceBusy",
    "DeviceException",
    "DeviceTimeout",
    "DriverError",
    "GatewayPathUnavailable",
    "GatewayTargetFailed",
    "IllegalDataAddress",
    "IllegalDataValue",
    "IllegalFunction",
    "InvalidValue",
    "LinkDown",
    "MemoryParityError",
    "ProtocolError",
    "SlaveDeviceFailure",
]


class DriverError(Exception):
    """Base of every error a driver raises to its caller."""


class LinkDown(DriverError):
    """The physical link is unusable: port gone (USB adapter unplugged), connect refused, connection lost."""


class DeviceTimeout(DriverError, TimeoutError):
    """The device did not answer in time (a builtin TimeoutError too, so generic code can catch it)."""


class ProtocolError(DriverError):
    """Bytes that are not a valid reply: garbage, bad CRC/checksum, wrong unit or echo, truncated frame."""


class InvalidValue(DriverError):
    """The device answered, but the value is a "no data" sentinel, NaN/inf, or cannot be decoded (bad BCD digit).

    Never turned into a number: the poller flags it instead of inventing a value.
    """


class DeviceBackingOff(DriverError):
    """Skipped without touching the bus: the device failed recently and is in backoff until `until` (clock s)."""

    def __init__(self, message: str, *, until: float) -> None:
        super().__init__(message)
        self.until = until


class DeviceException(DriverError):
    """The device answered with an error (Modbus exception response, DL/T 645 abnormal reply).

    `code` is the protocol's error code; `from_code` picks the Modbus subclass so callers can catch e.g.
    `IllegalDataAddress` (the block planner splits a block on it, devices.md §5.4).
    """

    code: int = 0
    _by_code: ClassVar[dict[int, type[DeviceException]]] = {}
    modbus_code: ClassVar[int | None] = None

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        elif self.modbus_code is not None:
            self.code = self.modbus_code

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.modbus_code is not None:
            DeviceException._by_code[cls.modbus_code] = cls

    @classmethod
    def from_code(cls, code: int, message: str | None = None) -> DeviceException:
        """Build the subclass for a Modbus exception code (unknown codes give a plain DeviceException)."""
        klass = DeviceException._by_code.get(code, DeviceException)
        name = klass.__name__ if klass is not DeviceException else "unknown exception"
        return klass(message or f"Modbus exception {code:#04x} ({name})", code=code)


# Modbus Application Protocol V1.1b3 §7: exception codes.
class IllegalFunction(DeviceException):
    modbus_code = 0x01


class IllegalDataAddress(DeviceException):
    modbus_code = 0x02


class IllegalDataValue(DeviceException):
    modbus_code = 0x03


class SlaveDeviceFailure(DeviceException):
    modbus_code = 0x04


class AcknowledgeError(DeviceException):
    modbus_code = 0x05


class DeviceBusy(DeviceException):
    modbus_code = 0x06


class MemoryParityError(DeviceException):
    modbus_code = 0x08


class GatewayPathUnavailable(DeviceException):
    modbus_code = 0x0A


class GatewayTargetFailed(DeviceException):
    modbus_code = 0x0B
