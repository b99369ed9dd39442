"""Serial numbers (3019, HJ 212-2017 C.39): a profile's `[[info]] code = "SN"` is checked at load; a changed SN
from a poll becomes a 3019 per measured factor, the first one seen and an unchanged or blank one none."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from agent.daemon.acquisition import Acquisition
from agent.daemon.clock import AgentClock
from agent.daemon.pipeline import AlarmBook, OutletPipeline, Routing, sn_text
from agent.stats import FactorParams, OutletParams
from buffer import Store
from drivers.profiles.schema import InfoItem
from drivers.reader import PointReading
from uplink.manager import UplinkManager
from uplink.settings import PlatformSettings

T0 = datetime(2026, 1, 5, 8, 0, 0)
PARAMS = OutletParams(outlet="DW001", kind="water", factors=(FactorParams(code="w01018", unit="mg/L"),))


def test_an_sn_register_is_a_string_or_an_unsigned_integer_as_read() -> None:
    assert InfoItem(name="sn", code="SN", fc=3, address=9, type="string", count=8).code == "SN"
    assert InfoItem(name="sn", code="SN", fc=3, address=9, type="uint32").type == "uint32"
    for bad in ({"type": "float32"}, {"type": "uint32", "scale": 0.1}):
        with pytest.raises(ValidationError, match="SN: a string or unsigned integer"):
            InfoItem(name="sn", code="SN", fc=3, address=9, **bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="3020 info code expected"):
        InfoItem(name="sn", code="sn", fc=3, address=9, type="string")
    assert (sn_text(12345.0), sn_text(" A1 "), sn_text(7)) == ("12345", "A1", "7")


class Analyzer:
    def __init__(self) -> None:
        self.info: dict[str, float | int | str] = {"i12001": 0}

    async def read(self) -> list[PointReading]:
        return [PointReading("cod", "cod", "COD", "w01018", 20.0, "mg/L", "N", info=dict(self.info))]


def sn_items(store: Store) -> list[str]:
    return [i.payload or "" for i in store.pending("national/DW001", 100) if i.kind == "3019"]


async def test_a_changed_sn_is_enqueued_as_3019_not_3020(tmp_path: Path) -> None:
    clock = AgentClock(start=T0)
    national = PlatformSettings(name="national", host="127.0.0.1", port=9, st="32", mns={"DW001": "MN1"})
    cod = Analyzer()
    with Store(tmp_path / "das.sqlite", clock=clock.now) as store:
        routing = Routing([national], store=store)
        routing.attach(UplinkManager([national], store, clock=clock))
        pipeline = OutletPipeline(PARAMS, {("cod", "w01018"): "w01018"}, store, routing, AlarmBook(store, routing))
        acquisition = Acquisition({"cod": cod}, store, clock, intervals={"cod": 60.0}, consumers=[pipeline])

        for sn in ("", 4711.0, 4711.0):  # blank registers, then the first SN: recorded, nothing replaced
            cod.info["SN"] = sn
            await acquisition.poll_once("cod")
            clock.set(clock.now() + timedelta(seconds=60))
        assert sn_items(store) == []
        assert all("SN" not in p for p in (i.payload or "" for i in store.pending("national/DW001", 100)))

        cod.info["SN"] = 4712.0  # replaced
        await acquisition.poll_once("cod")
        [item] = sn_items(store)
        assert "PolId=w01018;w01018-SN=4712" in item
        assert [i.kind for i in store.pending("national/DW001", 100)].count("3020") == 1  # only the first poll's
