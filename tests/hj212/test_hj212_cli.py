"""`das packet decode|encode` on the golden files, a corrupted copy, a raw stream and JSON input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from hj212_golden import HERE, frames
from typer.main import get_command
from typer.testing import CliRunner

from agent.cli.packet import register
from uplink.hj212 import crc16, decode

GOLDEN_FILE = HERE / "vectors_2017.txt"
KEY = "0" * 16


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:  # keeps `packet` a sub-command
        pass

    return app


def _run(args: list[str], data: bytes | str | None = None) -> tuple[int, list[dict]]:
    result = CliRunner().invoke(_app(), ["packet", *args], input=data)
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result.exit_code, lines


def test_das_packet_decode_golden_file_via_entry_point() -> None:
    code = "import sys; sys.argv = ['das', 'packet', 'decode', sys.argv[1]]; from agent.cli import main; main()"
    proc = subprocess.run([sys.executable, "-c", code, str(GOLDEN_FILE)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(results) == 10 and all(r["ok"] for r in results)
    hour = next(r for r in results if r["cn"] == "2061")
    assert hour["version"] == 2017 and hour["wants_answer"] is True and hour["split"] is None
    assert hour["cp"]["factors"]["w01018"]["Avg"] == "40.1"
    assert hour["cp"]["groups"][0] == [["DataTime", "20160801080000"]]
    assert results[-1]["cp"]["factors"]["i11001"]["Info"] == "//清洗管路//"


def test_decode_corrupted_copy_reports_qnrtn(tmp_path: Path) -> None:
    lines = GOLDEN_FILE.read_text(encoding="utf-8").splitlines()
    corrupted = [ln.replace("OverTime=5", "OverTime=6") for ln in lines]
    corrupted = [ln.replace("PW=100000", "PW=10000") if "CN=1062" in ln else ln for ln in corrupted]
    path = tmp_path / "corrupted.txt"
    path.write_text("\n".join(corrupted) + "\n", encoding="utf-8")
    code, results = _run(["decode", str(path)])
    assert code == 1
    bad = [r for r in results if not r["ok"]]
    assert [(r["error_type"], r["qn_rtn"]) for r in bad] == [("CrcError", 9), ("CrcError", 9)]
    assert all("CRC" in r["error"] for r in bad)
    assert sum(r["ok"] for r in results) == 8


def test_decode_stream_from_stdin() -> None:
    raw = b"junk" + b"".join(frames("vectors_2017.txt"))
    code, results = _run(["decode", "--stream"], raw)
    assert code == 0 and len(results) == 10 and all(r["ok"] for r in results)


def test_encode_reproduces_decoded_frames() -> None:
    for raw in frames("vectors_2017.txt"):
        _, (decoded,) = _run(["decode"], raw)
        result = CliRunner().invoke(_app(), ["packet", "encode", json.dumps(decoded)])
        assert result.exit_code == 0
        assert result.stdout_bytes == raw


def test_encode_2025_encrypted_and_decode_back() -> None:
    spec = {
        "qn": "20240520210700000",
        "st": "31",
        "cn": "2051",
        "pw": "123456",
        "mn": "010000A8900016F000169DC0",
        "answer": True,
        "cp": "DataTime=20240520210600;a01011-Min=1.35,a01011-Avg=1.35,a01011-Max=1.35,a01011-Flag=N;"
        "a01014-Min=3.20,a01014-Avg=3.20,a01014-Max=3.20,a01014-Flag=N",
    }
    args = ["--version", "2025", "--sm4-key", KEY, "--cipher-wire", "text"]
    result = CliRunner().invoke(_app(), ["packet", "encode", *args], input=json.dumps(spec) + "\n")
    assert result.exit_code == 0, result.output
    wire = result.stdout_bytes
    assert wire.endswith(b"0x0D,0x03,0xA4}g=N&&B541\r\n")
    code, (decoded,) = _run(["decode", *args], wire)
    assert code == 0 and decoded["ok"] and decoded["flag"] == 9 and decoded["cp"]["text"] == spec["cp"]
    code, (no_key,) = _run(["decode", "--version", "2025"], wire)
    assert code == 1 and no_key["error_type"] == "CipherError"


def test_encode_bad_json_is_a_clear_error() -> None:
    result = CliRunner().invoke(_app(), ["packet", "encode", '{"st": "32"}'])
    assert result.exit_code == 1
    assert "cannot be encoded" in result.output


def test_decode_encode_keeps_a_trailing_comma_received_leniently() -> None:
    """A capture with `…a21026-Rtd=1,&&` decodes with a warning and `encode` gives the captured bytes back."""
    segment = b"QN=20160801085857223;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&a21026-Rtd=1,&&"
    raw = b"##%04d" % len(segment) + segment + b"%04X\r\n" % crc16(segment)
    code, (strict,) = _run(["decode", "--strict"], raw)
    assert code == 1 and strict["error_type"] == "CpError" and strict["qn_rtn"] == 100
    code, (decoded,) = _run(["decode"], raw)
    assert code == 0 and decoded["warnings"] and decoded["cp"]["text"] == "a21026-Rtd=1,"
    result = CliRunner().invoke(_app(), ["packet", "encode", json.dumps(decoded)])
    assert result.exit_code == 0 and result.stdout_bytes == raw
    decoded["cp"]["groups"] = [[["a21026-Rtd", "2"]]]  # edited by hand: the groups win over the stale text
    result = CliRunner().invoke(_app(), ["packet", "encode", json.dumps(decoded)])
    assert result.exit_code == 0 and b"CP=&&a21026-Rtd=2&&" in result.stdout_bytes


def test_encode_without_qn_makes_one_now_and_says_so() -> None:
    """Audit of issue 2: encode required `qn`; a hand-written frame now gets a fresh 17-digit QN (current time)."""
    spec = {"st": "32", "cn": "2011", "pw": "123456", "mn": "010000A8900016F000169DC0", "cp": "a21026-Rtd=1"}
    before = datetime.now().replace(microsecond=0)
    result = CliRunner().invoke(_app(), ["packet", "encode", json.dumps(spec)])
    after = datetime.now()
    assert result.exit_code == 0, result.output
    frame = decode(result.stdout_bytes, strict=True).frame
    assert frame.qn is not None and len(frame.qn) == 17
    assert before <= datetime.strptime(frame.qn, "%Y%m%d%H%M%S%f") <= after
    assert "QN" in result.stderr and frame.qn in result.stderr
    several = CliRunner().invoke(_app(), ["packet", "encode"], input=(json.dumps(spec) + "\n") * 3)
    assert several.exit_code == 0, several.output
    qns = [line.split(b";")[0] for line in several.stdout_bytes.split(b"\r\n") if line]
    assert len(set(qns)) == 3  # QN names an exchange: frames made in one millisecond still differ


def _frame(segment: bytes) -> bytes:
    return b"##%04d" % len(segment) + segment + b"%04X\r\n" % crc16(segment)


HOUR = b"QN=20160801085857223;ST=32;CN=2061;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&w01018-Avg=40.1&&"


def test_decode_expect_mn_pw_gives_the_platforms_qnrtn() -> None:
    """Audit of issue 2: a lenient decode said ok for a capture with another site's PW; a platform answers 3."""
    raw = _frame(HOUR)
    mn = "010000A8900016F000169DC0"
    cases = [
        ([], True, None),
        (["--expect-mn", mn, "--expect-pw", "123456"], True, None),
        (["--expect-pw", "654321"], False, ("PwError", 3)),
        (["--expect-mn", "010000A8900016F000169DC1"], False, ("MnError", 4)),
        (["--expect-mn", "X" * 24, "--expect-pw", "654321"], False, ("MnError", 4)),  # MN is checked first
        (["--strict", "--expect-pw", "654321"], False, ("PwError", 3)),
    ]
    for args, ok, error in cases:
        code, (result,) = _run(["decode", *args], raw)
        assert (code, result["ok"]) == (0 if ok else 1, ok), args
        if error:
            assert (result["error_type"], result["qn_rtn"]) == error
            assert result["mn"] == mn and result["cn"] == "2061"  # the frame is still shown beside the verdict
            assert "PW" in result["error"] or "MN" in result["error"]
    code, results = _run(["decode", "--expect-pw", "123456", str(GOLDEN_FILE)])
    assert code == 1
    assert [(r["pw"], r["qn_rtn"]) for r in results if not r["ok"]] == [("100000", 3)]  # the 1062 request


def test_lenient_decode_shows_what_a_strict_platform_answers() -> None:
    """Without expectations a lenient decode stays ok, but each header defect is a warning naming the field and
    `strict` carries the QnRtn a strict platform answers (wrong PW 3, MN 4, ST 5, QN 7)."""
    defects = [
        (b"PW=123456", b"PW=12345", "PW", 3),
        (b"MN=010000A8900016F000169DC0", b"MN=01.00", "MN", 4),
        (b"ST=32", b"ST=3", "ST", 5),
        (b"QN=20160801085857223", b"QN=2016080108585722", "QN", 7),
    ]
    for old, new, name, qn_rtn in defects:
        code, (result,) = _run(["decode"], _frame(HOUR.replace(old, new)))
        assert code == 0 and result["ok"] is True
        assert any(name in w for w in result["warnings"]), result["warnings"]
        assert result["strict"]["ok"] is False and result["strict"]["qn_rtn"] == qn_rtn, result["strict"]
    code, (clean,) = _run(["decode"], _frame(HOUR))
    assert clean["warnings"] == [] and clean["strict"] == {"ok": True}


def test_every_packet_help_is_chinese_and_english() -> None:
    """User-facing text is `中文 / English` (DEVELOPERS.md); checked for every command, option and argument."""

    def helps(command: Any, path: str) -> Iterator[tuple[str, str | None]]:
        yield path, command.help  # typer carries its own click: read attributes, not click types
        for param in command.params:
            if param.name != "help":
                yield f"{path} {param.name}", getattr(param, "help", None)
        for name, sub in getattr(command, "commands", {}).items():
            yield from helps(sub, f"{path} {name}")

    app = typer.Typer(add_completion=False)
    register(app)
    packet = get_command(app).commands["packet"]  # type: ignore[attr-defined]
    missing = [
        w for w, text in helps(packet, "das packet") if not re.search(r"[\u4e00-\u9fff].* / .*[A-Za-z]", text or "")
    ]
    assert not missing, missing
