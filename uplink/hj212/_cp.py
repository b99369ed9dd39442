"""The CP data area (HJ 212-2017 §6.3.3, Table 4): `key=value` items, `,` inside a group, `;` between groups.

A `Cp` keeps the groups and items in wire order with the value text untouched, so decode→encode is byte exact and
a number keeps the decimals the instrument sent. Log texts (`i11001-Info=//清洗管路//`, C.40) are wrapped in
`//…//` and may hold `; , =` and Chinese: the value runs to the first `//` that is followed by a separator or the
end of the area. There is no escaping in HJ 212, so other values may not hold `;` or `,`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ._errors import CpError

Item = tuple[str, str]
Group = tuple[Item, ...]

_SEP = re.compile(r"[;,]")
_BAD_KEY = re.compile(r"[;,=&\r\n]")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_TIME = re.compile(r"[0-9]{14}(?:[0-9]{3})?")
_LOG = "//"


def _is_log(value: str) -> bool:
    return len(value) >= 4 and value.startswith(_LOG) and value.endswith(_LOG)


def _log_end(text: str, start: int) -> int:
    """Index just past the `//` closing a log value that opens at `start`, or -1."""
    k = text.find(_LOG, start + 2)
    n = len(text)
    while k >= 0:
        if k + 2 == n or text[k + 2] in ";,":
            return k + 2
        k = text.find(_LOG, k + 1)
    return -1


def _check_item(key: str, value: str) -> None:
    if not key or _BAD_KEY.search(key):
        raise CpError(f"CP 键名错误 / bad CP key {key!r}: must be non-empty without ; , = &")
    if value.startswith(_LOG) and len(value) >= 2:
        if not _is_log(value) or _log_end(value, 0) != len(value):
            raise CpError(f"CP 日志文本错误 / log text of {key} must be //…// with no '//' before ';' or ',' inside")
    elif ";" in value or "," in value:
        raise CpError(f"CP 值含分隔符 / value of {key} holds ';' or ',' (HJ 212 has no escaping; wrap logs in //…//)")


def _parse_simple(text: str) -> Cp | None:
    """Fast path for the common CP without log texts or defects; None sends it to the full parser."""
    if not text:
        return Cp()
    if _LOG in text:
        return None
    groups = []
    for chunk in text.split(";"):
        items = []
        for item in chunk.split(","):
            key, eq, value = item.partition("=")
            if not eq or not key:
                return None
            items.append((key, value))
        groups.append(tuple(items))
    return Cp(tuple(groups))


def parse_cp(text: str, *, strict: bool = True) -> tuple[Cp, tuple[str, ...]]:
    """Parse the text between `CP=&&` and `&&`.

    An empty item (`;;`, `,,`, a leading or trailing `;` or `,`) breaks §6.3.3: strict mode raises, lenient mode
    reads the items around it with a warning and keeps the received text, so re-encoding gives the same bytes.
    """
    simple = _parse_simple(text)
    if simple is not None:
        return simple, ()
    groups, warnings = _read(text, strict)
    return Cp(groups, source=text if warnings else None), warnings


def _read(text: str, strict: bool) -> tuple[tuple[Group, ...], tuple[str, ...]]:
    """The full parser: groups and the warnings of lenient mode."""
    warnings: list[str] = []
    groups: list[Group] = []
    items: list[Item] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] in ";,":  # empty item: `;;`, `,,`, leading or trailing separator
            if strict:
                raise CpError(f"CP 空项 / empty item at offset {i} in CP")
            warnings.append(f"CP 空项 / empty CP item at offset {i}")
        else:
            eq = text.find("=", i)
            sep = _SEP.search(text, i)
            if eq < 0 or (sep is not None and sep.start() < eq):
                end = n if sep is None else sep.start()
                raise CpError(f"CP 项缺少 '=' / CP item {text[i:end]!r} has no '='")
            key = text[i:eq]
            j = eq + 1
            if text.startswith(_LOG, j) and (end := _log_end(text, j)) > 0:
                pass
            else:
                m = _SEP.search(text, j)
                end = n if m is None else m.start()
            items.append((key, text[j:end]))
            i = end
            if i >= n:
                break
            if i == n - 1:  # the separator after the last item ends the area: an empty item follows it
                message = f"CP 以分隔符 {text[i]!r} 结尾 / CP ends with a separator {text[i]!r}"
                if strict:
                    raise CpError(message)
                warnings.append(message)
        if text[i] == ";" and items:
            groups.append(tuple(items))
            items = []
        i += 1
    if items:
        groups.append(tuple(items))
    return tuple(groups), tuple(warnings)


def _format_number(value: float | int | Decimal, places: int | None) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        raise CpError(f"非有限数值 / {value!r} cannot be sent (HJ 212 numbers are finite)")
    if places is None:
        if isinstance(value, float):
            text = repr(value)
            return format(Decimal(text), "f") if "e" in text or "E" in text else text
        return format(value, "f") if isinstance(value, Decimal) else str(value)
    text = f"{Decimal(str(value)) if isinstance(value, float) else value:.{places}f}"
    if text.startswith("-") and not text.strip("-0."):
        text = text[1:]  # -0.00 is 0.00 on the wire
    return text


def format_value(key: str, value: object, places: int | None = None) -> str:
    """Wire text of one CP value: datetimes as YYYYMMDDhhmmss (Table 4 N14), numbers with `places` decimals."""
    if value is None:
        raise CpError(f"{key} 无值 / {key} has no value: a missing value is never sent as a number")
    if isinstance(value, bool):
        raise CpError(f"{key}: bool is ambiguous in HJ 212, give 0/1 or a flag letter")
    if isinstance(value, datetime):
        return value.strftime("%Y%m%d%H%M%S")
    if isinstance(value, int | float | Decimal):
        return _format_number(value, places)
    if isinstance(value, str):
        return value
    raise CpError(f"{key}: cannot send a {type(value).__name__} in CP")


@dataclass(frozen=True, slots=True)
class Cp:
    """The CP data area as ordered groups of ordered `(key, value_text)` pairs.

    `source` is the received text when it differs from the canonical form (lenient decoding of empty items):
    `text` then gives it back byte for byte, and equality ignores it.
    """

    groups: tuple[Group, ...] = ()
    source: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        for group in self.groups:
            if not group:
                raise CpError("CP 空组 / a CP group has no items")
            for key, value in group:
                _check_item(key, value)
        if self.source is not None:
            if self.source == self._canonical():
                object.__setattr__(self, "source", None)
            elif _read(self.source, strict=False)[0] != self.groups:
                raise CpError("CP 原文与各项不符 / the kept CP text does not read as these items")

    @classmethod
    def parse(cls, text: str) -> Cp:
        """Parse CP text (strict: no empty items)."""
        return parse_cp(text, strict=True)[0]

    @classmethod
    def build(
        cls,
        plain: Mapping[str, object] | None = None,
        factors: Sequence[tuple[str, Mapping[str, object]]] = (),
        decimals: Mapping[str, int] | None = None,
    ) -> Cp:
        """Plain keys (DataTime, PolId, …) each as its own group, then one group per factor (`code-suffix=…`).

        `decimals` maps a factor code (or `code-suffix`, or a plain key) to its decimal count, e.g. the
        instrument's resolution (Table 4 Nx.y); `Flag`/`EFlag` strings go out as given.
        """
        places = decimals or {}
        groups: list[Group] = []
        for key, value in (plain or {}).items():
            groups.append(((key, format_value(key, value, places.get(key))),))
        for code, values in factors:
            items = []
            for suffix, value in values.items():
                key = f"{code}-{suffix}"
                items.append((key, format_value(key, value, places.get(key, places.get(code)))))
            if items:
                groups.append(tuple(items))
        return cls(tuple(groups))

    def _canonical(self) -> str:
        return ";".join(",".join(f"{k}={v}" for k, v in group) for group in self.groups)

    @property
    def text(self) -> str:
        """The wire text: as received when `source` is kept, else canonical (§6.3.3)."""
        return self._canonical() if self.source is None else self.source

    def __str__(self) -> str:
        return self.text

    def items(self) -> Iterator[Item]:
        """All `(key, value_text)` pairs in wire order."""
        for group in self.groups:
            yield from group

    def get(self, key: str) -> str | None:
        """Text of the first item named `key`, or None."""
        for k, v in self.items():
            if k == key:
                return v
        return None

    def _require(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def number(self, key: str) -> float:
        """The item as a number (Table 4 Nx.y); KeyError when absent, CpError when not a number."""
        text = self._require(key)
        if not _NUMBER.fullmatch(text):
            raise CpError(f"{key}={text!r} 不是数值 / is not a number")
        return float(text)

    def time(self, key: str) -> datetime:
        """The item as a datetime: YYYYMMDDhhmmss (N14) or with milliseconds (17 digits, like QN)."""
        text = self._require(key)
        try:
            if len(text) == 14 and _TIME.fullmatch(text):
                return datetime.strptime(text, "%Y%m%d%H%M%S")
            if len(text) == 17 and _TIME.fullmatch(text):
                return datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(microsecond=int(text[14:]) * 1000)
        except ValueError:
            pass
        raise CpError(f"{key}={text!r} 不是时间 / is not a YYYYMMDDhhmmss time")

    def factors(self) -> dict[str, dict[str, str]]:
        """Factor code → suffix → text for every `code-suffix` key; unknown suffixes (`RawAvg`) are kept."""
        out: dict[str, dict[str, str]] = {}
        for key, value in self.items():
            code, dash, suffix = key.partition("-")
            if dash:
                out.setdefault(code, {}).setdefault(suffix, value)
        return out
