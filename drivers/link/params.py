"""Frozen, validated parameters for links and for devices on them (style.md §2.1).

A link's `endpoint` is the identity of the physical link: two devices on `/dev/ttyS1` share one owner, and
two different line settings for the same endpoint are a configuration error.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DeviceTiming", "SerialParams", "TcpParams", "char_time", "modbus_t35"]

_PARITIES = {"N": 0, "E": 1, "O": 1, "M": 1, "S": 1}
_BAUDRATES = (300, 600, 1200, 2400, 4800, 9600, 14400, 19200, 38400, 57600, 115200, 230400)


def char_time(baudrate: int, bytesize: int = 8, parity: str = "N", stopbits: float = 1) -> float:
    """Seconds one character occupies on the wire: start bit + data bits + parity bit + stop bits."""
    return (1 + bytesize + _PARITIES[parity] + stopbits) / baudrate


def modbus_t35(baudrate: int, bytesize: int = 8, parity: str = "N", stopbits: float = 1) -> float:
    """Modbus RTU inter-frame silence t3.5 (serial line guide V1.02 §2.5.1.1).

    The guide counts 11-bit characters and fixes t3.5 at 1.75 ms above 19200 baud (devices.md §5.5).
    """
    if baudrate > 19200:
        return 0.00175
    return 3.5 * max(char_time(baudrate, bytesize, parity, stopbits), 11 / baudrate)


@dataclass(frozen=True, kw_only=True, slots=True)
class SerialParams:
    """A serial port (RS-485/RS-232 adapter) and its line settings."""

    port: str
    """Device path, e.g. `/dev/ttyUSB0` or a pty symlink; it is reopened after a USB adapter comes back."""
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    """N, E, O (M, S accepted for odd hardware)."""
    stopbits: float = 1
    gap: float | None = None
    """Silence between frames on this link in seconds; None: Modbus t3.5 for the line settings."""
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0

    def __post_init__(self) -> None:
        if not self.port:
            raise ValueError("serial port path is empty / 串口路径为空")
        if self.baudrate <= 0:
            raise ValueError(f"baudrate {self.baudrate} must be positive (usual: {', '.join(map(str, _BAUDRATES))})")
        if self.bytesize not in (5, 6, 7, 8):
            raise ValueError(f"bytesize {self.bytesize} must be 5, 6, 7 or 8")
        if self.parity not in _PARITIES:
            raise ValueError(f"parity {self.parity!r} must be one of N, E, O, M, S")
        if self.stopbits not in (1, 1.5, 2):
            raise ValueError(f"stopbits {self.stopbits} must be 1, 1.5 or 2")
        _check_gap_and_reconnect(self.gap, self.reconnect_min, self.reconnect_max)

    @property
    def endpoint(self) -> str:
        return self.port

    @property
    def char_time(self) -> float:
        return char_time(self.baudrate, self.bytesize, self.parity, self.stopbits)

    @property
    def frame_gap(self) -> float:
        return (
            self.gap if self.gap is not None else modbus_t35(self.baudrate, self.bytesize, self.parity, self.stopbits)
        )

    @property
    def line(self) -> str:
        """Line settings in the usual short form, e.g. `9600 8N1`."""
        stop = int(self.stopbits) if self.stopbits != 1.5 else 1.5
        return f"{self.baudrate} {self.bytesize}{self.parity}{stop}"


@dataclass(frozen=True, kw_only=True, slots=True)
class TcpParams:
    """A TCP endpoint: a Modbus TCP device or gateway, or a serial server / 4G DTU carrying RTU frames."""

    host: str
    port: int = 502
    gap: float = 0.0
    """Silence between frames; serial servers and DTUs often need tens of ms (ThingsBoard #1664)."""
    connect_timeout: float = 3.0
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError("host is empty / 主机地址为空")
        object.__setattr__(self, "host", self.host.strip().lower())
        if not 0 < self.port < 65536:
            raise ValueError(f"TCP port {self.port} must be 1..65535")
        if self.connect_timeout <= 0:
            raise ValueError(f"connect_timeout {self.connect_timeout} must be positive")
        _check_gap_and_reconnect(self.gap, self.reconnect_min, self.reconnect_max)

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def frame_gap(self) -> float:
        return self.gap


def _check_gap_and_reconnect(gap: float | None, rmin: float, rmax: float) -> None:
    if gap is not None and not 0 <= gap <= 2.0:
        raise ValueError(f"gap {gap} s must be within 0..2 s")
    if not 0 < rmin <= rmax:
        raise ValueError(f"reconnect backoff {rmin}..{rmax} s must satisfy 0 < min <= max")


@dataclass(frozen=True, kw_only=True, slots=True)
class DeviceTiming:
    """Per-device timeout, retries, pacing and backoff on a shared link.

    A dead device costs at most one `timeout` per backoff period: while backing off, requests fail at once with
    `DeviceBackingOff` without touching the bus, and after the period one probe (no retries) decides.
    Retries give the bus back between attempts, so the other devices keep their schedule.
    """

    timeout: float = 1.0
    retries: int = 1
    gap: float = 0.0
    """Extra silence before a request to this device (slow analyzers), on top of the link gap."""
    backoff_min: float = 5.0
    backoff_max: float = 300.0
    failures_before_backoff: int = 1
    """Consecutive failed exchanges (after retries) that put the device into backoff."""

    def __post_init__(self) -> None:
        if not 0 < self.timeout <= 60:
            raise ValueError(f"timeout {self.timeout} s must be within 0..60 s")
        if not 0 <= self.retries <= 10:
            raise ValueError(f"retries {self.retries} must be within 0..10")
        if not 0 <= self.gap <= 2.0:
            raise ValueError(f"device gap {self.gap} s must be within 0..2 s")
        if not 0 < self.backoff_min <= self.backoff_max:
            raise ValueError(f"backoff {self.backoff_min}..{self.backoff_max} s must satisfy 0 < min <= max")
        if self.failures_before_backoff < 1:
            raise ValueError("failures_before_backoff must be >= 1")
