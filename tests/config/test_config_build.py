"""Builders: what `das run` gets from a site configuration, checked against the packages that consume it.

The device readers built from the config read real simulated devices over a loopback Modbus TCP server.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from config_site import SITE, edit, write

from agent.config import load_config
from agent.config.build import (
    Route,
    device_readers,
    devices_config,
    link_params,
    mqtt_settings,
    outlet_params,
    platform_settings,
    reading_routes,
    retention_policy,
    session_settings,
    store_path,
)
from agent.model import RecordKind
from agent.stats.engine import StatsEngine
from agent.stats.params import Role
from drivers.link import DeviceTiming, LinkRegistry, SerialParams, TcpParams
from drivers.profiles import load_builtin
from hil.sim import SimBus, TcpSimServer
from hil.sim_profiles import ProfileSim

DEMO = Path(__file__).resolve().parents[2] / "agent" / "config" / "demo_site.toml"


def test_link_params_take_line_settings_from_the_profiles(tmp_path: Path) -> None:
    config = load_config(write(tmp_path), environ={})
    links = link_params(config)
    assert links["rs485_1"] == SerialParams(port="/dev/ttyS1", baudrate=9600, parity="N", stopbits=1, bytesize=8)
    assert links["meters"] == SerialParams(port="/dev/ttyS2", baudrate=2400, parity="E", stopbits=1, bytesize=8)
    explicit = edit('port = "/dev/ttyS2"\n', 'port = "/dev/ttyS2"\nbaud = 1200\ngap = 0.05\n')
    links = link_params(load_config(write(tmp_path, explicit), environ={}))
    assert links["meters"].baudrate == 1200 and links["meters"].frame_gap == 0.05


def test_outlet_params_embed_the_factor_table_and_device_ranges(tmp_path: Path) -> None:
    params = outlet_params(load_config(write(tmp_path), environ={}))
    gas = params["DA001"]
    so2, o2 = gas.factor("a21026"), gas.factor("a19001")
    assert so2 is not None and o2 is not None
    assert (so2.unit, so2.decimals, so2.role, so2.limit) == ("mg/m3", 2, Role.CONCENTRATION, 35.0)
    assert so2.range == load_builtin("cems_fpi_cems2000").point("so2").range  # from the profile
    assert (o2.role, o2.decimals) == (Role.O2, 1)
    assert gas.min_interval == 10 and gas.reference_o2 == 6.0  # min_interval from [statistics]
    water = params["DW001"]
    assert water.min_interval == 10
    assert [(e.code, e.source, e.role) for e in water.equipment] == [("SB1", "SB1", "treatment")]
    StatsEngine(gas)  # the engine accepts them as they are


def test_routes_and_devices_config_agree(tmp_path: Path) -> None:
    text = edit('point = "cems.o2"', 'point = "cems.humidity"')
    text = edit("unit = 1\n", 'unit = 1\npoints.humidity = "a19001"\n', text)
    text = edit('code = "a19001"\n', 'code = "a19001"\nunit = "%"\n', text)
    config = load_config(write(tmp_path, text), environ={})
    routes = reading_routes(config)
    assert routes[("cems", "so2")] == (Route("DA001", "a21026"),)
    assert routes[("cems", "humidity")] == (Route("DA001", "a19001"),)
    assert routes[("meter", "p")] == (Route("DW001", "SB1", equipment=True),)
    devices = devices_config(config)
    assert devices.devices["cems"].override("humidity").factor == "a19001"
    assert devices.devices["cod"].override("result").factor == "w01018"


def test_platform_settings_from_the_site(tmp_path: Path) -> None:
    text = SITE + '\n[platforms.prov]\nhost = "127.0.0.1"\nport = 9002\nversion = 2025\nmns = { DW001 = "W1" }\n'
    config = load_config(write(tmp_path, text), environ={"DAS_SECRET_PROV_PW": "Ab12"})
    platforms = platform_settings(config)
    national = platforms["national"]
    assert (national.name, national.port, national.version) == ("national", 9001, 2017)
    assert national.min_interval == 10  # the outlets' interval, not PlatformSettings' default
    assert national.st == "31"  # mixed outlets: the model's default; sessions below carry their own
    assert platforms["prov"].st == "32" and platforms["prov"].pw == "Ab12"
    assert platforms["prov"].dialect.version == 2025
    sessions = session_settings(config)
    assert sorted(sessions) == ["national/DA001", "national/DW001", "prov/DW001"]
    assert sessions["national/DW001"].st == "32" and sessions["national/DW001"].mns == {
        "DW001": "010000A8900016F000169DC1"
    }
    assert sessions["national/DA001"].st == "31"
    assert mqtt_settings(config) == {}


def test_retention_and_store(tmp_path: Path) -> None:
    text = SITE + '\n[store]\npath = "data/das.sqlite"\n\n[retention]\ndays = { readings = 10 }\ndisk_budget_mb = 64\n'
    path = write(tmp_path, text)
    config = load_config(path, environ={})
    policy = retention_policy(config)
    assert policy.ages["readings"] == timedelta(days=10) and policy.ages["hour"] == timedelta(days=3 * 365 + 1)
    assert policy.disk_budget == 64 << 20
    assert store_path(config) == tmp_path / "data" / "das.sqlite"


def test_demo_site_builds_for_every_package() -> None:
    config = load_config(DEMO, environ={})
    assert {k: type(v) for k, v in link_params(config).items()} == dict.fromkeys(config.links, TcpParams)
    params = outlet_params(config)
    assert params["DA001"].by_role(Role.VELOCITY) is not None and params["DA001"].duct_area == 12.57
    assert {f.code for f in params["DW001"].factors} == {"w01018", "w21003", "w21011", "w21001", "w01001", "w00000"}
    assert {p.version for p in platform_settings(config).values()} == {2017, 2025}
    assert len(session_settings(config)) == 4


@pytest.mark.hil
async def test_device_readers_read_simulated_devices_through_the_config(tmp_path: Path) -> None:
    """CEMS (unit 1) and flue-gas module (unit 2) behind one Modbus TCP gateway, as the demo site wires them."""
    cems = ProfileSim(load_builtin("cems_fpi_cems2000"), unit=1, seed=3)
    flue = ProfileSim(load_builtin("flue_gas_adam4117"), unit=2, seed=4)
    async with TcpSimServer(SimBus([cems.device, flue.device])) as server:
        text = DEMO.read_text(encoding="utf-8").replace("port = 15020", f"port = {server.port}")
        config = load_config(write(tmp_path, text), environ={})
        registry = LinkRegistry(default_timing=DeviceTiming(timeout=1.0, retries=0))
        try:
            readers = device_readers(config, registry)
            assert len(registry.owners()) == len(config.links)  # one owner per endpoint, ports not opened yet
            routes = reading_routes(config)
            engine = StatsEngine(outlet_params(config)["DA001"], start=datetime(2026, 1, 5, 8, 0))
            for name in ("cems", "flue"):
                for r in await readers[name].read():
                    assert r.flag == "N", (name, r.point, r.note)
                    for route in routes.get((name, r.point), ()):
                        assert route.outlet == "DA001" and route.code == r.factor
                        reading = r.to_reading(datetime(2026, 1, 5, 8, 0, 1))
                        assert reading is not None
                        engine.add(reading)
            assert engine.ignored == 0
            out = engine.advance(datetime(2026, 1, 5, 8, 2))
            minute = next(rec for rec in out.records if rec.kind is RecordKind.MINUTE)
            assert {f.factor for f in minute.factors} >= {"a21026", "a19001", "a01011", "a00000"}
        finally:
            await registry.close()
