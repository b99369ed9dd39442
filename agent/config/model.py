"""The site configuration: one TOML file describing a monitoring station (issue 6).

The sections embed the other packages' own models, so each key is defined once:

- `[links.*]`, `[devices.*]`: `drivers.profiles.config` (`LinkConfig`, `DeviceConfig`; docs/profiles.md);
- `[outlets.*]`: `agent.stats.params.OutletParams` (docs/statistics.md) plus which device point feeds each factor;
- `[platforms.*]`: `uplink.settings.PlatformSettings`; `[mqtt.*]`: `uplink.mqtt.MqttSettings` (the publisher's
  model, docs/mqtt.md); the name is taken from the table and secret keys (`pw`, `sm4_key`, `password`) are held
  as `SecretStr`;
- `[retention]`: `buffer.retention.RetentionPolicy` in days and MiB.

Cross-references that need the device profiles (a factor's device point, line settings per port) are checked
by `agent.config.checks` when the file is loaded.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from agent.config.factors import FACTORS
from agent.config.glossary import LABELS
from agent.config.secrets import SecretError, SecretResolver
from agent.stats.params import EquipmentParams, FactorParams, OutletParams
from buffer.errors import BadValueError
from buffer.retention import DEFAULT_AGES, DEFAULT_BUDGET_KINDS, RetentionPolicy
from drivers.profiles.config import DeviceConfig, LinkConfig
from drivers.profiles.schema import FACTOR_CODE, Profile
from uplink.mqtt.settings import MqttSettings
from uplink.settings import PlatformSettings

__all__ = [
    "CONFIG_VERSION",
    "STATISTICS_SHARED",
    "MqttConfig",
    "OutletConfig",
    "OutletEquipment",
    "OutletFactor",
    "OutletPower",
    "PlatformConfig",
    "PowerPoint",
    "RetentionConfig",
    "SiteConfig",
    "SiteInfo",
    "StatisticsConfig",
    "StoreConfig",
]

CONFIG_VERSION = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_POINT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*\.[a-z][a-z0-9_]*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- secrets ---------------------------------------------------------------------------------------------------


def _secret(value: Any, info: ValidationInfo) -> Any:
    """A secret key's value: text as written, or `{ secret = "NAME" }` looked up by the loader's resolver."""
    if isinstance(value, dict):
        if set(value) != {"secret"} or not isinstance(value["secret"], str):
            raise ValueError('a secret reference { secret = "NAME" } expected')
        resolver = (info.context or {}).get("secrets")
        if not isinstance(resolver, SecretResolver):
            raise ValueError("secret references need the configuration loader (agent.config.load_config)")
        try:
            return SecretStr(resolver.get(value["secret"]))
        except SecretError as err:
            raise ValueError(str(err)) from err
    return value


Secret = Annotated[SecretStr, BeforeValidator(_secret)]
_SECRET_FIELDS = {"pw", "sm4_key", "password"}
_SECRET_NOTE = ' 可写 { secret = "名称" } / or { secret = "NAME" } (docs/configuration.md#secrets)'


def _mirror(model: type[BaseModel], name: str, doc: str, skip: set[str]) -> type[BaseModel]:
    """A frozen model with `model`'s fields (titles, descriptions, defaults) but `skip`, secrets as SecretStr.

    The values are checked again by `model` itself when the site config is built (agent.config.build), so its
    validators stay the only rule book.
    """
    fields: dict[str, Any] = {}
    for key, field in model.model_fields.items():
        if key in skip:
            continue
        copy = FieldInfo.merge_field_infos(field)
        annotation: Any = field.annotation
        if key in _SECRET_FIELDS:
            optional = field.default is None
            annotation = Secret | None if optional else Secret
            if not optional and isinstance(field.default, str):
                copy = FieldInfo.merge_field_infos(field, default=SecretStr(field.default))
            zh, en = LABELS.get(key, (key, key))
            copy = FieldInfo.merge_field_infos(
                copy, description=(field.description or field.title or f"{zh} / {en}") + _SECRET_NOTE
            )
        fields[key] = (annotation, copy)
    return create_model(name, __base__=_Model, __doc__=doc, **fields)


PlatformConfig = _mirror(
    PlatformSettings,
    "PlatformConfig",
    "`[platforms.<name>]`: the keys of uplink.settings.PlatformSettings; the table name is the platform name.",
    skip={"name"},
)
MqttConfig = _mirror(
    MqttSettings,
    "MqttConfig",
    "`[mqtt.<name>]`: the keys of uplink.mqtt.MqttSettings (docs/mqtt.md); the table name is the target name "
    "(outbox `mqtt:<name>`).",
    skip={"name"},
)


# --- site, store, retention --------------------------------------------------------------------------------------


class SiteInfo(_Model):
    """`[site]`: who the station is."""

    name: str = Field(min_length=1, title="站点名称 Site name", description="企业/站点名称 / company or site name")
    secrets_file: str | None = Field(
        None,
        title="密钥文件 Secrets file",
        description="密钥文件路径 (权限 0600, 属主 root 或服务用户) / secrets file, mode 0600, owner root or the agent",
    )
    timezone: Literal["Asia/Shanghai"] = Field(
        "Asia/Shanghai",
        title="时区 Time zone",
        description="HJ 212 数据时间无时区, 用北京时间 / HJ 212 DataTime has no zone: China time (UTC+8)",
    )
    das_id: str | None = Field(
        None,
        min_length=1,
        max_length=24,
        pattern=r"^[0-9A-Za-z]+$",
        title="数采仪编号 DAS id",
        description="i23005 (HJ 212-2025 1001/1002): 平台按此分配 MN; 不设则拒绝 1002 / the platform assigns the MN "
        "to this id; without it a 2025 1002 is refused",
    )
    cpu_id: str = Field(
        "",
        max_length=24,
        pattern=r"^[0-9A-Za-z]*$",
        title="处理器编号 CPU ID",
        description="i23006 (HJ 212-2025 1001)",
    )
    macs: tuple[str, ...] = Field(
        (),
        max_length=2,
        title="网卡地址 MACs",
        description="i23007/i23008 (HJ 212-2025 1001): 12 位十六进制, 无分隔符 / 12 hex digits, no separators",
    )

    @field_validator("macs")
    @classmethod
    def _macs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for mac in value:
            if not re.fullmatch(r"[0-9A-Fa-f]{12}", mac):
                raise ValueError(f"MAC {mac!r}: 12 hex digits without separators expected, e.g. E86A643C7BBC")
        return tuple(mac.upper() for mac in value)

    @model_validator(mode="after")
    def _identity(self) -> Self:
        if self.das_id is None and (self.cpu_id or self.macs):
            raise ValueError("cpu_id and macs belong to a DAS identity: give das_id too")
        return self


class StoreConfig(_Model):
    """`[store]`: where the SQLite store lives."""

    path: str = Field(
        "/var/lib/das-agent/das.sqlite",
        title="数据库 Store file",
        description="SQLite 数据库文件 (相对路径相对于本文件) / SQLite file (relative to this file)",
    )


RetentionKind = Literal[tuple(DEFAULT_AGES)]  # type: ignore[valid-type]
BudgetKind = Literal[DEFAULT_BUDGET_KINDS]  # type: ignore[valid-type]


class RetentionConfig(_Model):
    """`[retention]`: buffer.retention.RetentionPolicy in site units (days, MiB)."""

    days: dict[RetentionKind, float] = Field(  # type: ignore[valid-type]
        {},
        title="保存天数 Ages",
        description="各类数据保存天数, 未列出的用默认值 (小时/日数据不少于 365 天, HJ 477) / days kept per kind",
    )
    disk_budget_mb: int | None = Field(
        None, gt=0, title="磁盘预算 Disk budget", description="数据库最大 MiB, 空 = 不限 / most MiB the store may use"
    )
    budget_kinds: tuple[BudgetKind, ...] = Field(  # type: ignore[valid-type]
        DEFAULT_BUDGET_KINDS,
        title="可提前删除 Budget order",
        description="超预算时按此顺序提前删除 / kinds the budget may cut early, in this order",
    )

    @model_validator(mode="after")
    def _policy(self) -> Self:
        try:
            self.policy()
        except BadValueError as err:
            raise ValueError(str(err)) from err
        return self

    def policy(self) -> RetentionPolicy:
        return RetentionPolicy(
            ages={k: timedelta(days=v) for k, v in self.days.items()},
            disk_budget=None if self.disk_budget_mb is None else self.disk_budget_mb << 20,
            budget_kinds=tuple(self.budget_kinds),
        )


# --- outlets -------------------------------------------------------------------------------------------------


def _fill_from_table(data: Any) -> Any:
    """Unit, decimals and role of a known factor code default to HJ 212 Appendix B (agent.config.factors)."""
    if isinstance(data, dict) and isinstance(data.get("code"), str) and data["code"] in FACTORS:
        info = FACTORS[data["code"]]
        data = dict(data)
        data.setdefault("unit", info.unit)
        data.setdefault("role", info.role.value)
        if info.decimals is not None:
            data.setdefault("decimals", info.decimals)
    return data


class OutletFactor(FactorParams):
    """`[[outlets.<id>.factors]]`: a factor of the outlet (FactorParams) and the device point it is read from."""

    point: str = Field(
        title="测点 Device point",
        description="设备.测点, 如 cems.so2 / the device point it is read from, as device.point",
    )

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        return _fill_from_table(data)

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not FACTOR_CODE.match(v):
            raise ValueError(f"HJ 212 factor code expected, e.g. a21026 or w01018 (got {v!r})")
        return v

    @field_validator("point")
    @classmethod
    def _point(cls, v: str) -> str:
        if not _POINT.match(v):
            raise ValueError(f"device.point expected, e.g. cems.so2 (got {v!r})")
        return v

    def params(self) -> FactorParams:
        return FactorParams(**{k: getattr(self, k) for k in FactorParams.model_fields})


class OutletEquipment(EquipmentParams):
    """`[[outlets.<id>.equipment]]`: a facility (EquipmentParams) and the device point that shows it running."""

    source: str = Field(
        "",
        description="读数在统计中的因子代码, 默认为测点的因子代码或设备代码 / code the reading is known by "
        "(default: the point's factor code, else the equipment code)",
    )
    point: str = Field(
        title="测点 Device point",
        description="开关量或功率测点, 如 meter_line.p / digital input or power point, as device.point",
    )

    @field_validator("point")
    @classmethod
    def _point(cls, v: str) -> str:
        if not _POINT.match(v):
            raise ValueError(f"device.point expected, e.g. di.di1 or meter.p (got {v!r})")
        return v


_POWER_CODE = re.compile(r"^d[23]\d{4}$")


class PowerPoint(_Model):
    """`[[outlets.<id>.power.points]]`: one meter reading sent as an HJ 212-2025 ST=44 electricity code.

    The code is a setting, never derived: hj212-2025.md §6 gives only examples (production `d20105`, treatment
    `d30106`); the pattern `d` + 2/3 (production/treatment) + quantity + facility number is a guess. Ask the
    platform operator for each code; the uplink sends d2xxxx/d3xxxx records with ST=44 (uplink/cp_build.py).
    """

    point: str = Field(
        title="测点 Device point", description="电表测点, 如 meter_line.ua / the meter point, as device.point"
    )
    code: str = Field(
        title="因子代码 d-code",
        description="用电监控因子代码 (向平台确认) / ST=44 code as the platform defines it, e.g. d20105 "
        "(d2xxxx production, d3xxxx treatment)",
    )
    role: Literal["production", "treatment"] = Field(
        title="设施类型 Facility role", description="生产设施 production / 治理设施 treatment (C37/C38)"
    )
    decimals: int = Field(2, ge=0, le=6, title="小数位 Decimals", description="上传小数位 / decimals sent")
    title: str = Field("", title="名称 Title", description="说明 / what it measures, e.g. 生产线A相电压")

    @field_validator("point")
    @classmethod
    def _point(cls, v: str) -> str:
        if not _POINT.match(v):
            raise ValueError(f"device.point expected, e.g. meter_line.ua (got {v!r})")
        return v

    @model_validator(mode="after")
    def _code(self) -> Self:
        if not _POWER_CODE.match(self.code):
            raise ValueError(
                f"code {self.code!r}: an HJ 212-2025 electricity code d2xxxx (production) or d3xxxx (treatment) "
                "expected, e.g. d20105 or d30106"
            )
        wanted = "2" if self.role == "production" else "3"
        if self.code[1] != wanted:
            raise ValueError(f"code {self.code} is a d{self.code[1]}xxxx code but role is {self.role} (d{wanted}xxxx)")
        return self


class OutletPower(_Model):
    """`[outlets.<id>.power]`: 用电监控 (HJ 212-2025 ST=44): meter readings sent as CN 2011 real-time records
    under the outlet's MN to the listed 2025 platforms, at `interval_s`; answered from the store when a platform
    fetches ST=44 history (2011 with BeginTime/EndTime). A failed read is sent as Flag=B without a value."""

    platforms: tuple[str, ...] = Field(
        min_length=1,
        title="平台 Platforms",
        description="接收用电数据的平台 (仅 HJ 212-2025) / platforms that get ST=44 data (2025 only)",
    )
    interval_s: int | None = Field(
        None,
        ge=30,
        le=3600,
        title="上传间隔 Interval",
        description="秒, 30-3600 同 RtdInterval; 默认为平台的 RtdInterval / seconds (30-3600 like RtdInterval, HJ 212 "
        "Table 4); default: the platforms' RtdInterval (the shortest)",
    )
    points: tuple[PowerPoint, ...] = Field(min_length=1, description="电表测点与因子代码 / meter points and codes")

    @model_validator(mode="after")
    def _unique(self) -> Self:
        for attr in ("point", "code"):
            seen = [getattr(p, attr) for p in self.points]
            twice = sorted({v for v in seen if seen.count(v) > 1})
            if twice:
                raise ValueError(f"points: {attr} {', '.join(twice)} given more than once")
        return self


class OutletConfig(OutletParams):
    """`[outlets.<id>]`: one monitoring point (one MN per platform): the statistics parameters of
    agent.stats.params.OutletParams; the table name is the outlet id."""

    title: str = Field("", title="名称 Title", description="排放口名称 / outlet name, e.g. 1号锅炉烟囱 boiler 1 stack")
    factors: tuple[OutletFactor, ...] = Field((), description="监测因子 / measured factors")  # type: ignore[assignment]
    equipment: tuple[OutletEquipment, ...] = Field(  # type: ignore[assignment]
        (), description="生产/治理设施 (用电或开关量) / production and treatment facilities"
    )
    power: OutletPower | None = Field(
        None, description="用电监控 ST=44 (HJ 212-2025) / electricity monitoring data for 2025 platforms"
    )

    def params(self, sources: dict[str, str] | None = None) -> OutletParams:
        """The statistics engine's parameters; `sources` gives each equipment's reading code."""
        data = {k: getattr(self, k) for k in OutletParams.model_fields if k not in ("factors", "equipment")}
        data["factors"] = tuple(f.params() for f in self.factors)
        data["equipment"] = tuple(
            EquipmentParams(
                **{k: getattr(e, k) for k in EquipmentParams.model_fields if k != "source"},
                source=(sources or {}).get(e.code) or e.source or e.code,
            )
            for e in self.equipment
        )
        return OutletParams(**data)


# Outlet keys `[statistics]` may set for every outlet at once (an outlet's own value wins).
STATISTICS_SHARED = ("min_interval", "rtd_interval", "validity", "flags", "alarms", "cou_method")

_StatisticsShared = create_model(
    "_StatisticsShared",
    __base__=_Model,
    **{
        k: (OutletParams.model_fields[k].annotation, FieldInfo.merge_field_infos(OutletParams.model_fields[k]))
        for k in STATISTICS_SHARED
    },
)


class StatisticsConfig(_StatisticsShared):  # type: ignore[misc, valid-type]
    """`[statistics]`: engine settings, and outlet settings shared by all outlets (each outlet may override)."""

    close_delay_s: float = Field(
        10.0,
        ge=0,
        le=120,
        title="关窗延迟 Close delay",
        description="窗口结束后等待在途读数的秒数 / seconds a window waits for readings in flight after its end",
    )


# --- the whole file ----------------------------------------------------------------------------------------------


class SiteConfig(_Model):
    """The site configuration file (`das config check`); see docs/configuration.md."""

    version: Literal[1] = Field(
        CONFIG_VERSION, title="格式版本 Version", description="配置格式版本 / configuration format version"
    )
    site: SiteInfo = Field(description="站点 / the site")
    store: StoreConfig = Field(StoreConfig(), description="数据存储 / the SQLite store")
    retention: RetentionConfig = Field(RetentionConfig(), description="数据保存期限 / how long data is kept")
    statistics: StatisticsConfig = Field(  # type: ignore[valid-type]
        default_factory=StatisticsConfig, description="统计设置 (各排放口共用) / statistics settings shared by outlets"
    )
    links: dict[str, LinkConfig] = Field(description="通讯链路 / serial ports and TCP endpoints")
    devices: dict[str, DeviceConfig] = Field(description="设备 / devices: profile, link, address, point settings")
    outlets: dict[str, OutletConfig] = Field(description="排放口 / outlets (monitoring points)")
    platforms: dict[str, PlatformConfig] = Field(  # type: ignore[valid-type]
        {}, description="监管平台 / regulators' platforms (HJ 212 over TCP)"
    )
    mqtt: dict[str, MqttConfig] = Field({}, description="MQTT 代理 / MQTT brokers")  # type: ignore[valid-type]

    _profiles: dict[str, Profile] = PrivateAttr(default_factory=dict)
    _source: str = PrivateAttr("")
    _secret_sources: dict[str, str] = PrivateAttr(default_factory=dict)

    @field_validator("links", "devices", "outlets", "platforms", "mqtt")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not _NAME.match(name) or len(name) > 40:
                raise ValueError(f"{name!r}: names use 1-40 letters, digits, _ . - (no spaces, no '/')")
        return value

    @model_validator(mode="before")
    @classmethod
    def _outlet_ids(cls, data: Any) -> Any:
        """The outlet id is its table name; OutletParams calls it `outlet`."""
        if isinstance(data, dict) and isinstance(data.get("outlets"), dict):
            outlets = {}
            for name, table in data["outlets"].items():
                if isinstance(table, dict):
                    if "outlet" in table:
                        raise ValueError(f"outlets.{name}.outlet: the outlet id is the table name; remove this key")
                    table = {"outlet": name, **table}
                outlets[name] = table
            data = {**data, "outlets": outlets}
        return data

    @property
    def profiles(self) -> dict[str, Profile]:
        """Device name → its loaded profile (filled by `load_config`)."""
        return dict(self._profiles)

    @property
    def secret_sources(self) -> dict[str, str]:
        """Secret name → where it came from (`$DAS_SECRET_…` or the secrets file); never the value."""
        return dict(self._secret_sources)

    @property
    def source(self) -> str:
        """The file this configuration was loaded from."""
        return self._source
