"""Framing: `##` + LLLL + data segment + CRC + CRLF (HJ 212-2017 §6.3.1 Table 2, unchanged in 2025).

LLLL and the CRC cover the data segment's UTF-8 bytes (hj212.md §1: byte count, not characters). The CRC is
written in uppercase and read in either case. In a 2025 dialect with encryption, the CP region of the CNs named in
§6.4.4 is SM4-encrypted after the CRC was taken over the plaintext (Appendix A.2 "先完成CRC校验并组包，再加密").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import _sm4
from ._cp import parse_cp
from ._crc import crc16, crc16_modbus
from ._dialect import MAX_LENGTH, Dialect, cn_is_encrypted
from ._errors import CipherError, CpError, CrcError, FlagError, FrameError, LengthError, ModbusCrcError
from ._frame import Frame
from ._header import build_frame, segment_text, split_fields

_DEFAULT = Dialect()
_CP_OPEN = b"CP=&&"
_HEX = frozenset(b"0123456789ABCDEFabcdef")
_CN_FIELD = re.compile(rb"(?:^|;)CN=(\d{4});")


@dataclass(frozen=True, slots=True)
class Decoded:
    """A decoded frame, what was tolerated to read it (lenient mode), and the exact bytes received."""

    frame: Frame
    warnings: tuple[str, ...]
    raw: bytes


def encode(frame: Frame, dialect: Dialect = _DEFAULT) -> bytes:
    """Build the wire bytes of `frame` for a platform speaking `dialect` (strict: what we send is by the book)."""
    plain = segment_text(frame).encode("utf-8")
    warnings: list[str] = []
    # Re-read our own header strictly: every field is checked once, by the same rules as strict decoding.
    build_frame(_fields_of(frame), frame.cp, strict=True, version=dialect.version, warnings=warnings)
    if frame.flag is None:
        raise FlagError("发送的报文须有 Flag / frames we send carry a Flag")
    if len(plain) > dialect.split_limit:
        raise LengthError(
            f"数据段 {len(plain)} 字节超过上限 {dialect.split_limit} / data segment over the platform limit: split it"
        )
    crc = crc16(plain)
    segment = plain
    if dialect.version == 2025 and dialect.encrypts(frame.cn) and dialect.sm4_key is not None:
        start = len(plain) - len(frame.cp.text.encode("utf-8")) - 7  # index of "CP=&&"
        region = _sm4.encrypt_region(dialect.sm4_key, plain[start + 5 : -2])
        if dialect.cipher_wire == "text":
            region = _sm4.to_text(region)
        segment = plain[: start + 5] + region + b"&&"
    length = len(segment) if dialect.cipher_wire == "text" else len(plain)
    if length > MAX_LENGTH:
        raise LengthError(f"数据段 {length} 字节超过 LLLL 四位上限 / segment of {length} bytes exceeds 9999")
    return b"##%04d%s%04X\r\n" % (length, segment, crc)


def _fields_of(frame: Frame) -> dict[str, str]:
    fields = {}
    if frame.qn is not None:
        fields["QN"] = frame.qn
    fields |= {"ST": frame.st, "CN": frame.cn, "PW": frame.pw, "MN": frame.mn}
    if frame.flag is not None:
        fields["Flag"] = str(frame.flag)
    if frame.pnum is not None:
        fields |= {"PNUM": str(frame.pnum), "PNO": str(frame.pno)}
    if frame.rf:
        fields["RF"] = "1"
    return fields


def decode(data: bytes, dialect: Dialect | None = None, *, strict: bool = False) -> Decoded:
    """Decode one frame (with or without its CRLF in lenient mode). Raises only `Hj212Error` subclasses.

    Lenient mode (what we receive) accepts with a warning: a character-counted LLLL, a lowercase CRC, unknown
    version bits, a missing CRLF, header liberties. Strict mode (checking what we send) accepts none of them.
    """
    data = bytes(data)
    warnings: list[str] = []
    if not data.startswith(b"##"):
        raise FrameError(f"报文须以 ## 开头 / a frame starts with '##', got {data[:8]!r}")
    body = data
    if body.endswith(b"\r\n"):
        body = body[:-2]
    elif strict:
        raise FrameError("报文须以 CR LF 结尾 / a frame ends with CR LF")
    else:
        body = body.rstrip(b"\r\n")
        warnings.append("缺少 CR LF 结尾 / no CR LF at the end of the frame")
    lllls = body[2:6]
    if len(lllls) != 4 or not lllls.isdigit():
        raise LengthError(f"数据段长度须为4位数字 / LLLL must be 4 digits, got {lllls!r}")
    declared = int(lllls)
    if len(body) < 10:
        raise LengthError(f"报文太短 / frame of {len(data)} bytes is too short")
    segment, crc_text = body[6:-4], body[-4:]
    if len(crc_text) != 4 or not all(c in _HEX for c in crc_text):
        raise CrcError(f"CRC 须为4位十六进制 / CRC must be 4 hex digits, got {crc_text!r}")
    if crc_text != crc_text.upper():
        if strict:
            raise CrcError(f"CRC 须为大写 / CRC must be uppercase hex, got {crc_text.decode()}")
        warnings.append(f"CRC 为小写 / lowercase CRC {crc_text.decode()}")
    crc = int(crc_text, 16)

    # The CRC is checked before anything else is read: a corrupted frame is answered QnRtn 9, not a field error.
    cp_at = segment.find(_CP_OPEN)
    has_cp = cp_at >= 0 and len(segment) >= cp_at + 7 and segment.endswith(b"&&")
    region = segment[cp_at + 5 : -2] if has_cp else b""
    plain_region, form = region, None
    if has_cp:
        cn = _CN_FIELD.search(segment, 0, cp_at)
        plain_region, form = _plain_region(region, segment, crc, cn.group(1).decode() if cn else "", dialect)
    plain = segment[: cp_at + 5] + plain_region + b"&&" if form else segment
    _check_crc(plain, segment, crc, decrypted=form is not None)
    if len(segment) != declared:
        if form == "text" and len(plain) == declared:
            message = (
                f"LLLL={declared:04d} 为明文长度, 密文为 {{0x..}} 文本 / LLLL counts the plaintext of a text-form area"
            )
            if strict:
                raise LengthError(message)
            warnings.append(message)
        else:
            _check_char_length(segment, declared, strict, warnings)
    if not has_cp or (cp_at > 0 and segment[cp_at - 1] != ord(";") and strict):
        raise CpError("数据段须含 ;CP=&&…&& / the data segment must hold ;CP=&&…&&")
    header_bytes = segment[:cp_at]
    try:
        header = header_bytes.decode("ascii")
    except UnicodeDecodeError as err:
        raise FrameError(f"头部含非 ASCII 字节 / header holds non-ASCII bytes: {header_bytes!r}") from err
    fields = split_fields(header, strict=strict, warnings=warnings)
    try:
        cp_text = plain_region.decode("utf-8")
    except UnicodeDecodeError as err:
        raise FrameError(
            "CP 不是 UTF-8 文本 (加密? 需配置 SM4 密钥) / CP is not UTF-8 text (encrypted? set sm4_key)"
        ) from err
    cp, cp_warnings = parse_cp(cp_text, strict=strict)
    warnings.extend(cp_warnings)
    version = dialect.version if dialect is not None else None
    frame = build_frame(fields, cp, strict=strict, version=version, warnings=warnings)
    return Decoded(frame=frame, warnings=tuple(warnings), raw=data)


def _check_char_length(segment: bytes, declared: int, strict: bool, warnings: list[str]) -> None:
    message = f"LLLL={declared:04d} 与数据段 {len(segment)} 字节不符 / LLLL disagrees with the segment's byte length"
    if strict:
        raise LengthError(message)
    try:
        chars = len(segment.decode("utf-8"))
    except UnicodeDecodeError:
        chars = -1
    if chars != declared:
        raise LengthError(message)
    warnings.append(f"LLLL={declared:04d} 按字符计数, UTF-8 为 {len(segment)} 字节 / LLLL counts characters, not bytes")


def _plain_region(
    region: bytes, segment: bytes, crc: int, cn: str, dialect: Dialect | None
) -> tuple[bytes, str | None]:
    """The CP region in clear: decrypted when this dialect has a key and the CN is one §6.4.4 encrypts.

    Returns the region and the wire form it came in (None when in clear). The text form `{0x..}` is recognised
    by its shape; a binary region is taken as plaintext when the CRC over
    it already matches (platform→DAS requests may be sent in clear, hj212-2025.md §2), else decrypted.
    """
    cipher = _sm4.from_text(region)
    key = dialect.sm4_key if dialect is not None and dialect.version == 2025 else None
    if key is None or not cn_is_encrypted(cn):
        if cipher is not None and cn_is_encrypted(cn):
            raise CipherError("CP 为 SM4 密文 {0x..}, 未配置密钥 / CP is SM4 text form but no sm4_key is set")
        return region, None
    if cipher is not None:
        return _sm4.decrypt_region(key, cipher), "text"
    if len(region) < _sm4.BLOCK or (crc16(segment) == crc and _reads_as_text(region)):
        return region, None
    return _sm4.decrypt_region(key, region), "binary"


def _reads_as_text(region: bytes) -> bool:
    """Whether a region is UTF-8 text. The Appendix A CRC is weak: over a binary cipher region it matches the
    plaintext CRC far more often than 1 in 65536 (about 1 frame in 250 here), so a CRC match alone does not
    prove a region was sent in clear."""
    try:
        region.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _check_crc(plain: bytes, segment: bytes, crc: int, *, decrypted: bool) -> None:
    ours = crc16(plain)
    if ours == crc:
        return
    if crc16_modbus(plain) == crc or crc16_modbus(segment) == crc:
        raise ModbusCrcError(
            f"CRC {crc:04X} 是 CRC-16/MODBUS, 不是 HJ 212 附录A算法 (应为 {ours:04X}) / "
            f"the peer sent CRC-16/MODBUS instead of the HJ 212 Appendix A CRC (expected {ours:04X})"
        )
    hint = " (SM4 解密后计算; 密钥错误也会如此 / computed after SM4 decryption: a wrong key also does this)"
    raise CrcError(
        f"CRC 错误: 报文 {crc:04X}, 计算 {ours:04X} / CRC mismatch: frame says {crc:04X}, data gives {ours:04X}"
        + (hint if decrypted else "")
    )
