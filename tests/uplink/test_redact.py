"""Secrets masked in what is logged or printed (uplink/commands/redact.py)."""

from __future__ import annotations

from uplink.commands.redact import redact, shown


def test_pw_newpw_and_newsk_values_are_masked_other_fields_kept() -> None:
    text = "QN=1;ST=32;CN=1072;PW=123456;MN=X;Flag=5;CP=&&NewPW=Kp4Rt9;SKCreateTime=1,NewSK=Hv3Ns8Lm2Qc6Bx5J&&"
    assert redact(text) == ("QN=1;ST=32;CN=1072;PW=******;MN=X;Flag=5;CP=&&NewPW=******;SKCreateTime=1,NewSK=******&&")
    assert redact("a21026-Rtd=12.3,SPW=1") == "a21026-Rtd=12.3,SPW=1"  # only whole field names


def test_binary_bytes_are_escaped_on_one_line() -> None:
    assert shown(b"##0010\x00\xffPW=654321;\r\n") == "##0010\\x00\\xffPW=******;"
