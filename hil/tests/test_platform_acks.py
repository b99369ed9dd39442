"""The reference platform answers and records what real DAS send, over real TCP on 127.0.0.1.

Frames here are written out by hand from hj212-vectors.txt and hj212-2025.md §10, and CRCs are checked with an
Appendix A CRC written in hj212_wire.py beside this file, so the codec is not the only judge of its own output.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hj212_wire import crc_appendix_a, read_frame, wire

from hil.platform import MnConfig, Platform, PlatformConfig

MN = "010000A8900016F000169DC0"
HOUR_2061 = (
    "QN=20160801090000001;ST=32;CN=2061;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&DataTime=20160801080000;"
    "w00000-Cou=63.0,w00000-Min=16.4,w00000-Avg=17.5,w00000-Max=20.1,w00000-Flag=N;w01001-Min=7.1,w01001-Avg=7.5,"
    "w01001-Max=7.8,w01001-Flag=N;w01018-Cou=63.0,w01018-Min=40.1,w01018-Avg=40.1,w01018-Max=40.1,w01018-Flag=N&&"
)


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    config = PlatformConfig(
        mns=(
            MnConfig(mn=MN, pw="123456"),
            MnConfig(mn="AAAA2025", pw="123456", version=2025),
            MnConfig(mn="SM4MN2025", pw="123456", version=2025, encrypt=True, sm4_key="0" * 16),
        ),
        unknown_mn="reject",
    )
    async with Platform(config, tmp_path / "p.sqlite") as server:
        yield server


async def test_upload_asking_for_answer_gets_9014_echoing_its_qn(platform: Platform) -> None:
    """Acceptance point: a plain socket sends the standard's 2061 hour record (Flag=5) and gets 9014."""
    reader, writer = await asyncio.open_connection("127.0.0.1", platform.port)
    assert wire(HOUR_2061).endswith(b"B7C1\r\n")  # the vector's own CRC
    writer.write(wire(HOUR_2061))
    answer = await read_frame(reader)
    assert answer == wire(f"QN=20160801090000001;ST=91;CN=9014;PW=123456;MN={MN};Flag=4;CP=&&&&")
    writer.close()
    [row] = platform.store.frames(mn=MN, cn="2061")
    assert row.verdict == "accepted" and row.qn == "20160801090000001"
    assert row.data_time == "20160801080000" and row.raw == wire(HOUR_2061)
    assert row.cp is not None and row.cp.factors()["w01018"]["Avg"] == "40.1"
    [out] = platform.store.frames(direction="out")
    assert out.cn == "9014" and out.qn == row.qn and out.raw == answer


async def test_upload_without_answer_bit_gets_nothing_but_is_recorded(platform: Platform) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", platform.port)
    writer.write(wire(HOUR_2061.replace("Flag=5", "Flag=4")))
    writer.write(wire(HOUR_2061.replace("QN=20160801090000001", "QN=20160801090000002")))
    answer = await read_frame(reader)  # only the second one asked
    assert b"QN=20160801090000002;ST=91;CN=9014" in answer
    assert len(platform.store.frames(cn="2061", verdict="accepted")) == 2
    writer.close()


async def test_heartbeat_2025_gets_9013(platform: Platform) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", platform.port)
    writer.write(wire("QN=20240601085857223;ST=32;CN=9015;PW=123456;MN=AAAA2025;Flag=9;CP=&&&&"))
    answer = await read_frame(reader)
    assert answer == wire("QN=20240601085857223;ST=91;CN=9013;PW=123456;MN=AAAA2025;Flag=8;CP=&&&&")
    writer.close()


async def test_bad_crc_is_recorded_as_rejected_and_not_answered(platform: Platform) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", platform.port)
    good = crc_appendix_a(HOUR_2061.encode())
    writer.write(wire(HOUR_2061, crc=good ^ 0x0101))
    second = HOUR_2061.replace("QN=20160801090000001", "QN=20160801090000002")
    writer.write(wire(second))
    answer = await read_frame(reader)  # the first answer is for the second frame: the bad one got none
    assert b"QN=20160801090000002;ST=91;CN=9014" in answer
    rejected = platform.store.frames(verdict="rejected")
    assert len(rejected) == 1
    assert rejected[0].mn == MN and "CRC" in (rejected[0].reason or "") and rejected[0].qn_rtn == 9
    writer.close()


async def test_wrong_password_is_rejected_with_qnrtn_3(platform: Platform) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", platform.port)
    writer.write(wire(HOUR_2061.replace("PW=123456", "PW=654321")))
    answer = await read_frame(reader)
    assert answer == wire(f"QN=20160801090000001;ST=91;CN=9011;PW=654321;MN={MN};Flag=4;CP=&&QnRtn=3&&")
    [row] = platform.store.frames(verdict="rejected")
    assert row.qn_rtn == 3 and "PW" in (row.reason or "") and row.cn == "2061"
    writer.close()


async def test_unknown_mn_is_rejected_with_qnrtn_4_when_so_configured(platform: Platform) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", platform.port)
    writer.write(wire(HOUR_2061.replace(MN, "STRANGER0001")))
    answer = await read_frame(reader)
    assert b"CN=9011" in answer and b"QnRtn=4" in answer
    [row] = platform.store.frames(verdict="rejected")
    assert row.mn == "STRANGER0001" and row.qn_rtn == 4
    writer.close()


async def test_unknown_mn_is_accepted_with_default_dialect_by_default(tmp_path: Path) -> None:
    async with Platform(PlatformConfig(), tmp_path / "p.sqlite") as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(wire(HOUR_2061.replace(MN, "STRANGER0001")))
        assert b"CN=9014" in await read_frame(reader)
        writer.close()


async def test_version_other_than_the_mns_dialect_is_rejected(platform: Platform) -> None:
    """A 2017 frame from an MN configured for 2025: Flag error (QnRtn 6), never guessed from the Flag."""
    reader, writer = await asyncio.open_connection("127.0.0.1", platform.port)
    writer.write(wire(HOUR_2061.replace(MN, "AAAA2025")))
    answer = await read_frame(reader)
    assert b"CN=9011" in answer and b"QnRtn=6" in answer
    writer.close()


async def test_split_upload_is_acked_per_packet(platform: Platform) -> None:
    """HJ 212-2017 C.49/C.50: each packet (Flag=7) has its own QN and gets its own 9014."""
    head = f"ST=32;CN=2061;PW=123456;MN={MN};Flag=7;PNUM=2;PNO="
    one = f"QN=20160801090000534;{head}1;CP=&&DataTime=20160801080000;w01018-Avg=40.1,w01018-Flag=N&&"
    two = f"QN=20160801090000535;{head}2;CP=&&DataTime=20160801080000;w21003-Avg=1.25,w21003-Flag=N&&"
    reader, writer = await asyncio.open_connection("127.0.0.1", platform.port)
    writer.write(wire(one))
    first = await read_frame(reader)
    writer.write(wire(two))
    second = await read_frame(reader)
    assert first == wire(f"QN=20160801090000534;ST=91;CN=9014;PW=123456;MN={MN};Flag=4;CP=&&&&")
    assert second == wire(f"QN=20160801090000535;ST=91;CN=9014;PW=123456;MN={MN};Flag=4;CP=&&&&")
    rows = platform.store.frames(cn="2061")
    assert [(r.pnum, r.pno) for r in rows] == [(2, 1), (2, 2)]
    writer.close()


def sm4_ecb_prefix(key: bytes, data: bytes) -> bytes:
    """HJ 212-2025 A.2: whole 16-byte blocks encrypted, the tail in clear (independent of the codec)."""
    whole = len(data) - len(data) % 16
    enc = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    return enc.update(data[:whole]) + enc.finalize() + data[whole:]


async def test_sm4_encrypted_2025_upload_decodes_with_the_mns_key(platform: Platform) -> None:
    """The standard's A.2 example 1 (key 16 × '0'), with our MN: LLLL and CRC of the plaintext, binary cipher."""
    region = (
        "DataTime=20240520210600;a01011-Min=1.35,a01011-Avg=1.35,a01011-Max=1.35,a01011-Flag=N;"
        "a01012-Min=9.3,a01012-Avg=9.3,a01012-Max=9.3,a01012-Flag=N;"
        "a01014-Min=3.20,a01014-Avg=3.211,a01014-Max=3.212,a01014-Flag=N"
    )
    head = "QN=20240520210700000;ST=31;CN=2051;PW=123456;MN=SM4MN2025;Flag=9;CP=&&"
    plain = (head + region + "&&").encode()
    cipher = sm4_ecb_prefix(b"0" * 16, region.encode())
    assert len(region) == 208 and cipher[:4] == bytes.fromhex("E43E159A")  # the standard's printed ciphertext
    frame = b"##%04d%s%s&&%04X\r\n" % (len(plain), head.encode(), cipher, crc_appendix_a(plain))
    reader, writer = await asyncio.open_connection("127.0.0.1", platform.port)
    writer.write(frame)
    answer = await read_frame(reader)
    assert answer == wire("QN=20240520210700000;ST=91;CN=9014;PW=123456;MN=SM4MN2025;Flag=8;CP=&&&&")
    [row] = platform.store.frames(mn="SM4MN2025", direction="in")
    assert row.verdict == "accepted" and row.cp_text == region and row.raw == frame
    writer.close()


async def test_many_connections_at_once(platform: Platform) -> None:
    count = 25

    async def one(i: int) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", platform.port)
        qn = f"201608010900{i:05d}"
        writer.write(wire(HOUR_2061.replace("QN=20160801090000001", f"QN={qn}")))
        answer = await read_frame(reader, timeout=15)
        writer.close()
        assert f"QN={qn};ST=91;CN=9014".encode() in answer
        return answer

    answers = await asyncio.gather(*(one(i) for i in range(count)))
    assert len(set(answers)) == count
    assert len(platform.store.frames(cn="2061", verdict="accepted")) == count
    assert len({c["peer"] for c in platform.store.connections()}) == count


async def test_a_frame_whose_answer_cannot_be_written_is_recorded_and_the_connection_survives(
    platform: Platform,
) -> None:
    """QN=12345 breaks §6.3.3 (QnRtn 7); a 9011 would have to echo it, so no answer, but the link stays up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", platform.port)
    writer.write(wire(HOUR_2061.replace("QN=20160801090000001", "QN=12345")))
    writer.write(wire(HOUR_2061))
    answer = await read_frame(reader)
    assert b"QN=20160801090000001;ST=91;CN=9014" in answer
    [row] = platform.store.frames(verdict="rejected")
    assert row.qn_rtn == 7 and row.qn == "12345"
    writer.close()
