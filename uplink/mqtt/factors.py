"""Names and units of common HJ 212 factor codes, for readable MQTT payloads.

Codes, Chinese names and units are HJ 212-2017 Appendix B (shared reference hj212.md §6); English names are
ours. A unit is given only where Appendix B states one and practice does not vary: flows (a00000, w00000)
are reported in m3/h or m3/s, L/s by configuration (agent/stats/params.py `flow_unit`), so their unit comes
from `MqttSettings.factors`, never from here. An unknown code gets no name and no unit: a label is never
invented.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from uplink.mqtt.settings import FactorLabel

__all__ = ["STANDARD_FACTORS", "label_for"]


def _l(name_zh: str, name_en: str, unit: str = "", cou_unit: str = "") -> FactorLabel:
    return FactorLabel(name_zh=name_zh, name_en=name_en, unit=unit, cou_unit=cou_unit)


STANDARD_FACTORS: Mapping[str, FactorLabel] = MappingProxyType(
    {
        # Gas (HJ 212-2017 Table B.1/B.2)
        "a00000": _l("废气", "flue gas flow"),
        "a01011": _l("烟气流速", "flue gas velocity", "m/s"),
        "a01012": _l("烟气温度", "flue gas temperature", "℃"),
        "a01013": _l("烟气压力", "flue gas pressure", "kPa"),
        "a01014": _l("烟气湿度", "flue gas humidity", "%"),
        "a01016": _l("烟道截面积", "flue cross-section area", "m2"),
        "a01017": _l("烟气动压", "flue gas dynamic pressure", "kPa"),
        "a19001": _l("氧气含量", "O2", "%"),
        "a21026": _l("二氧化硫", "SO2", "mg/m3", "kg"),
        "a21002": _l("氮氧化物", "NOx", "mg/m3", "kg"),
        "a21003": _l("一氧化氮", "NO"),
        "a21004": _l("二氧化氮", "NO2"),
        "a21005": _l("一氧化碳", "CO", "mg/m3"),
        "a21024": _l("氯化氢", "HCl"),
        "a34013": _l("烟尘", "particulate matter", "mg/m3", "kg"),
        "a24088": _l("非甲烷总烃", "NMHC"),
        "a01001": _l("温度", "temperature"),
        "a01002": _l("湿度", "humidity"),
        "a01006": _l("气压", "atmospheric pressure", "kPa"),
        "a01007": _l("风速", "wind speed"),
        "a01008": _l("风向", "wind direction"),
        "a34002": _l("可吸入颗粒物", "PM10"),
        "a34004": _l("细颗粒物", "PM2.5"),
        # Water (HJ 212-2017 Table B.3)
        "w00000": _l("污水", "wastewater flow"),
        "w01001": _l("pH值", "pH"),
        "w01018": _l("化学需氧量", "COD", "mg/L", "kg"),
        "w21003": _l("氨氮", "NH3-N"),
        "w21011": _l("总磷", "total phosphorus"),
        "w21001": _l("总氮", "total nitrogen"),
        "w01012": _l("悬浮物", "suspended solids"),
        "w01009": _l("溶解氧", "dissolved oxygen"),
        "w01010": _l("水温", "water temperature"),
        "w01014": _l("电导率", "conductivity"),
        "w01019": _l("高锰酸盐指数", "permanganate index"),
        "w22001": _l("石油类", "petroleum oils"),
    }
)


def label_for(
    code: str, overrides: Mapping[str, FactorLabel], table: Mapping[str, FactorLabel] | None = None
) -> FactorLabel | None:
    """The label of a code: `overrides` (the target's settings) field by field over `table` (the site's table
    when the agent passes one, else the built-in one); None when neither knows the code."""
    base = (STANDARD_FACTORS if table is None else table).get(code)
    mine = overrides.get(code)
    if mine is None:
        return base
    if base is None:
        return mine
    return FactorLabel(
        name_zh=mine.name_zh or base.name_zh,
        name_en=mine.name_en or base.name_en,
        unit=mine.unit or base.unit,
        cou_unit=mine.cou_unit or base.cou_unit,
    )
