"""The frozen, validated description of a serial text protocol: how to ask, how a line ends, where the values are.

It is data, filled from a TOML device profile: the request text with escapes (`#01\\r`), the terminator, a regex
with named groups or a separator and field indexes, and the checksum (kind, over which span, hex or decimal,
where). Everything is checked when the spec is built, so a profile that loads is one the driver can run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from drivers.serialtext.checksum import KINDS, WIDTH

Mode = Literal["request", "stream"]
_ESCAPES = {"r": "\r", "n": "\n", "t": "\t", "0": "\0", "\\": "\\", "e": "\x1b"}


def unescape(text: str) -> str:
    r"""Turn `\r`, `\n`, `\t`, `\0`, `\e`, `\\` and `\xHH` into characters; any other backslash is an error.

    Written here rather than via `unicode_escape`, which mangles non-ASCII text and accepts far more.
    """
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1 : i + 2]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt == "x" and re.fullmatch(r"[0-9A-Fa-f]{2}", text[i + 2 : i + 4]):
            out.append(chr(int(text[i + 2 : i + 4], 16)))
            i += 4
        else:
            raise ValueError(rf"escape {text[i : i + 4]!r} in {text!r}: use \r \n \t \0 \e \\ or \xHH")
    return "".join(out)


@dataclass(frozen=True, kw_only=True, slots=True)
class ChecksumSpec:
    """Where a line's checksum sits and what it covers.

    The line (terminator removed) reads: `[skip chars][span ...][gap chars][CHECKSUM][trailer chars]`.
    The checksum covers the span, which runs from `start` up to `gap` chars before the checksum field.
    Examples: MEWTOCOL BCC over everything before it: start 0, gap 0; NMEA `$...*hh`: start 1, gap 1;
    HJ 212 `##LLLL<data>CRC`: start 6, gap 0, kind crc16_hj212.
    """

    kind: str = "none"
    encoding: str = "hex"
    """`hex` (upper or lower case accepted, upper written) or `decimal` (zero-padded)."""
    start: int = 0
    gap: int = 0
    trailer: int = 0
    request: bool = False
    """Also append a checksum to the request, placed the same way (gap/trailer are not added to requests)."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"checksum kind {self.kind!r}: expected one of {', '.join(KINDS)}")
        if self.encoding not in ("hex", "decimal"):
            raise ValueError(f"checksum encoding {self.encoding!r}: expected hex or decimal")
        for name in ("start", "gap", "trailer"):
            if not 0 <= getattr(self, name) <= 64:
                raise ValueError(f"checksum {name} {getattr(self, name)}: expected 0..64 characters")
        if self.kind == "none" and self.request:
            raise ValueError("checksum request=true needs a checksum kind")

    @property
    def enabled(self) -> bool:
        return self.kind != "none"

    @property
    def width(self) -> int:
        return WIDTH[(self.kind, self.encoding)] if self.enabled else 0


@dataclass(frozen=True, kw_only=True, slots=True)
class FieldSpec:
    """One value in a line: a named regex group, or the index of a separated field (0-based)."""

    name: str
    unit: str = ""
    group: str | None = None
    index: int | None = None
    base: int = 10
    """10 for decimal text (`+08.074`, `1.2e3`), 16 for hex integers."""
    scale: float = 1.0
    offset: float = 0.0
    """value = number × scale + offset (e.g. µA → mA with scale 0.001)."""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.name):
            raise ValueError(f"field name {self.name!r}: expected letters, digits and _")
        if (self.group is None) == (self.index is None):
            raise ValueError(f"field {self.name!r}: give exactly one of group (regex) or index (separator)")
        if self.index is not None and not 0 <= self.index < 256:
            raise ValueError(f"field {self.name!r}: index {self.index} out of 0..255")
        if self.base not in (10, 16):
            raise ValueError(f"field {self.name!r}: base {self.base} must be 10 or 16")
        if self.scale == 0:
            raise ValueError(f"field {self.name!r}: scale 0 would erase every value")


@dataclass(frozen=True, kw_only=True, slots=True)
class TextSpec:
    """A whole serial text protocol. `mode="stream"` listens to a device that sends lines on its own."""

    mode: str = "request"
    request: str = ""
    """Request text with escapes, e.g. `#01\\r`; the terminator is not added for you."""
    terminator: str = "\\r"
    """End of a reply line, with escapes."""
    start: str = ""
    """Fixed text every reply line starts with (e.g. `>` or `##`): bytes before it are skipped as noise."""
    pattern: str | None = None
    """Regex with named groups, searched in the line (checksum, trailer and terminator removed)."""
    separator: str | None = None
    """Field separator (with escapes) when fields are picked by index instead of by regex."""
    fields: tuple[FieldSpec, ...] = ()
    checksum: ChecksumSpec = field(default_factory=ChecksumSpec)
    error_pattern: str | None = None
    """Regex for a line that means the device refused (e.g. DCON `^\\?`): a device error, not a value."""
    encoding: str = "ascii"
    max_length: int = 512

    def __post_init__(self) -> None:
        if self.mode not in ("request", "stream"):
            raise ValueError(f"mode {self.mode!r}: expected request or stream")
        if self.mode == "request" and not self.request:
            raise ValueError("mode request needs a request text")
        if self.mode == "stream" and self.request:
            raise ValueError("mode stream listens only: leave request empty")
        if not self.terminator or not unescape(self.terminator):
            raise ValueError("terminator is empty: a line must end somewhere")
        for name in ("request", "terminator", "start", "separator"):
            value = getattr(self, name)
            if value is not None:
                try:
                    unescape(value).encode(self.encoding)
                except LookupError:
                    raise ValueError(f"encoding {self.encoding!r} is unknown") from None
                except UnicodeEncodeError as err:
                    raise ValueError(f"{name} {value!r} cannot be written in {self.encoding}: {err}") from None
        if not self.fields:
            raise ValueError("no fields: a spec must say which values a line carries")
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate field names in {names}")
        if (self.pattern is None) == (self.separator is None):
            raise ValueError("give exactly one of pattern (regex with named groups) or separator (fields by index)")
        if self.pattern is not None:
            regex = _compile("pattern", self.pattern)
            for f in self.fields:
                if f.group is None:
                    raise ValueError(f"field {f.name!r}: a pattern is set, so give the regex group name")
                if f.group not in regex.groupindex:
                    known = ", ".join(regex.groupindex) or "none"
                    raise ValueError(f"field {f.name!r}: group {f.group!r} not in pattern (groups: {known})")
        else:
            if not unescape(self.separator or ""):
                raise ValueError("separator is empty")
            for f in self.fields:
                if f.index is None:
                    raise ValueError(f"field {f.name!r}: a separator is set, so give the field index")
        if self.error_pattern is not None:
            _compile("error_pattern", self.error_pattern)
        if not 8 <= self.max_length <= 4096:
            raise ValueError(f"max_length {self.max_length}: expected 8..4096")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> TextSpec:
        """Build from plain TOML data (`[[fields]]` tables, a `[checksum]` table); unknown keys are errors."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown serial-text key(s) {unknown}; known: {sorted(known)}")
        values = dict(data)
        values["fields"] = tuple(_build(FieldSpec, f, "fields") for f in data.get("fields", ()))
        if "checksum" in data:
            values["checksum"] = _build(ChecksumSpec, data["checksum"], "checksum")
        return cls(**values)

    @property
    def request_bytes(self) -> bytes:
        return unescape(self.request).encode(self.encoding)

    @property
    def terminator_bytes(self) -> bytes:
        return unescape(self.terminator).encode(self.encoding)

    @property
    def start_bytes(self) -> bytes:
        return unescape(self.start).encode(self.encoding)


def _compile(name: str, pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as err:
        raise ValueError(f"{name} {pattern!r} is not a valid regex: {err}") from None


def _build(kind: type[Any], data: Any, where: str) -> Any:
    if isinstance(data, kind):
        return data
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: expected a table, got {data!r}")
    known = {f.name for f in fields(kind)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; known: {sorted(known)}")
    return kind(**data)
