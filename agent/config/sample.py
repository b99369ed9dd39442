"""The sample configuration printed by `das config sample` and included in docs/configuration.md.

Its keys and values are data here; every comment comes from the models (agent.config.render), so the sample
cannot drift from what the loader accepts (a test loads it).
"""

from __future__ import annotations

from typing import Any

from agent.config.render import render_config

__all__ = ["SAMPLE", "sample_text"]

HEADER = """\
数采仪站点配置 / das-agent site configuration (docs/configuration.md)
检查 / check: das config check FILE      注释掉的行是默认值 / commented lines show the defaults
密钥 / secrets: pw = { secret = "national_pw" } → $DAS_SECRET_NATIONAL_PW or national_pw in secrets_file"""

SAMPLE: dict[str, Any] = {
    "version": 1,
    "site": {"name": "某某热电有限公司 / Example Thermal Power Co."},
    "store": {"path": "/var/lib/das-agent/das.sqlite"},
    "retention": {"days": {"readings": 30, "rtd": 90}, "disk_budget_mb": 4096},
    "statistics": {"min_interval": 10, "rtd_interval": 30, "validity": {"sample_period_s": 5.0}},
    "links": {
        "rs485_1": {"type": "serial", "port": "/dev/ttyS1"},
        "rs485_2": {"type": "serial", "port": "/dev/ttyS2", "baud": 2400, "parity": "E"},
        "plc": {"type": "tcp", "host": "192.168.1.20", "port": 502, "framing": "tcp"},
    },
    "devices": {
        "cems": {
            "profile": "cems_sdl_scs900",
            "link": "plc",
            "unit": 1,
            "points": {"so2": {"range": [0.0, 200.0]}},
        },
        "cod": {"profile": "water_fpi_cod", "link": "rs485_1", "unit": 1},
        "ph": {"profile": "ph_bh485", "link": "rs485_1", "unit": 2},
        "flow": {"profile": "flow_tuf2000", "link": "rs485_1", "unit": 3},
        "meter": {"profile": "power_dlt645_2007", "link": "rs485_2", "address": "000000193600"},
    },
    "outlets": {
        "DA001": {
            "kind": "gas",
            "title": "1号锅炉烟囱 / boiler 1 stack",
            "reference_o2": 6.0,
            "nox": {"no": "a21003", "no2": "a21004", "limit": 50.0},
            "factors": [
                {"code": "a21026", "point": "cems.so2", "limit": 35.0},
                {"code": "a21003", "point": "cems.no", "convert_o2": False},
                {"code": "a21004", "point": "cems.no2", "convert_o2": False},
                {"code": "a19001", "point": "cems.o2"},
                {"code": "a34013", "point": "cems.dust", "limit": 10.0},
                {"code": "a01012", "point": "cems.temperature"},
                {"code": "a01013", "point": "cems.pressure"},
                {"code": "a01014", "point": "cems.humidity"},
            ],
        },
        "DW001": {
            "kind": "water",
            "title": "污水总排口 / wastewater outlet",
            "flow_unit": "L/s",
            "factors": [
                {"code": "w01018", "point": "cod.result", "batch": True, "limit": 50.0},
                {"code": "w01001", "point": "ph.ph"},
                {"code": "w00000", "point": "flow.flow", "unit": "m3/h"},
            ],
            "equipment": [
                {"code": "SB1", "name": "污水处理站 / treatment plant", "role": "treatment", "point": "meter.p"},
            ],
        },
    },
    "platforms": {
        "national": {
            "host": "203.0.113.10",
            "port": 8801,
            "version": 2017,
            "mns": {"DA001": "010000A8900016F000169DC0", "DW001": "010000A8900016F000169DC1"},
        },
        "province": {
            "host": "203.0.113.20",
            "port": 9001,
            "version": 2025,
            "mns": {"DA001": "33010000A8900016F0000001"},
        },
    },
    "mqtt": {
        "cloud": {
            "host": "mqtt.example.com",
            "port": 8883,
            "site": "example-thermal",
            "username": "das",
            "tls": {"ca_certs": "/etc/das-agent/mqtt-ca.pem"},
        },
    },
}


def sample_text() -> str:
    """The commented, bilingual sample: every key, the unset ones commented out with their defaults."""
    return render_config(SAMPLE, defaults=True, header=HEADER)
