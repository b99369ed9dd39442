"""What one platform speaks: version, encryption, split limit, answers (hj212-2025.md §8 "dialect pitfall").

A platform's dialect is configured, never guessed from a Flag or a CN: surface-water software sent Flag=9 and 9015
before 2025, and 2017-era devices send Flag=8.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._codes import CN

VERSIONS = (2017, 2025)
CIPHER_WIRES = ("binary", "text")
MAX_LENGTH = 9999  # LLLL has four digits (HJ 212 Table 2)

# HJ 212-2025 §6.4.4: DAS→platform data commands 2000-2999, plus 1014 (key) and 3020 (site info), are encrypted.
_ENCRYPTED_EXTRA = frozenset({CN.SECRET_KEY.value, CN.SITE_INFO.value})


def cn_is_encrypted(cn: str) -> bool:
    """Whether HJ 212-2025 §6.4.4 names this CN for encryption; replies 9011-9014 never are."""
    return cn in _ENCRYPTED_EXTRA or (len(cn) == 4 and cn.isascii() and cn.isdigit() and "2000" <= cn <= "2999")


@dataclass(frozen=True, slots=True)
class Dialect:
    """Per-platform protocol settings.

    `cipher_wire`: how SM4 cipher bytes travel (hj212-2025.md §2, uncertain in the standard): "binary" raw bytes
    framed by LLLL (= plaintext length, as the standard's example prints), or "text" `{0xNN,…}` where LLLL is the
    actual byte length of the text-form segment (docs/hj212.md).
    """

    version: int = 2017
    encrypt: bool = False
    sm4_key: bytes | None = None
    cipher_wire: str = "binary"
    split_limit: int = 1024
    want_answer: bool = True

    def __post_init__(self) -> None:
        if self.version not in VERSIONS:
            raise ValueError(f"HJ 212 version must be one of {VERSIONS}, got {self.version!r}")
        if self.cipher_wire not in CIPHER_WIRES:
            raise ValueError(f"cipher_wire must be one of {CIPHER_WIRES}, got {self.cipher_wire!r}")
        if self.sm4_key is not None and (not isinstance(self.sm4_key, bytes) or len(self.sm4_key) != 16):
            raise ValueError("sm4_key must be 16 bytes (SM4 128-bit key, HJ 212-2025 §6.4.2)")
        if self.encrypt and self.version != 2025:
            raise ValueError("encryption exists only in HJ 212-2025 (§6.4); set version=2025")
        if self.encrypt and self.sm4_key is None:
            raise ValueError("encrypt=True needs sm4_key (16 bytes)")
        if not 100 <= self.split_limit <= MAX_LENGTH:
            raise ValueError(f"split_limit must be within 100..{MAX_LENGTH} bytes, got {self.split_limit!r}")

    def encrypts(self, cn: str) -> bool:
        """Whether a frame with this CN is sent with its CP region encrypted under this dialect."""
        return self.encrypt and cn_is_encrypted(cn)
