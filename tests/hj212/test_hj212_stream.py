"""The stream decoder gives the same frames whole, byte by byte and in random chunks; it resyncs after garbage."""

from __future__ import annotations

import random

from hj212_golden import frames, sm4_vectors

from uplink.hj212 import CrcError, Decoded, Dialect, Hj212Error, LengthError, StreamDecoder, decode, encode

GOLDEN = frames("vectors_2017.txt")
STREAM = b"".join(GOLDEN)


def _feed(decoder: StreamDecoder, data: bytes, sizes: list[int]) -> list[Decoded | Hj212Error]:
    out: list[Decoded | Hj212Error] = []
    pos = 0
    for size in sizes:
        out.extend(decoder.feed(data[pos : pos + size]))
        pos += size
    out.extend(decoder.feed(data[pos:]))
    return out


def _shape(items: list[Decoded | Hj212Error]) -> list[object]:
    return [i.frame if isinstance(i, Decoded) else (type(i).__name__, i.qn_rtn) for i in items]


def test_whole_bytewise_and_random_chunks_agree() -> None:
    whole = StreamDecoder().feed(STREAM)
    assert [d.raw for d in whole] == GOLDEN
    bytewise = _feed(StreamDecoder(), STREAM, [1] * len(STREAM))
    assert _shape(bytewise) == _shape(whole)
    rng = random.Random(212)
    for _ in range(20):
        sizes = [rng.randint(1, 300) for _ in range(40)]
        assert _shape(_feed(StreamDecoder(), STREAM, sizes)) == _shape(whole)


def test_garbage_before_frames_is_skipped() -> None:
    decoder = StreamDecoder()
    items = decoder.feed(b"\x00\xffgarbage#\r\n##x" + GOLDEN[0] + b"#" + GOLDEN[1])
    assert [i.raw for i in items] == GOLDEN[:2]
    assert decoder.discarded > 0
    assert decoder.pending == 0


def test_bad_frame_yields_error_and_decoding_goes_on() -> None:
    bad = GOLDEN[1][:-6] + b"0000\r\n"
    items = StreamDecoder().feed(GOLDEN[0] + bad + GOLDEN[2])
    assert isinstance(items[1], CrcError) and items[1].qn_rtn == 9 and items[1].raw == bad
    assert [i.raw for i in items if isinstance(i, Decoded)] == [GOLDEN[0], GOLDEN[2]]


def test_length_over_limit_rejected_without_buffering() -> None:
    decoder = StreamDecoder(max_length=1024)
    items = decoder.feed(b"##9000QN=")
    assert len(items) == 1 and isinstance(items[0], LengthError)
    assert decoder.pending < 16
    assert [i.raw for i in decoder.feed(GOLDEN[0])] == [GOLDEN[0]]


def test_binary_cipher_with_crlf_and_hash_framed_by_length() -> None:
    key = sm4_vectors()["hj212.key"]
    d = Dialect(version=2025, encrypt=True, sm4_key=key)
    plain = frames("vectors_2025.txt")[1]
    wire = encode(decode(plain, Dialect(version=2025)).frame, d)
    assert b"\r" in wire[6:-2] or b"\n" in wire[6:-2]
    stream = wire + GOLDEN[0] + wire
    items = _feed(StreamDecoder(d), stream, [1] * len(stream))
    assert [type(i) for i in items] == [Decoded] * 3
    assert items[0].frame == decode(plain, Dialect(version=2025)).frame


def test_character_counted_frame_in_stream() -> None:
    chinese = GOLDEN[-1]
    counted = b"##0144" + chinese[6:]
    items = _feed(StreamDecoder(), counted + GOLDEN[0], [1] * (len(counted) + len(GOLDEN[0])))
    assert isinstance(items[0], Decoded) and items[0].warnings
    assert items[1].raw == GOLDEN[0]
    strict = StreamDecoder(strict=True).feed(counted + GOLDEN[0])
    assert isinstance(strict[0], Hj212Error)
    assert strict[-1].raw == GOLDEN[0]
