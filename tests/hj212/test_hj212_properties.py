"""Hypothesis: round trips, garbage and mutations raise only Hj212Error, chunking never changes the frames."""

from __future__ import annotations

import contextlib
import os
import string

import pytest
from hj212_golden import frames
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from uplink.hj212 import (
    Cp,
    CpError,
    CrcError,
    Decoded,
    Dialect,
    Frame,
    Hj212Error,
    StreamDecoder,
    crc16,
    decode,
    encode,
    make_flag,
    reassemble,
    split,
)

KEY = b"0" * 16
DIALECTS = [
    Dialect(version=2017, split_limit=9999),
    Dialect(version=2025, split_limit=9999),
    Dialect(version=2025, encrypt=True, sm4_key=KEY, split_limit=9999),
    Dialect(version=2025, encrypt=True, sm4_key=KEY, cipher_wire="text", split_limit=1500),
]
GOLDEN = frames("vectors_2017.txt") + frames("vectors_2025.txt")
# HJ212_EXAMPLES raises the example count for a longer local hunt; CI keeps the default.
SETTINGS = settings(
    max_examples=int(os.environ.get("HJ212_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

_key_chars = string.ascii_letters + string.digits
_value_chars = string.ascii_letters + string.digits + ".+-=: "
_log_chars = st.characters(blacklist_characters="/\r\n", blacklist_categories=("Cs",))
code = st.text(_key_chars, min_size=1, max_size=8)
key = st.one_of(code, st.builds(lambda c, s: f"{c}-{s}", code, code))
plain_value = st.text(_value_chars, max_size=12)
log_value = st.builds(lambda t: f"//{t}//", st.text(st.one_of(_log_chars, st.sampled_from(";,=清洗管路")), max_size=20))
value = st.one_of(plain_value, log_value)
group = st.lists(st.tuples(key, value), min_size=1, max_size=5).map(tuple)
cps = st.lists(group, max_size=8).map(lambda gs: Cp(tuple(gs)))


@st.composite
def frames_for(draw: st.DrawFn, version: int) -> Frame:
    return Frame(
        qn=draw(st.text(string.digits, min_size=17, max_size=17)),
        st=draw(st.text(string.digits + string.ascii_uppercase, min_size=2, max_size=2)),
        cn=draw(
            st.one_of(
                st.sampled_from(["2011", "2061", "3020", "1014", "9014", "9015"]),
                st.from_regex(r"\d{4}", fullmatch=True),
            )
        ),
        pw=draw(st.text(_key_chars, min_size=6, max_size=6)),
        mn=draw(st.text("0123456789ABCDEF", min_size=24, max_size=24)),
        flag=make_flag(version, answer=draw(st.booleans())),
        cp=draw(cps),
        rf=draw(st.booleans()) if version == 2025 else False,
    )


@SETTINGS
@given(st.data(), st.sampled_from(DIALECTS))
def test_encode_decode_roundtrip(data: st.DataObject, dialect: Dialect) -> None:
    frame = data.draw(frames_for(dialect.version))
    try:
        wire = encode(frame, dialect)
    except Hj212Error:
        assume(False)
    decoded = decode(wire, dialect, strict=True)
    assert decoded.frame == frame
    assert decoded.warnings == ()
    # The stream decoder agrees, whatever the chunking.
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=6)))
    decoder = StreamDecoder(dialect, strict=True)
    items = []
    for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True):
        items.extend(decoder.feed(wire[a:b]))
    assert [i.frame for i in items if isinstance(i, Decoded)] == [frame]
    assert len(items) == 1


@st.composite
def cp_with_empty_items(draw: st.DrawFn) -> tuple[Cp, str]:
    """A valid CP and its text with empty items: extra `,` in groups, `;`/`,` runs between, before and after.

    Generated CPs never held an empty item, so a trailing `,` dropped silently in strict mode went unseen.
    """
    cp = draw(cps)
    extra = st.text(";,", max_size=3)
    parts = [draw(extra)]
    for n, grp in enumerate(cp.groups):
        if n:
            parts.append(draw(extra) + ";" + draw(extra))
        parts.append(
            "".join((("," + draw(st.text(",", max_size=2))) if m else "") + f"{k}={v}" for m, (k, v) in enumerate(grp))
        )
    parts.append(draw(extra))
    return cp, "".join(parts)


@SETTINGS
@given(cp_with_empty_items(), st.sampled_from(DIALECTS[:2]))
def test_empty_cp_items_strict_rejects_lenient_keeps_bytes(case: tuple[Cp, str], dialect: Dialect) -> None:
    cp, text = case
    flag = make_flag(dialect.version, answer=True)
    segment = f"QN=20240601080000001;ST=31;CN=2011;PW=123456;MN={'0' * 24};Flag={flag};CP=&&{text}&&"
    body = segment.encode("utf-8")
    raw = b"##%04d" % len(body) + body + b"%04X\r\n" % crc16(body)
    if text == cp.text:
        assert decode(raw, dialect, strict=True).frame.cp == cp
        return
    with pytest.raises(CpError):
        decode(raw, dialect, strict=True)
    decoded = decode(raw, dialect)
    assert decoded.frame.cp == cp
    assert decoded.warnings
    assert encode(decoded.frame, dialect) == raw


@SETTINGS
@given(st.binary(max_size=400), st.sampled_from([None, *DIALECTS]), st.booleans())
def test_any_bytes_decode_or_raise_codec_error(data: bytes, dialect: Dialect | None, strict: bool) -> None:
    for raw in (data, b"##" + data, b"##%04d" % max(len(data) - 4, 0) + data + b"\r\n"):
        with contextlib.suppress(Hj212Error):
            decode(raw, dialect, strict=strict)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    raw = bytearray(draw(st.sampled_from(GOLDEN)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "replace"]))
        at = draw(st.integers(0, len(raw) - 1))
        byte = draw(st.sampled_from([*b"#;,=&\r\n0aF\x00\xff", draw(st.integers(0, 255))]))
        if kind == "flip":
            raw[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "insert":
            raw.insert(at, byte)
        elif kind == "delete" and len(raw) > 1:
            del raw[at]
        else:
            raw[at] = byte
    return bytes(raw)


@SETTINGS
@given(mutated(), st.sampled_from([None, *DIALECTS]), st.booleans())
def test_mutated_frames_decode_or_raise_codec_error(raw: bytes, dialect: Dialect | None, strict: bool) -> None:
    with contextlib.suppress(Hj212Error):
        decode(raw, dialect, strict=strict)
    items = StreamDecoder(dialect, strict=strict).feed(raw + GOLDEN[0])
    assert all(isinstance(i, Decoded | Hj212Error) for i in items)


@SETTINGS
@given(st.sampled_from(GOLDEN), st.data())
def test_one_corrupted_segment_byte_is_qnrtn_9(raw: bytes, data: st.DataObject) -> None:
    at = data.draw(st.integers(6, len(raw) - 7))
    new = data.draw(st.integers(0, 255).filter(lambda b: b != raw[at]))
    corrupted = raw[:at] + bytes([new]) + raw[at + 1 :]
    try:
        decode(corrupted)
    except CrcError as err:
        assert err.qn_rtn == 9
    else:
        raise AssertionError(f"corruption at {at} not detected")


def test_crc_high_byte_is_a_permutation() -> None:
    """Why one changed byte is always caught: only the high byte survives between bytes and it is a bijection."""
    assert len({crc16(bytes([0xFF ^ b])) >> 8 for b in range(256)}) == 256


@SETTINGS
@given(
    st.lists(st.binary(max_size=60), max_size=5),
    st.lists(st.sampled_from(GOLDEN), min_size=1, max_size=6),
    st.lists(st.integers(1, 200), max_size=30),
)
def test_stream_chunking_gives_same_frames(junk: list[bytes], picked: list[bytes], sizes: list[int]) -> None:
    parts = []
    for i, frame in enumerate(picked):
        parts.append(junk[i].replace(b"#", b"") if i < len(junk) else b"")
        parts.append(frame)
    stream = b"".join(parts)
    whole = [i.raw for i in StreamDecoder().feed(stream) if isinstance(i, Decoded)]
    assert whole == picked
    decoder = StreamDecoder()
    chunked = []
    pos = 0
    for size in sizes:
        chunked.extend(decoder.feed(stream[pos : pos + size]))
        pos += size
    chunked.extend(decoder.feed(stream[pos:]))
    assert [i.raw for i in chunked if isinstance(i, Decoded)] == picked
    bytewise = StreamDecoder()
    single = [item for b in range(len(stream)) for item in bytewise.feed(stream[b : b + 1])]
    assert [i.raw for i in single if isinstance(i, Decoded)] == picked


@SETTINGS
@given(st.data(), st.integers(300, 1024))
def test_split_reassemble_roundtrip(data: st.DataObject, limit: int) -> None:
    factors = data.draw(
        st.lists(
            st.tuples(code, st.dictionaries(st.sampled_from(["Avg", "Min", "Max", "Flag", "RawAvg"]), plain_value)),
            min_size=1,
            max_size=60,
        )
    )
    cp = Cp.build({"DataTime": "20240601080000"}, [(c, v) for c, v in factors if v])
    frame = Frame("20240601080000001", "31", "2061", "123456", "0" * 24, make_flag(2025, answer=True), cp)
    counter = iter(range(10**6))
    parts = split(frame, limit, lambda: f"20240601080000{next(counter) % 1000:03d}")
    for part in parts:
        assert len(encode(part, Dialect(version=2025, split_limit=limit))) - 12 <= limit
    if len(parts) > 1:
        assert all(p.is_split and p.pnum == len(parts) and p.cp.get("DataTime") for p in parts)
        assert len({p.qn for p in parts}) == len(parts)
        assert reassemble(list(reversed(parts))) == Frame(
            parts[0].qn, frame.st, frame.cn, frame.pw, frame.mn, frame.flag, frame.cp
        )
    else:
        assert parts == [frame]
