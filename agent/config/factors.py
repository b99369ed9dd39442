"""HJ 212 factor codes with their Chinese and English names, usual unit, decimals and statistics role.

Codes, names, units and data types are HJ 212-2017 Appendix B (hj212.md §6): the decimals are the type's
fraction digits (N5.2 → 2). Where the extract gives no type, `decimals` is None and the statistics default
(2) applies until the site sets it. Units are the concentration units; a00000 is m3/h as Appendix D computes
it (Table B.2 says m3/s: confirm per platform, hj212.md §6). The site configuration fills a factor's unit,
decimals and role from here when it does not give them, and names factors in `das config check`.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from agent.stats.params import Role

__all__ = ["FACTORS", "FactorInfo", "factor_label"]


@dataclass(frozen=True, slots=True)
class FactorInfo:
    code: str
    zh: str
    en: str
    unit: str
    decimals: int | None
    role: Role = Role.CONCENTRATION
    gas: bool = True

    @property
    def label(self) -> str:
        return f"{self.zh} {self.en}"


_C, _M = Role.CONCENTRATION, Role.MEAN
_TABLE = (
    # gas (HJ 212-2017 Table B.1; old 2005 code in the comment)
    FactorInfo("a00000", "废气流量", "flue gas flow", "m3/h", 1, Role.FLOW),  # B02, N6.1
    FactorInfo("a01011", "烟气流速", "flue gas velocity", "m/s", 2, Role.VELOCITY),  # S02, N5.2
    FactorInfo("a01012", "烟气温度", "flue gas temperature", "℃", 1, Role.TEMPERATURE),  # S03, N3.1
    FactorInfo("a01013", "烟气压力", "flue gas pressure", "kPa", 3, Role.PRESSURE),  # S08, N5.3
    FactorInfo("a01014", "烟气湿度", "flue gas humidity", "%", 1, Role.HUMIDITY),  # S05, N3.1
    FactorInfo("a01017", "烟气动压", "flue gas dynamic pressure", "kPa", None, _M),  # S04
    FactorInfo("a01006", "大气压", "ambient pressure", "kPa", None, Role.AMBIENT_PRESSURE),
    FactorInfo("a01901", "炉膛上部温度", "furnace upper temperature", "℃", 1, _M),  # N4.1
    FactorInfo("a01902", "炉膛中部温度", "furnace middle temperature", "℃", 1, _M),  # N4.1
    FactorInfo("a19001", "氧气", "O2", "%", 1, Role.O2),  # S01, N3.1
    FactorInfo("a21026", "二氧化硫", "SO2", "mg/m3", 2),  # 02, N5.2
    FactorInfo("a21002", "氮氧化物", "NOx", "mg/m3", 1),  # 03, N5.1
    FactorInfo("a21003", "一氧化氮", "NO", "mg/m3", None),
    FactorInfo("a21004", "二氧化氮", "NO2", "mg/m3", None),
    FactorInfo("a21005", "一氧化碳", "CO", "mg/m3", 3),  # 04, N3.3
    FactorInfo("a21024", "氯化氢", "HCl", "mg/m3", None),  # 08
    FactorInfo("a24088", "非甲烷总烃", "NMHC", "mg/m3", None),
    FactorInfo("a34013", "烟尘", "dust", "mg/m3", 0),  # 01, N4
    # water (HJ 212-2017 Table B.2)
    FactorInfo("w00000", "污水流量", "wastewater flow", "L/s", 2, Role.FLOW, gas=False),  # B01, N5.2
    FactorInfo("w01001", "pH值", "pH", "", 2, _M, gas=False),  # 001, N2.2
    FactorInfo("w01009", "溶解氧", "dissolved oxygen", "mg/L", None, _M, gas=False),
    FactorInfo("w01010", "水温", "water temperature", "℃", None, _M, gas=False),
    FactorInfo("w01012", "悬浮物", "SS", "mg/L", None, gas=False),  # 003
    FactorInfo("w01014", "电导率", "conductivity", "uS/cm", None, _M, gas=False),
    FactorInfo("w01018", "化学需氧量", "COD", "mg/L", 1, gas=False),  # 011, N5.1
    FactorInfo("w01019", "高锰酸盐指数", "permanganate index", "mg/L", None, gas=False),
    FactorInfo("w21001", "总氮", "TN", "mg/L", 2, gas=False),  # 065, N4.2
    FactorInfo("w21003", "氨氮", "NH3-N", "mg/L", 2, gas=False),  # 060, N4.2
    FactorInfo("w21011", "总磷", "TP", "mg/L", 2, gas=False),  # 101, N3.2
    FactorInfo("w22001", "石油类", "petroleum", "mg/L", None, gas=False),  # 080
)

FACTORS: MappingProxyType[str, FactorInfo] = MappingProxyType({f.code: f for f in _TABLE})


def factor_label(code: str) -> str:
    """`二氧化硫 SO2` for a known code, the code itself otherwise (provincial and process codes)."""
    info = FACTORS.get(code)
    return info.label if info is not None else code
