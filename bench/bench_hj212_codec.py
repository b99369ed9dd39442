"""HJ 212 codec throughput: encode/decode of a typical 10-factor hour record (2017; 2025 + SM4), stream decoding.

Run: `.venv/bin/python -m bench hj212_codec`. Figures go to bench/README.md ("HJ 212 codec"); never asserted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from uplink.hj212 import Cp, Dialect, Frame, StreamDecoder, decode, encode, make_flag

FACTORS = ("a21026", "a21002", "a34013", "a19001", "a01011", "a01012", "a01013", "a01014", "a00000", "a21005")


def hour_frame(version: int) -> Frame:
    """A CEMS hour record (CN=2061): DataTime and 10 factors with Min/Avg/Max/Flag, as HJ 212 C.17 shapes it."""
    factors = [
        (code, {"Min": 10.0 + i, "Avg": 12.345 + i, "Max": 15.5 + i, "ZsAvg": 13.0 + i, "Flag": "N"})
        for i, code in enumerate(FACTORS)
    ]
    cp = Cp.build({"DataTime": datetime(2024, 6, 1, 8)}, factors, decimals=dict.fromkeys(FACTORS, 2))
    return Frame(
        "20240601090000001", "31", "2061", "123456", "010000A8900016F000169DC0", make_flag(version, answer=True), cp
    )


def _rate(fn: Callable[[], object], seconds: float = 1.0) -> float:
    """Calls per second of `fn`, measured over at least `seconds`."""
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(100):
            fn()
        n += 100
    return n / elapsed


def main() -> None:
    key = b"0" * 16
    cases = {
        "2017": Dialect(version=2017),
        "2025 plain": Dialect(version=2025),
        "2025 SM4 binary": Dialect(version=2025, encrypt=True, sm4_key=key),
        "2025 SM4 text": Dialect(version=2025, encrypt=True, sm4_key=key, cipher_wire="text", split_limit=4000),
    }
    for name, dialect in cases.items():
        frame = hour_frame(dialect.version)
        wire = encode(frame, dialect)
        assert decode(wire, dialect).frame == frame
        enc = _rate(lambda frame=frame, dialect=dialect: encode(frame, dialect))
        dec = _rate(lambda wire=wire, dialect=dialect: decode(wire, dialect))
        print(f"{name:16} frame {len(wire):5d} B  encode {enc:9.0f} frames/s  decode {dec:9.0f} frames/s")

    for name, dialect in (("2017", cases["2017"]), ("2025 SM4 binary", cases["2025 SM4 binary"])):
        wire = encode(hour_frame(dialect.version), dialect)
        stream = (b"noise" + wire) * (2_000_000 // (len(wire) + 5))
        for chunk in (4096, 64):
            decoder = StreamDecoder(dialect)
            start = time.perf_counter()
            count = 0
            for at in range(0, len(stream), chunk):
                count += len(decoder.feed(stream[at : at + chunk]))
            elapsed = time.perf_counter() - start
            mb = len(stream) / 1e6 / elapsed
            print(f"stream {name:16} chunk {chunk:5d} B  {mb:6.2f} MB/s  {count / elapsed:9.0f} frames/s")


if __name__ == "__main__":
    main()
