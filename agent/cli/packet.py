"""`das packet decode|encode`: read and build HJ 212 frames from the command line.

`decode` prints one JSON object per frame (JSON Lines), so a field capture, a golden file or a platform log can be
inspected and diffed; `encode` builds frames from the same JSON. The dialect (version, SM4 key, cipher wire form)
is given on the command line, never guessed from the frames (hj212-2025.md §8).
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer

from uplink.hj212 import (
    Cp,
    CpError,
    Decoded,
    Dialect,
    Frame,
    Hj212Error,
    StreamDecoder,
    decode,
    encode,
    make_flag,
    new_qn,
    validate,
)

VersionOpt = Annotated[int | None, typer.Option("--version", help="HJ 212 版本 / version: 2017 or 2025")]
KeyOpt = Annotated[
    str | None,
    typer.Option("--sm4-key", help="SM4 密钥: 16 个字符或 32 位十六进制 / key: 16 characters or 32 hex digits"),
]
WireOpt = Annotated[
    str, typer.Option("--cipher-wire", help="密文形式 binary 或 text {0x..} / cipher wire form: binary or text")
]


def _key(text: str | None) -> bytes | None:
    if text is None:
        return None
    if len(text) == 32:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    raw = text.encode("utf-8")
    if len(raw) != 16:
        raise typer.BadParameter("SM4 密钥须为 16 字节 / the SM4 key must be 16 characters or 32 hex digits")
    return raw


def _dialect(
    version: int | None, key: str | None, wire: str, *, encrypt: bool = False, split_limit: int = 1024
) -> Dialect | None:
    sm4_key = _key(key)
    if version is None and sm4_key is None and wire == "binary" and split_limit == 1024:
        return None
    try:
        return Dialect(
            version=version or (2025 if sm4_key else 2017),
            encrypt=encrypt and sm4_key is not None,
            sm4_key=sm4_key,
            cipher_wire=wire,
            split_limit=split_limit,
        )
    except ValueError as err:
        raise typer.BadParameter(str(err)) from err


def frame_json(frame: Frame) -> dict[str, Any]:
    """The frame as plain JSON: header, version bits, split info and the CP as groups plus a factors map."""
    return {
        "qn": frame.qn,
        "st": frame.st,
        "cn": frame.cn,
        "pw": frame.pw,
        "mn": frame.mn,
        "flag": frame.flag,
        "version": frame.version,
        "wants_answer": frame.wants_answer,
        "split": {"pnum": frame.pnum, "pno": frame.pno} if frame.pnum is not None else None,
        "rf": frame.rf,
        "cp": {
            "text": frame.cp.text,
            "groups": [[list(item) for item in group] for group in frame.cp.groups],
            "factors": frame.cp.factors(),
        },
    }


def _lines(stream: BinaryIO, source: str) -> Iterator[tuple[str, bytes]]:
    """Frames one per line; `# …` comments and blank lines skipped (a `##` line is a frame)."""
    for number, line in enumerate(stream, start=1):
        line = line.rstrip(b"\r\n")
        if not line.strip() or (line.startswith(b"#") and not line.startswith(b"##")):
            continue
        yield f"{source}:{number}", line + b"\r\n"


def _inputs(files: list[Path] | None) -> Iterator[tuple[str, BinaryIO]]:
    if not files:
        yield "stdin", sys.stdin.buffer
        return
    for path in files:
        try:
            with path.open("rb") as handle:
                yield str(path), handle
        except OSError as err:
            raise typer.BadParameter(f"无法读取 / cannot read {path}: {err.strerror}") from err


@dataclass(frozen=True, slots=True)
class Checks:
    """How `decode` judges a frame: strict or lenient, and the site's MN/PW a platform would check it against."""

    dialect: Dialect | None = None
    strict: bool = False
    expect_mn: str | None = None
    expect_pw: str | None = None

    @property
    def validates(self) -> bool:
        return self.strict or self.expect_mn is not None or self.expect_pw is not None

    def platform_check(self, frame: Frame) -> None:
        """The request checks of a platform (HJ 212 §6.5: MN 4, PW 3, ST 5, Flag 6, QN 7, CN 8)."""
        validate(frame, expect_mn=self.expect_mn, expect_pw=self.expect_pw, dialect=self.dialect)


def _error(source: str, err: Hj212Error) -> dict[str, Any]:
    return {"ok": False, "source": source, "error": str(err), "error_type": type(err).__name__, "qn_rtn": err.qn_rtn}


def _strict_verdict(item: Decoded, checks: Checks) -> dict[str, Any]:
    """What a strict platform answers to the same bytes: a lenient `ok` can hide a PW or QN it would refuse."""
    try:
        frame = item.frame if checks.strict else decode(item.raw, checks.dialect, strict=True).frame
        checks.platform_check(frame)
    except Hj212Error as err:
        return {"ok": False, "error": str(err), "error_type": type(err).__name__, "qn_rtn": err.qn_rtn}
    return {"ok": True}


def _result(source: str, item: Decoded | Hj212Error, checks: Checks = Checks()) -> dict[str, Any]:
    """One JSON line. With --strict or --expect-mn/--expect-pw the frame must also pass the platform's checks
    (`ok: false` with their QnRtn, beside the decoded frame); `strict` always says what a strict platform answers."""
    if isinstance(item, Hj212Error):
        return _error(source, item)
    shown = {**frame_json(item.frame), "warnings": list(item.warnings)}
    strict = _strict_verdict(item, checks)
    if checks.validates:
        try:
            checks.platform_check(item.frame)
        except Hj212Error as err:
            return {**_error(source, err), **shown, "strict": strict}
    return {"ok": True, "source": source, **shown, "strict": strict}


def _decode_all(files: list[Path] | None, checks: Checks, stream: bool) -> Iterable[dict]:
    dialect, strict = checks.dialect, checks.strict
    for source, handle in _inputs(files):
        if stream:
            decoder = StreamDecoder(dialect, strict=strict)
            count = 0
            while chunk := handle.read(65536):
                for item in decoder.feed(chunk):
                    count += 1
                    yield _result(f"{source}#{count}", item, checks)
            if decoder.pending:
                yield {
                    "ok": False,
                    "source": source,
                    "error": f"流结束时有 {decoder.pending} 字节未成帧 / {decoder.pending} bytes unframed at the end",
                    "error_type": "FrameError",
                    "qn_rtn": 100,
                }
            continue
        for where, raw in _lines(handle, source):
            try:
                item: Decoded | Hj212Error = decode(raw, dialect, strict=strict)
            except Hj212Error as err:
                item = err
            yield _result(where, item, checks)


def _cp_from_json(value: Any) -> Cp:
    if value is None:
        return Cp()
    if isinstance(value, str):
        return Cp.parse(value)
    if isinstance(value, dict) and "groups" in value:
        groups = tuple(tuple((str(k), str(v)) for k, v in group) for group in value["groups"])
        text = value.get("text")
        if isinstance(text, str):
            # decode's text differs from the groups only when lenient decoding read past empty items: keep those
            # bytes. Groups edited by hand no longer read as the text: the groups win, as before.
            with contextlib.suppress(CpError):
                return Cp(groups, source=text)
        return Cp(groups)
    if isinstance(value, dict) and "text" in value:
        return Cp.parse(value["text"])
    if isinstance(value, dict):
        factors = value.get("factors") or {}
        pairs = list(factors.items()) if isinstance(factors, dict) else [(c, v) for c, v in factors]
        return Cp.build(value.get("plain") or {}, pairs, value.get("decimals"))
    raise ValueError("cp 须为文本或对象 / cp must be text or an object with groups, text or plain/factors")


def frame_from_json(obj: dict[str, Any], version: int) -> Frame:
    """A Frame from `decode`'s JSON (or a hand-written subset: `answer` instead of `flag`, cp as text)."""
    split = obj.get("split") or {}
    pnum = obj.get("pnum", split.get("pnum"))
    pno = obj.get("pno", split.get("pno"))
    flag = obj.get("flag")
    if flag is None:
        flag = make_flag(version, answer=bool(obj.get("answer", obj.get("wants_answer", True))), split=pnum is not None)
    return Frame(
        qn=obj.get("qn"),
        st=str(obj["st"]),
        cn=str(obj["cn"]),
        pw=str(obj["pw"]),
        mn=str(obj["mn"]),
        flag=int(flag),
        cp=_cp_from_json(obj.get("cp")),
        pnum=pnum,
        pno=pno,
        rf=bool(obj.get("rf", False)),
    )


def register(app: typer.Typer) -> None:
    packet = typer.Typer(help="HJ 212 报文解码/编码 / decode and encode HJ 212 frames.", no_args_is_help=True)
    app.add_typer(packet, name="packet")

    @packet.command("decode")
    def decode_cmd(
        files: Annotated[
            list[Path] | None, typer.Argument(help="报文文件, 缺省读标准输入 / files (stdin if none)")
        ] = None,
        stream: Annotated[
            bool, typer.Option("--stream", help="按字节流解析 (非逐行) / read a raw byte stream, not lines")
        ] = False,
        strict: Annotated[bool, typer.Option("--strict", help="严格模式 / strict checks (what we send)")] = False,
        version: VersionOpt = None,
        sm4_key: KeyOpt = None,
        cipher_wire: WireOpt = "binary",
        expect_mn: Annotated[
            str | None,
            typer.Option("--expect-mn", help="本站 MN, 不符则 QnRtn=4 / this site's MN: another MN fails with QnRtn 4"),
        ] = None,
        expect_pw: Annotated[
            str | None,
            typer.Option(
                "--expect-pw", help="本站访问密码, 不符则 QnRtn=3 / this site's PW: another PW fails with QnRtn 3"
            ),
        ] = None,
    ) -> None:
        """解码报文, 每帧输出一行 JSON / decode frames, one JSON object per frame; exit 1 if any frame is bad."""
        checks = Checks(_dialect(version, sm4_key, cipher_wire), strict, expect_mn, expect_pw)
        all_ok = True
        for result in _decode_all(files, checks, stream):
            all_ok &= result["ok"]
            typer.echo(json.dumps(result, ensure_ascii=False))
        raise typer.Exit(0 if all_ok else 1)

    @packet.command("encode")
    def encode_cmd(
        frame_json_arg: Annotated[
            str | None, typer.Argument(metavar="JSON", help="帧 JSON, 缺省读标准输入 (每行一个) / frame JSON, or stdin")
        ] = None,
        version: VersionOpt = None,
        sm4_key: KeyOpt = None,
        cipher_wire: WireOpt = "binary",
        split_limit: Annotated[int, typer.Option(help="数据段上限 / data segment limit in bytes")] = 1024,
    ) -> None:
        """由 JSON 编码报文 (decode 的输出可直接用, 无 qn 则按当前时间生成) / build frames from JSON (decode's output
        works as input; a missing qn is made from the current time)."""
        dialect = _dialect(version, sm4_key, cipher_wire, encrypt=True, split_limit=split_limit) or Dialect()
        texts = [frame_json_arg] if frame_json_arg is not None else [ln for ln in sys.stdin if ln.strip()]
        out = sys.stdout.buffer
        last_qn: datetime | None = None
        for number, text in enumerate(texts, start=1):
            try:
                obj = json.loads(text)
                if not isinstance(obj, dict):
                    raise ValueError("须为 JSON 对象 / must be a JSON object")
                if obj.get("qn") is None:
                    # QN identifies the exchange (HJ 212 Table 3): now, and 1 ms apart when frames share a millisecond.
                    now = datetime.now()
                    at = now.replace(microsecond=now.microsecond // 1000 * 1000)
                    last_qn = at if last_qn is None or at > last_qn else last_qn + timedelta(milliseconds=1)
                    obj["qn"] = new_qn(last_qn)
                    typer.echo(
                        f"第 {number} 个帧无 qn, 已生成 QN={obj['qn']} / frame {number}: no qn, made one", err=True
                    )
                out.write(encode(frame_from_json(obj, dialect.version), dialect))
            except (ValueError, KeyError, TypeError, Hj212Error) as err:
                detail = f"missing field {err}" if isinstance(err, KeyError) else str(err)
                typer.echo(f"第 {number} 个帧无法编码 / frame {number} cannot be encoded: {detail}", err=True)
                raise typer.Exit(1) from err
        out.flush()
