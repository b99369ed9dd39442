"""Typed codec errors, each carrying the QnRtn a platform would answer (HJ 212-2017 Table 4 / §6.5, 9011 QnRtn).

Any defect found while decoding raises one of these and nothing else (style.md §1.4), so a session can answer the
peer with `err.qn_rtn` and a person can read `str(err)`.
"""

from __future__ import annotations

from ._codes import QnRtn


class Hj212Error(Exception):
    """A frame or field that breaks HJ 212; `qn_rtn` is what a platform would answer in 9011 (100 when none fits)."""

    default_qn_rtn: int = QnRtn.UNKNOWN
    raw: bytes | None = None  # the offending bytes, when a stream decoder produced the error

    def __init__(self, message: str, *, qn_rtn: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.qn_rtn = int(self.default_qn_rtn if qn_rtn is None else qn_rtn)


class FrameError(Hj212Error):
    """The bytes are not a frame: no `##`, no CRLF tail, bytes after the tail, a data segment that is not text."""


class LengthError(Hj212Error):
    """The 4-digit LLLL is missing, over the limit, or disagrees with the data segment (HJ 212 Table 2)."""


class CrcError(Hj212Error):
    """The CRC does not match the data segment (HJ 212 Appendix A); QnRtn 9."""

    default_qn_rtn = QnRtn.CRC_ERROR


class ModbusCrcError(CrcError):
    """The CRC is CRC-16/MODBUS of the segment: the peer used the wrong algorithm (hj212.md §2)."""


class HeaderError(Hj212Error):
    """A header field is missing, duplicated or malformed."""


class QnError(HeaderError):
    default_qn_rtn = QnRtn.QN_ERROR


class StError(HeaderError):
    default_qn_rtn = QnRtn.ST_ERROR


class CnError(HeaderError):
    default_qn_rtn = QnRtn.CN_ERROR


class PwError(HeaderError):
    default_qn_rtn = QnRtn.PW_ERROR


class MnError(HeaderError):
    default_qn_rtn = QnRtn.MN_ERROR


class FlagError(HeaderError):
    """Flag bits, PNUM/PNO or RF that do not agree with each other or with the platform's dialect."""

    default_qn_rtn = QnRtn.FLAG_ERROR


class CpError(Hj212Error):
    """The CP data area does not follow HJ 212 §6.3.3 (`key=value` items, `,` within a group, `;` between)."""


class CipherError(Hj212Error):
    """The SM4-encrypted data area (HJ 212-2025 §6.4) cannot be read: no key, bad `{0x..}` text."""


class SplitError(Hj212Error):
    """A record cannot be split under the limit, or parts do not reassemble (HJ 212 PNUM/PNO)."""
