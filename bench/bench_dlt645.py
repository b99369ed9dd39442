"""DL/T 645 and serial-text codec throughput (pure code, no port): how much CPU one poll costs."""

from __future__ import annotations

import time

from drivers.dlt645 import decode_frame, lookup, parse_read_reply, read_request, reply_length
from drivers.serialtext import ChecksumSpec, FieldSpec, TextSpec, parse_reply, xor8

REPLY = bytes.fromhex("FE FE FE FE 68 12 90 78 56 34 12 68 91 07 33 34 35 35 67 45 B3 4E 16")


def _rate(label: str, fn: object, n: int) -> None:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()  # type: ignore[operator]
    dt = time.perf_counter() - t0
    print(f"{label:<44} {n / dt:>12,.0f} /s  ({dt / n * 1e6:.1f} µs each)")


def main() -> None:
    item = lookup("current_a")
    _rate("dlt645 build read request", lambda: read_request("123456789012", item), 20000)
    _rate("dlt645 decode_frame", lambda: decode_frame(REPLY), 20000)
    _rate(
        "dlt645 parse reply + BCD value", lambda: item.decode(parse_read_reply(REPLY, "123456789012", item)[1]), 20000
    )

    def bytewise() -> None:
        for k in range(1, len(REPLY) + 1):
            reply_length(REPLY[:k])

    _rate("dlt645 reply_length fed byte by byte (23 B)", bytewise, 2000)
    spec = TextSpec(
        mode="stream",
        terminator="\\r\\n",
        start="$",
        separator=",",
        fields=tuple(FieldSpec(name=n, index=i + 1) for i, n in enumerate(("so2", "nox", "o2"))),
        checksum=ChecksumSpec(kind="xor8", start=1, gap=1),
    )
    line = b"$GAS,35.20,120.50,8.31*" + f"{xor8(b'GAS,35.20,120.50,8.31'):02X}".encode() + b"\r\n"
    _rate("serialtext parse streamed line (xor8, 3 fields)", lambda: parse_reply(spec, b"x\r\n" + line), 20000)
