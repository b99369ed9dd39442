"""SM4-ECB of the CP region (HJ 212-2025 §6.4, A.2) against GB/T 32907 and the standard's worked examples."""

from __future__ import annotations

import pytest
from hj212_golden import frames, sm4_vectors

from uplink.hj212 import CipherError, CrcError, Dialect, LengthError, decode, encode
from uplink.hj212._sm4 import decrypt_region, encrypt_region, from_text, to_text

V = sm4_vectors()
KEY = V["hj212.key"]
EXAMPLE1, EXAMPLE3 = frames("vectors_2025.txt")[1:3]
BINARY = Dialect(version=2025, encrypt=True, sm4_key=KEY)
TEXT = Dialect(version=2025, encrypt=True, sm4_key=KEY, cipher_wire="text")


def _region(raw: bytes) -> bytes:
    start = raw.index(b"CP=&&") + 5
    return raw[start : raw.rindex(b"&&")]


def test_gbt32907_vector() -> None:
    assert KEY == b"0" * 16
    assert encrypt_region(V["gbt32907.key"], V["gbt32907.plain"]) == V["gbt32907.cipher"]
    assert decrypt_region(V["gbt32907.key"], V["gbt32907.cipher"]) == V["gbt32907.plain"]


def test_example1_binary_form_keeps_plaintext_length_and_crc() -> None:
    frame = decode(EXAMPLE1, Dialect(version=2025), strict=True).frame
    wire = encode(frame, BINARY)
    assert wire.startswith(b"##0295") and wire.endswith(b"&&2200\r\n")
    assert _region(wire) == V["example1.cipher"]
    assert V["example1.cipher"].hex().upper().startswith("E43E159ACFAB242CB53155FB8B9281A1")
    assert decode(wire, BINARY, strict=True).frame == frame


def test_example3_tail_stays_in_clear() -> None:
    frame = decode(EXAMPLE3, Dialect(version=2025), strict=True).frame
    wire = encode(frame, BINARY)
    assert wire.startswith(b"##0234") and wire.endswith(b"g=N&&B541\r\n")
    assert _region(wire) == V["example3.cipher"] + V["example3.tail"]
    assert decode(wire, BINARY, strict=True).frame == frame


def test_text_form_counts_its_own_bytes() -> None:
    frame = decode(EXAMPLE3, Dialect(version=2025), strict=True).frame
    wire = encode(frame, TEXT)
    segment_length = len(wire) - 12
    assert wire.startswith(b"##%04d" % segment_length)
    assert wire.endswith(b",0x0D,0x03,0xA4}g=N&&B541\r\n")
    assert from_text(_region(wire)) == V["example3.cipher"] + b"g=N"
    assert decode(wire, TEXT, strict=True).frame == frame
    # The receiver recognises either form whatever its own send form is.
    assert decode(wire, BINARY, strict=True).frame == frame


def test_printed_text_example_with_plaintext_length_is_read_leniently() -> None:
    """The standard prints `##0295…CP=&&{0xE4,…}&&2200`: LLLL is the plaintext length there."""
    printed = EXAMPLE1.replace(_region(EXAMPLE1), to_text(V["example1.cipher"]))
    assert printed.startswith(b"##0295")
    decoded = decode(printed, BINARY)
    assert decoded.frame == decode(EXAMPLE1, Dialect(version=2025)).frame
    assert any("plaintext" in w for w in decoded.warnings)
    with pytest.raises(LengthError):
        decode(printed, BINARY, strict=True)


def test_cipher_bytes_with_cr_lf_and_hash() -> None:
    # hj212-2025.md §2: both examples hold CR/LF bytes in the ciphertext, so framing is strictly by LLLL.
    assert b"\r" in V["example1.cipher"] or b"\n" in V["example1.cipher"]


def test_wrong_key_gives_crc_error_with_hint() -> None:
    wire = encode(decode(EXAMPLE1, Dialect(version=2025)).frame, BINARY)
    other = Dialect(version=2025, encrypt=True, sm4_key=b"1" * 16)
    with pytest.raises(CrcError) as err:
        decode(wire, other)
    assert err.value.qn_rtn == 9
    assert "SM4" in str(err.value)


def test_text_form_without_key_is_a_cipher_error() -> None:
    wire = encode(decode(EXAMPLE1, Dialect(version=2025)).frame, TEXT)
    with pytest.raises(CipherError):
        decode(wire, Dialect(version=2025))


def test_only_named_cns_are_encrypted() -> None:
    heartbeat, answer = frames("vectors_2025.txt")[3:5]
    for raw in (heartbeat, answer):
        frame = decode(raw, Dialect(version=2025)).frame
        assert encode(frame, BINARY) == raw  # 9015 and 9013 travel in clear
    key_request = frames("vectors_2025.txt")[7]  # CN=1014, a 33-byte region: 2 blocks encrypted
    frame = decode(key_request, Dialect(version=2025)).frame
    wire = encode(frame, BINARY)
    assert wire != key_request and wire[:6] == key_request[:6] and wire[-8:] == key_request[-8:]
    assert decode(wire, BINARY).frame == frame


def test_plaintext_request_accepted_by_encrypting_dialect() -> None:
    """Whether platform→DAS 2xxx requests are encrypted is uncertain (hj212-2025.md §2): plaintext is read as is."""
    assert decode(EXAMPLE1, BINARY, strict=True).frame == decode(EXAMPLE1, Dialect(version=2025)).frame
