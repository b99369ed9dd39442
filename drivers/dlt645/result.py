"""Moved to `drivers.result` (serial text drivers return it too); kept so old imports keep working."""

from drivers.result import ReadResult

__all__ = ["ReadResult"]
