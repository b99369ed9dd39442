"""A decoder for a TCP byte stream of HJ 212 frames (HJ 212 §6.3.1 framing; style.md §1 "no I/O").

Frames are cut strictly by LLLL (SM4 cipher bytes in a 2025 binary data area may be CR, LF or `#`), so partial
reads and several frames per read give the same frames whatever the chunking. Bytes before a `##` are skipped
(counted in `discarded`); a declared length over `max_length` is rejected before anything is buffered for it.
In lenient mode a frame whose CRLF is not where LLLL says may have a character-counted LLLL, or a `{0x..}`
text-form cipher area counted as plaintext (as the standard prints it): the first CRLF within 6 bytes per
declared byte, with no `##` before it, ends it (decode() then checks which count it was).
"""

from __future__ import annotations

from ._dialect import MAX_LENGTH, Dialect
from ._errors import FrameError, Hj212Error, LengthError
from ._framing import Decoded, decode


class StreamDecoder:
    """Feed received bytes, get decoded frames or the error of each bad frame; decoding goes on after an error."""

    def __init__(self, dialect: Dialect | None = None, *, strict: bool = False, max_length: int = MAX_LENGTH) -> None:
        if not 0 <= max_length <= MAX_LENGTH:
            raise ValueError(f"max_length must be within 0..{MAX_LENGTH}")
        self.dialect = dialect
        self.strict = strict
        self.max_length = max_length
        self.discarded = 0  # bytes skipped while looking for `##`
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        """Bytes held for an incomplete frame."""
        return len(self._buf)

    def _decode(self, raw: bytes) -> Decoded | Hj212Error:
        try:
            return decode(raw, self.dialect, strict=self.strict)
        except Hj212Error as err:
            err.raw = raw
            return err

    def feed(self, chunk: bytes) -> list[Decoded | Hj212Error]:
        buf = self._buf
        buf += chunk
        out: list[Decoded | Hj212Error] = []
        pos = 0
        while True:
            start = buf.find(b"##", pos)
            if start < 0:
                keep = len(buf) - 1 if buf.endswith(b"#") else len(buf)
                self.discarded += keep - pos
                pos = keep
                break
            self.discarded += start - pos
            pos = start
            if len(buf) - pos < 6:
                break
            digits = bytes(buf[pos + 2 : pos + 6])
            if not digits.isdigit():
                self.discarded += 1
                pos += 1
                continue
            length = int(digits)
            if length > self.max_length:
                out.append(LengthError(f"LLLL={length} 超过上限 {self.max_length} / declared length over the limit"))
                pos += 2
                continue
            end = pos + length + 12
            if len(buf) < end:
                break
            if buf[end - 2 : end] == b"\r\n":
                out.append(self._decode(bytes(buf[pos:end])))
                pos = end
                continue
            if not self.strict:
                far = pos + 6 * length + 12
                crlf = buf.find(b"\r\n", end - 1, far)
                other = buf.find(b"##", pos + 2, crlf if crlf >= 0 else len(buf))
                if crlf >= 0 and other < 0:
                    out.append(self._decode(bytes(buf[pos : crlf + 2])))
                    pos = crlf + 2
                    continue
                if crlf < 0 and other < 0 and len(buf) < far:
                    break
            out.append(FrameError(f"LLLL={length:04d} 处未见 CR LF / no CR LF where LLLL says the frame ends"))
            pos += 2
        del buf[:pos]
        return out
