"""Secrets never reach a log or a terminal: the access password (PW, 1072 NewPW) and the SM4 key (2025 1014 NewSK).

A log line or a printed frame is passed through `redact` (text) or `shown` (wire bytes, which after SM4 are
binary: non-printable bytes are escaped so the terminal is not garbled and the line stays one line).
"""

from __future__ import annotations

import re

__all__ = ["MASK", "SECRET_KEYS", "redact", "shown"]

MASK = "******"
# HJ 212 header PW (§6.3.2), 1072 NewPW (§8, Table 9), HJ 212-2025 1014 NewSK (§6.4.3)
SECRET_KEYS = ("PW", "NewPW", "NewSK")
_SECRET = re.compile(r"(?<![0-9A-Za-z_-])(" + "|".join(SECRET_KEYS) + r")=([^;,&\s]*)")


def redact(text: str) -> str:
    """`text` with the value of every PW=, NewPW= and NewSK= field masked."""
    return _SECRET.sub(lambda m: f"{m.group(1)}={MASK}", text)


def shown(data: bytes) -> str:
    """Wire bytes as one printable line: text as is, a control or non-UTF-8 byte as `\\xNN`, secrets masked."""
    text = redact(data.rstrip(b"\r\n").decode("utf-8", "surrogateescape"))
    return "".join(c if c.isprintable() else f"\\x{ord(c) & 0xFF:02x}" for c in text)
