"""Instrument commands through `DeviceControl` (3011/3012/3019/3020/3021, 2025 3022/3024) and 2025 identity
commands (1002 MN, 1014 key): passed to the analyzer where its profile allows, refused otherwise."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from commands_harness import MN, Devices, Harness

from uplink.commands import CommandHandler, DasIdentity, request_new_key, send_hardware_sn
from uplink.hj212 import Cp, encode
from uplink.settings import sm4_key_bytes

H = CommandHandler()
OK = [("9011", "QnRtn=1"), ("9012", "ExeRtn=1")]


async def test_serial_numbers_one_packet_per_instrument(tmp_path: Path) -> None:
    h = Harness(tmp_path, devices=Devices())
    await H.handle(h.request("3019", "PolId=w21003"), h.ctx)
    assert h.answers() == [OK[0], ("3019", "DataTime=20260105120000;PolId=w21003;w21003-SN=SN-NH3-7"), OK[1]]
    h.sent.clear()
    await H.handle(h.request("3019"), h.ctx)
    assert h.cns() == ["9011", "3019", "3019", "9012"]


async def test_serial_numbers_without_a_device_service_come_from_the_store(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    await H.handle(h.request("3019"), h.ctx)
    assert h.answers() == [OK[0], ("9012", "ExeRtn=100")]
    h.store.add_device_info("cod1", "SN", "SN-9", datetime(2026, 1, 1), factor="w01018")
    h.sent.clear()
    await H.handle(h.request("3019"), h.ctx)
    assert h.answers()[1] == ("3019", "DataTime=20260105120000;PolId=w01018;w01018-SN=SN-9")


async def test_site_info_now_and_from_history(tmp_path: Path) -> None:
    devices = Devices()
    h = Harness(tmp_path, devices=devices)
    await H.handle(h.request("3020", "PolId=w01018;InfoId=i13004"), h.ctx)
    assert h.answers() == [OK[0], ("3020", "DataTime=20260105120000;PolId=w01018;i13004-Info=168.0"), OK[1]]
    assert devices.calls == [("info", "o1", "w01018", ("i13004",))]
    h.store.add_device_info("cod1", "i13004", 165.0, datetime(2026, 1, 2, 8), factor="w01018")
    h.store.add_device_info("cod1", "i13004", 168.0, datetime(2026, 1, 3, 8), factor="w01018")
    h.sent.clear()
    cp = "PolId=w01018;InfoId=i13004;BeginTime=20260101000000;EndTime=20260103080000"
    await H.handle(h.request("3020", cp), h.ctx)
    assert [a for a in h.answers() if a[0] == "3020"] == [
        ("3020", "DataTime=20260102080000;PolId=w01018;i13004-Info=165.0"),
        ("3020", "DataTime=20260103080000;PolId=w01018;i13004-Info=168.0"),
    ]


async def test_set_parameter_where_the_profile_allows_it_refused_otherwise(tmp_path: Path) -> None:
    devices = Devices()
    h = Harness(tmp_path, devices=devices)
    await H.handle(h.request("3021", "PolId=w01018;InfoId=i13004;i13004-Info=170.0"), h.ctx)
    await H.handle(h.request("3021", "PolId=w01018;InfoId=i13008;i13008-Info=1.2"), h.ctx)  # slope: not allowed
    await H.handle(h.request("3021", "PolId=w01018;InfoId=i13004"), h.ctx)  # no value: not sent to the analyzer
    assert h.answers() == OK + [("9011", "QnRtn=1"), ("9012", "ExeRtn=3")] * 2
    assert [c[3:] for c in devices.calls] == [("i13004", "170.0"), ("i13008", "1.2")]


@pytest.mark.parametrize(
    ("cn", "cp", "result", "exe_rtn", "call"),
    [
        ("3011", "PolId=w01018", True, 1, ("calibrate", "o1", "w01018", None)),
        ("3011", "PolId=w01018", None, 3, ("calibrate", "o1", "w01018", None)),
        ("3011", "PolId=w01018", False, 2, ("calibrate", "o1", "w01018", None)),
        ("3012", "PolId=w01018", True, 1, ("sample_now", "o1", "w01018")),
        ("3012", "", True, 3, None),  # PolId missing
    ],
)
async def test_actions_map_the_device_result_to_exe_rtn(
    tmp_path: Path, cn: str, cp: str, result: bool | None, exe_rtn: int, call: tuple[object, ...] | None
) -> None:
    devices = Devices(result=result)
    h = Harness(tmp_path, devices=devices)
    await H.handle(h.request(cn, cp), h.ctx)
    assert h.answers() == [("9011", "QnRtn=1"), ("9012", f"ExeRtn={exe_rtn}")]
    assert devices.calls == ([call] if call else [])


async def test_2025_actions_and_calibration_type(tmp_path: Path) -> None:
    devices = Devices()
    h = Harness(tmp_path, devices=devices, version=2025)
    await H.handle(h.request("3011", "PolId=w01018,CalibrationType=1"), h.ctx)
    await H.handle(h.request("3024", "PolId=w01018"), h.ctx)
    await H.handle(h.request("3022", "PolId=w01018"), h.ctx)
    assert h.answers() == OK * 3
    assert devices.calls == [
        ("calibrate", "o1", "w01018", 1),
        ("standard_check", "o1", "w01018"),
        ("sample_now", "o1", "w01018"),
    ]


async def test_actions_without_a_device_service_end_exe_rtn_2(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    await H.handle(h.request("3012", "PolId=w01018"), h.ctx)
    assert h.answers() == [("9011", "QnRtn=1"), ("9012", "ExeRtn=2")]


NEW_MN = "010000A8900016F000169DC9"
ME = DasIdentity("6970000000001ABCDEFG1234", "A800200A8C6D", ("E86A643C7BBC", "A763742C1AE1"))


async def test_1002_adopts_the_header_mn_when_i23005_is_ours(tmp_path: Path) -> None:
    h = Harness(tmp_path, version=2025)
    handler = CommandHandler(identity=ME)
    await handler.handle(h.request("1002", "i23005-Info=6970000000001ABCDEFG0000", mn=NEW_MN), h.ctx)
    assert h.answers() == [("9011", "QnRtn=4")] and h.ctx.mn == MN  # another DAS's assignment
    await CommandHandler().handle(h.request("1002", f"i23005-Info={ME.das_id}", mn=NEW_MN), h.ctx)
    assert h.answers()[-1] == ("9011", "QnRtn=2") and h.ctx.mn == MN  # no identity configured
    h.sent.clear()
    await handler.handle(h.request("1002", f"i23005-Info={ME.das_id}", mn=NEW_MN), h.ctx)
    assert h.answers() == OK and all(f.mn == NEW_MN for f, _ in h.sent)
    assert h.ctx.mn == NEW_MN and h.store.get_settings("national/o1") == {"mn": NEW_MN}
    h.sent.clear()
    await handler.handle(h.request("1061", mn=MN), h.ctx)  # the old MN is no longer ours
    assert h.answers() == [("9011", "QnRtn=4")]


async def test_1014_stores_the_new_key_and_later_frames_use_it(tmp_path: Path) -> None:
    h = Harness(tmp_path, version=2025, encrypt=True, sm4_key="0000000000000000")
    await H.handle(h.request("1014", "SKCreateTime=20260105120000000,NewSK=Ab3dEf6hIj9lMn0p"), h.ctx)
    assert h.answers() == OK
    assert h.settings.sm4_key == "Ab3dEf6hIj9lMn0p" and h.ctx.dialect.sm4_key == sm4_key_bytes("Ab3dEf6hIj9lMn0p")
    # the key's creation time goes with it: the next request is due key_rotation_days - key_request_lead_days on
    assert h.store.get_settings("national/o1") == {
        "sm4_key": "Ab3dEf6hIj9lMn0p",
        "sm4_key_created": "2026-01-05 12:00:00",
    }
    assert h.settings.key_request_due() == datetime(2026, 3, 29, 12)
    await H.handle(h.request("1014", "SKCreateTime=20260105120000000,NewSK=short"), h.ctx)
    assert h.answers()[-1] == ("9012", "ExeRtn=3") and h.settings.sm4_key == "Ab3dEf6hIj9lMn0p"


@pytest.mark.parametrize("stamp", ["", "SKCreateTime=2026,", "SKCreateTime=20991231235959000,"])
async def test_1014_without_a_usable_create_time_dates_the_key_now(tmp_path: Path, stamp: str) -> None:
    """Missing, malformed or in the future (a platform clock that is off): the key counts from its arrival."""
    h = Harness(tmp_path, version=2025, encrypt=True, sm4_key="0000000000000000")
    await H.handle(h.request("1014", f"{stamp}NewSK=Ab3dEf6hIj9lMn0p"), h.ctx)
    assert h.answers() == OK
    assert h.settings.sm4_key_created == h.clock.now()


async def test_1014_request_carries_skcreatetime(tmp_path: Path) -> None:
    h = Harness(tmp_path, version=2025, encrypt=True, sm4_key="0000000000000000")
    assert await request_new_key(h.ctx)
    [(frame, awaited)] = h.sent
    assert (frame.cn, frame.flag, awaited) == ("1014", 9, True)
    assert frame.cp == Cp.build({"SKCreateTime": f"{h.clock.now():%Y%m%d%H%M%S}000"})
    h = Harness(tmp_path, version=2025, encrypt=True, sm4_key="0000000000000000", want_answer=False)
    assert await request_new_key(h.ctx)
    [(frame, awaited)] = h.sent
    assert (frame.flag, awaited) == (8, False)  # no answer bit, nothing waited for (want_answer = false)


async def test_1001_carries_the_hardware_identity(tmp_path: Path) -> None:
    h = Harness(tmp_path, version=2025)
    assert await send_hardware_sn(h.ctx, ME)
    frame, awaited = h.sent[0]
    assert frame.cn == "1001" and frame.flag == 9 and awaited
    assert frame.cp == Cp.parse(
        "i23005-Info=6970000000001ABCDEFG1234;i23006-Info=A800200A8C6D;i23007-Info=E86A643C7BBC;i23008-Info=A763742C1AE1"
    )
    assert encode(frame, h.settings.dialect).startswith(b"##0198")  # hj212-2025.md §10's 0174 + our 24-char MN
