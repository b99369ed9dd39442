"""Regression: a binary SM4 frame whose cipher bytes happen to match the plaintext CRC was read as plaintext.

Found by the five-platform uplink test: the HJ 212 Appendix A CRC over the ciphertext equalled the CRC of the
plaintext in about 1 frame of 250, so the reference platform rejected the frame ("CP is not UTF-8") and the
session's upload was refused. A CRC match is now accepted as "sent in clear" only when the region is text.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from agent.model import RecordKind
from uplink.cp_build import record_to_cp
from uplink.hj212 import Dialect, Frame, decode, encode
from uplink.testing import DECIMALS, window_record

DIALECT = Dialect(version=2025, encrypt=True, sm4_key=b"0123456789abcdef", cipher_wire="binary")


def test_every_binary_sm4_upload_decodes_to_what_was_sent() -> None:
    failures = []
    for i in range(1500):
        record = window_record("o1", RecordKind.HOUR, datetime(2026, 1, 5) + timedelta(hours=i), i, ("a21026",))
        frame = Frame(f"202601060000{i:05d}", "31", "2061", "123456", "MNP2025BIN", 9, record_to_cp(record, DECIMALS))
        got = decode(encode(frame, DIALECT), DIALECT, strict=True).frame
        if got.cp != frame.cp:
            failures.append(i)
    assert failures == []
