"""Replies echo the request's QN with ST=91 and the dialect's no-answer Flag (golden 9011/9012/9014, 2025 9013)."""

from __future__ import annotations

from datetime import datetime

from hj212_golden import frames

from uplink.hj212 import (
    Dialect,
    ExeRtn,
    QnRtn,
    decode,
    encode,
    make_flag,
    new_qn,
    reply_9011,
    reply_9012,
    reply_9013,
    reply_9014,
)

GOLDEN = frames("vectors_2017.txt")
GOLDEN_2025 = frames("vectors_2025.txt")


def test_2017_replies_match_golden() -> None:
    request = decode(GOLDEN[1]).frame  # CN=1000, PW=123456
    d = Dialect()
    assert encode(reply_9011(request, QnRtn.READY, d), d) == GOLDEN[2]
    assert encode(reply_9012(request, ExeRtn.SUCCESS, d), d) == GOLDEN[3]
    assert encode(reply_9014(request, d), d) == GOLDEN[4]


def test_2025_heartbeat_answer_matches_golden() -> None:
    d = Dialect(version=2025)
    heartbeat = decode(GOLDEN_2025[3], d).frame
    assert encode(reply_9013(heartbeat, d), d) == GOLDEN_2025[4]


def test_make_flag() -> None:
    assert [make_flag(2017, answer=a, split=s) for s in (False, True) for a in (False, True)] == [4, 5, 6, 7]
    assert [make_flag(2025, answer=a, split=s) for s in (False, True) for a in (False, True)] == [8, 9, 10, 11]
    assert make_flag(2005, answer=False) == 0


def test_new_qn() -> None:
    assert new_qn(datetime(2016, 8, 1, 8, 58, 57, 223456)) == "20160801085857223"
