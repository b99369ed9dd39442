"""SM4-ECB of the CP data region, HJ 212-2025 §6.4.2 and Appendix A.2 (hj212-2025.md §2).

"每16个字符为一组加密，填充模式采用Nopadding，不足16个字符的部分使用明文": whole 16-byte blocks are encrypted
one by one, the tail shorter than a block stays in clear, so the ciphertext is as long as the plaintext.
Checked against GB/T 32907 (tests/hj212/test_sm4.py) and the standard's worked examples.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 16


def _ecb(key: bytes, data: bytes, *, encrypt: bool) -> bytes:
    if not data:
        return b""
    cipher = Cipher(algorithms.SM4(key), modes.ECB())
    ctx = cipher.encryptor() if encrypt else cipher.decryptor()
    return ctx.update(data) + ctx.finalize()


def encrypt_region(key: bytes, plain: bytes) -> bytes:
    """Encrypt the whole blocks of `plain`; the last `len % 16` bytes are copied in clear (A.2)."""
    whole = len(plain) - len(plain) % BLOCK
    return _ecb(key, plain[:whole], encrypt=True) + plain[whole:]


def decrypt_region(key: bytes, cipher: bytes) -> bytes:
    """Inverse of `encrypt_region`."""
    whole = len(cipher) - len(cipher) % BLOCK
    return _ecb(key, cipher[:whole], encrypt=False) + cipher[whole:]


def to_text(region: bytes) -> bytes:
    """The `{0xE4,0x3E,…}` text wire form of an encrypted region: whole blocks as hex items, clear tail after `}`.

    A region shorter than one block has nothing encrypted and is sent as it is (no empty braces).
    """
    whole = len(region) - len(region) % BLOCK
    if not whole:
        return region
    items = ",".join(f"0x{b:02X}" for b in region[:whole])
    return b"{" + items.encode("ascii") + b"}" + region[whole:]


def from_text(text: bytes) -> bytes | None:
    """Parse the `{0x..}` text form back to cipher bytes + clear tail; None when `text` is not in that form."""
    if not text.startswith(b"{0x"):
        return None
    end = text.find(b"}")
    if end < 0:
        return None
    items = text[1:end].split(b",")
    out = bytearray()
    for item in items:
        if len(item) != 4 or item[:2] not in (b"0x", b"0X"):
            return None
        try:
            out.append(int(item[2:], 16))
        except ValueError:
            return None
    if len(out) % BLOCK:
        return None
    return bytes(out) + text[end + 1 :]
