"""Where a key is defined in a TOML text: `tomllib` gives no positions, and an error without a line number
makes a technician read the whole file.

`key_lines(text)` walks the text once (it must already parse with `tomllib`) and records the line of every key
path, including `[[array.of.tables]]` entries by index (`("outlets", "DA001", "factors", 2, "code")`) and keys
inside inline tables and arrays. `line_of(lines, path)` answers with the longest recorded prefix, so a missing
key points at the table that lacks it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["KeyPath", "key_lines", "line_of"]

KeyPath = tuple[str | int, ...]

_BARE = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.lines: dict[KeyPath, int] = {}
        self.aot_len: dict[KeyPath, int] = {}

    # characters -----------------------------------------------------------------------------------------
    def peek(self, n: int = 1) -> str:
        return self.text[self.pos : self.pos + n]

    def advance(self, n: int = 1) -> None:
        chunk = self.text[self.pos : self.pos + n]
        self.line += chunk.count("\n")
        self.pos += n

    def skip_space(self, newlines: bool) -> None:
        """Skip blanks and comments; inside arrays and at the top level newlines too."""
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch in " \t\r" or (newlines and ch == "\n"):
                self.advance()
            elif ch == "#":
                end = self.text.find("\n", self.pos)
                self.advance((len(self.text) if end < 0 else end) - self.pos)
            else:
                return

    def record(self, path: KeyPath, line: int) -> None:
        self.lines.setdefault(path, line)

    # keys and strings -------------------------------------------------------------------------------------
    def string(self) -> str:
        for quote in ('"""', "'''"):
            if self.peek(3) == quote:
                self.advance(3)
                end = self.text.find(quote, self.pos)
                while end >= 0 and quote == '"""' and _escaped(self.text, end):
                    end = self.text.find(quote, end + 1)
                end = len(self.text) if end < 0 else end
                # A closing run may be 4-5 quotes: the extra ones belong to the content.
                while self.text[end + 3 : end + 4] == quote[0]:
                    end += 1
                value = self.text[self.pos : end]
                self.advance(end + 3 - self.pos)
                return value
        quote = self.peek()
        self.advance()
        out = []
        while self.pos < len(self.text) and self.text[self.pos] != quote:
            if quote == '"' and self.text[self.pos] == "\\":
                out.append(self.text[self.pos : self.pos + 2])
                self.advance(2)
                continue
            out.append(self.text[self.pos])
            self.advance()
        self.advance()
        raw = "".join(out)
        if quote == '"' and "\\" in raw:
            try:
                return raw.encode("latin-1", "backslashreplace").decode("unicode_escape")
            except UnicodeDecodeError:
                return raw
        return raw

    def key(self) -> list[str]:
        parts: list[str] = []
        while True:
            self.skip_space(newlines=False)
            if self.peek() in ('"', "'"):
                parts.append(self.string())
            else:
                start = self.pos
                while self.pos < len(self.text) and self.text[self.pos] in _BARE:
                    self.pos += 1
                parts.append(self.text[start : self.pos])
            self.skip_space(newlines=False)
            if self.peek() != ".":
                return parts
            self.advance()

    # values -----------------------------------------------------------------------------------------------
    def value(self, path: KeyPath) -> None:
        ch = self.peek()
        if ch in ('"', "'"):
            self.string()
        elif ch == "{":
            self.advance()
            while True:
                self.skip_space(newlines=True)  # TOML 1.1 allows newlines; harmless for 1.0 files
                if self.peek() == "}":
                    self.advance()
                    return
                if self.peek() == ",":
                    self.advance()
                    continue
                line = self.line
                sub = (*path, *self.key())
                self.record(sub, line)
                self.skip_space(newlines=False)
                self.advance()  # "="
                self.skip_space(newlines=False)
                self.value(sub)
        elif ch == "[":
            self.advance()
            index = 0
            while True:
                self.skip_space(newlines=True)
                if self.peek() == "]":
                    self.advance()
                    return
                if self.peek() == ",":
                    self.advance()
                    continue
                self.record((*path, index), self.line)
                self.value((*path, index))
                index += 1
        else:
            while self.pos < len(self.text) and self.text[self.pos] not in ",]}\n#":
                self.pos += 1

    # statements -------------------------------------------------------------------------------------------
    def header_path(self, keys: Sequence[str]) -> KeyPath:
        """A `[a.b]` header's concrete path: a prefix that is an array of tables means its last entry."""
        path: KeyPath = ()
        for k in keys:
            path = (*path, k)
            if path in self.aot_len:
                path = (*path, self.aot_len[path] - 1)
        return path

    def run(self) -> dict[KeyPath, int]:
        table: KeyPath = ()
        while True:
            self.skip_space(newlines=True)
            if self.pos >= len(self.text):
                return self.lines
            line = self.line
            if self.peek(2) == "[[":
                self.advance(2)
                keys = self.key()
                self.advance(2)
                parent = self.header_path(keys[:-1])
                array = (*parent, keys[-1])
                index = self.aot_len.get(array, 0)
                self.aot_len[array] = index + 1
                table = (*array, index)
                self.record(array, line)
                self.record(table, line)
            elif self.peek() == "[":
                self.advance()
                keys = self.key()
                self.advance()
                table = self.header_path(keys)
                self.record(table, line)
            else:
                path = (*table, *self.key())
                for n in range(len(table) + 1, len(path) + 1):
                    self.record(path[:n], line)
                self.skip_space(newlines=False)
                self.advance()  # "="
                self.skip_space(newlines=False)
                self.value(path)


def _escaped(text: str, index: int) -> bool:
    backslashes = 0
    while index > 0 and text[index - 1] == "\\":
        backslashes += 1
        index -= 1
    return backslashes % 2 == 1


def key_lines(text: str) -> dict[KeyPath, int]:
    """Line (1-based) where each key path is first defined; the text must be valid TOML."""
    return _Scanner(text).run()


def line_of(lines: Mapping[KeyPath, int], path: Sequence[str | int]) -> int | None:
    """The line of `path`, or of its longest defined prefix (a missing key → its table); None: nothing matches."""
    for n in range(len(path), 0, -1):
        line = lines.get(tuple(path[:n]))
        if line is not None:
            return line
    return None
