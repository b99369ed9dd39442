"""Pure line framing and parsing for serial text protocols (no port, no clock).

Framing is by terminator plus a length cap (devices.md §5.7: parse by terminator + timeout, never by fixed
sleeps). A line only counts when we saw where it began: after the `start` text, after an earlier terminator, or at
the start of a request's reply (the link owner flushes the receive buffer before it sends). A streamed line
joined in the middle could otherwise yield a plausible but wrong value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from drivers.errors import DeviceException, ProtocolError
from drivers.serialtext.checksum import FUNCTIONS, render
from drivers.serialtext.spec import TextSpec, unescape


class DeviceRefused(DeviceException):
    """The analyzer answered with its error line (the spec's `error_pattern`), e.g. DCON `?01`."""


def build_request(spec: TextSpec) -> bytes:
    """The request bytes; with `checksum.request`, the checksum goes before the request's own terminator."""
    raw = spec.request_bytes
    ck = spec.checksum
    if not ck.request:
        return raw
    term = spec.terminator_bytes
    body = raw[: -len(term)] if raw.endswith(term) else raw
    value = FUNCTIONS[ck.kind](body[ck.start :])
    return body + render(value, ck.kind, ck.encoding).encode("ascii") + raw[len(body) :]


def reply_length(spec: TextSpec) -> Callable[[bytes], int | None]:
    """A `ByteLink` reply-length function for this spec.

    Request mode: the first terminated line (after `start`, when set). Stream mode: everything up to the last
    complete line whose beginning we saw, so a slow poll takes the newest line and drops the backlog.
    """
    term = spec.terminator_bytes
    start = spec.start_bytes
    cap = spec.max_length

    def unterminated(buf: bytes) -> int:
        """Bytes after the last terminator: past `max_length` they can never end as a line we take."""
        tail = buf.rfind(term)
        return len(buf) - (tail + len(term) if tail >= 0 else 0)

    def length(buf: bytes) -> int | None:
        if spec.mode == "request":
            found = _first_reply_line(spec, buf)
            if found is None:
                if unterminated(buf) > cap:
                    raise ProtocolError(f"no reply line ({spec.start!r} … {spec.terminator!r}) in {buf[:32]!r}")
                return None
            return found[1]
        found = _last_whole_line(buf, term, start)
        if found is None:
            if unterminated(buf) > cap:
                raise ProtocolError(f"stream: more than {cap} bytes without a terminator {spec.terminator!r}")
            return None
        return found[1]

    return length


def _first_reply_line(spec: TextSpec, buf: bytes) -> tuple[int, int] | None:
    """(begin, end) of a request's reply line: the first terminated line starting with `start` (noise before it
    skipped), or an error line (`error_pattern`), which usually lacks the normal start text (DCON `?01`)."""
    term = spec.terminator_bytes
    start = spec.start_bytes
    line_begin = 0
    while (end := buf.find(term, line_begin)) >= 0:
        begin = buf.find(start, line_begin, end) if start else line_begin
        if begin >= 0:
            return begin, end + len(term)
        if spec.error_pattern is not None:
            text = buf[line_begin:end].decode(spec.encoding, errors="replace")
            if re.search(spec.error_pattern, text):
                return line_begin, end + len(term)
        line_begin = end + len(term)
    return None


def _last_whole_line(buf: bytes, term: bytes, start: bytes) -> tuple[int, int] | None:
    """(begin, end) of the last terminated line whose beginning is known; `end` includes the terminator."""
    end = buf.rfind(term)
    while end >= 0:
        prev = buf.rfind(term, 0, end)
        if start:
            begin = buf.rfind(start, prev + len(term) if prev >= 0 else 0, end)
            if begin >= 0:
                return begin, end + len(term)
        elif prev >= 0:
            return prev + len(term), end + len(term)
        end = prev
    return None


def extract_line(spec: TextSpec, raw: bytes) -> str:
    """The line a reply carries: noise before `start` dropped, checksum verified and removed, terminator removed."""
    term = spec.terminator_bytes
    if spec.mode == "stream":
        found = _last_whole_line(raw, term, spec.start_bytes)
        if found is None:
            raise ProtocolError(f"stream: no complete line in {raw[:48]!r}")
        line = raw[found[0] : found[1] - len(term)]
    else:
        found = _first_reply_line(spec, raw)
        if found is None:
            raise ProtocolError(f"incomplete reply {raw[:48]!r}")
        line = raw[found[0] : found[1] - len(term)]
    try:
        text = line.decode(spec.encoding)
    except UnicodeDecodeError as err:
        raise ProtocolError(f"reply is not {spec.encoding} text: {line[:48]!r}") from err
    return verify_checksum(spec, text)


def verify_checksum(spec: TextSpec, line: str) -> str:
    """Check and strip the checksum; return the line without checksum, gap and trailer text."""
    ck = spec.checksum
    if not ck.enabled:
        return line
    width = ck.width
    end = len(line) - ck.trailer
    begin = end - width
    if begin - ck.gap < ck.start:
        raise ProtocolError(f"line {line!r} is too short to hold a {ck.kind} checksum")
    got = line[begin:end]
    span = line[ck.start : begin - ck.gap]
    try:
        data = span.encode(spec.encoding)
    except UnicodeEncodeError as err:  # pragma: no cover - the line was decoded with the same encoding
        raise ProtocolError(f"line {line!r} cannot be re-encoded") from err
    want = render(FUNCTIONS[ck.kind](data), ck.kind, ck.encoding)
    if got.upper() != want:
        raise ProtocolError(f"{ck.kind} checksum {got!r} wrong, line sums to {want!r}: {line!r}")
    return line[: begin - ck.gap]


@dataclass(frozen=True, slots=True)
class FieldValue:
    """One field of one line: a number, or the protocol error that field gave (others may still be good)."""

    name: str
    value: float | None
    error: ProtocolError | None = None


def parse_line(spec: TextSpec, line: str) -> list[FieldValue]:
    """Pick every field out of a checked line. A line that does not match at all raises `ProtocolError`;
    a single unreadable field becomes an error for that field only. An error line raises `DeviceRefused`."""
    if spec.error_pattern is not None and re.search(spec.error_pattern, line):
        raise DeviceRefused(f"device refused the request: {line!r}")
    if spec.pattern is not None:
        match = re.search(spec.pattern, line)
        if match is None:
            raise ProtocolError(f"reply {line!r} does not match pattern {spec.pattern!r}")
        texts = {f.name: match.group(f.group) for f in spec.fields if f.group is not None}
    else:
        parts = line.split(unescape(spec.separator or ""))
        texts = {f.name: parts[f.index] if f.index is not None and f.index < len(parts) else None for f in spec.fields}
    out: list[FieldValue] = []
    for f in spec.fields:
        text = texts[f.name]
        if text is None:
            out.append(FieldValue(f.name, None, ProtocolError(f"field {f.name!r} missing in {line!r}")))
            continue
        try:
            number = float(text.strip()) if f.base == 10 else float(int(text.strip(), 16))
        except ValueError:
            out.append(FieldValue(f.name, None, ProtocolError(f"field {f.name!r}: {text!r} is not a number")))
            continue
        if number != number or number in (float("inf"), float("-inf")):
            out.append(FieldValue(f.name, None, ProtocolError(f"field {f.name!r}: {text!r} is not a finite number")))
            continue
        out.append(FieldValue(f.name, number * f.scale + f.offset))
    return out


def parse_reply(spec: TextSpec, raw: bytes) -> list[FieldValue]:
    """Reply bytes → field values (whole-line problems raise `ProtocolError` or `DeviceRefused`)."""
    return parse_line(spec, extract_line(spec, raw))
