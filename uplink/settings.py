"""Uplink settings: one `PlatformSettings` per regulator platform, one `MqttSettings` per broker.

`MqttSettings` is the MQTT publisher's own model (`uplink.mqtt.settings`: site, topic prefix, TLS with client
certificate …, docs/mqtt.md), re-exported here so there is one MQTT settings class for the config, the daemon
and the publisher.

Frozen pydantic models that check themselves (style.md §2.1, §4.3). HJ 477 asks a DAS to serve at least four
platforms at once, each with its own address, MN, PW, ST and protocol dialect, so nothing here is global. The
agent's full TOML config (a later issue) embeds these same models; until then `das uplink` reads a minimal file
with `[[platforms]]` and `[[mqtt]]` tables (`load_uplink_config`, docs/uplink.md).

What a platform changes by command (1072 PW, 1062/1064 intervals, 1000 OverTime/ReCount, 1002 MN, 1014 SM4 key,
2011/2012/2021/2022 uploads on/off) is applied on top of these with `apply_setting`, keyed by `SettingKey`.
"""

from __future__ import annotations

import re
import tomllib
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from uplink.hj212 import Dialect
from uplink.mqtt.settings import MqttSettings

# HJ 212-2017 Table 4: MinInterval may only divide an hour evenly.
MIN_INTERVALS = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)
_PW = re.compile(r"[0-9A-Za-z]{1,6}")
_ST = re.compile(r"[0-9A-Z]{2}")
_MN = re.compile(r"[0-9A-Za-z_-]{1,24}")
_NAME = re.compile(r"[0-9A-Za-z_.-]{1,40}")


class UplinkConfigError(ValueError):
    """The uplink configuration file is missing, unreadable or has a bad value; the message names file and key."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def sm4_key_bytes(text: str | None) -> bytes | None:
    """16 ASCII characters as they are (the standard's A.2 key is 16 × '0'), or 32 hex digits."""
    if text is None:
        return None
    raw = text.encode()
    return raw if len(raw) == 16 else bytes.fromhex(text)


def check_sm4_key(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value.encode()) == 16 or re.fullmatch(r"[0-9A-Fa-f]{32}", value):
        return value
    raise ValueError(f"sm4_key must be 16 ASCII characters or 32 hex digits, got {len(value)} characters")


class UploadKinds(_Model):
    """Which uploads a platform receives. 2011/2012 and 2021/2022 from the platform switch rtd/state at run time."""

    rtd: bool = Field(True, description="2011 实时数据 / real-time data")
    minute: bool = Field(True, description="2051 分钟数据 / minute data")
    hour: bool = Field(True, description="2061 小时数据 / hour data")
    day: bool = Field(True, description="2031 日数据 / day data")
    runtime: bool = Field(True, description="2041 设备运行时间日数据 / equipment running time")
    state: bool = Field(False, description="2021 设备运行状态 / equipment state (off until the platform asks, 2021)")
    restart: bool = Field(True, description="2081 数采仪开机时间 / DAS restart time")
    instrument_sn: bool = Field(True, description="3019 仪器更换时上传序列号 / instrument SN on replacement")
    site_info: bool = Field(True, description="3020 动态管控 i12xxx/i13xxx 变化上传 / analyzer state and parameters")
    standard_check: bool = Field(True, description="2062 标样核查结果 (仅 2025) / standard-check results (2025)")
    power: bool = Field(True, description="ST=44 用电监控 (仅 2025) / electricity data (2025)")


class ClockSetBounds(_Model):
    """What a platform's 1012 may set the agent clock to: anything outside is refused (ExeRtn 3).

    A platform with a broken clock must not move the DAS into another year: windows and DataTimes would follow.
    """

    earliest: datetime = Field(datetime(2020, 1, 1), description="最早可设时间 / earliest time a 1012 may set")
    latest: datetime = Field(datetime(2099, 12, 31, 23, 59, 59), description="最晚可设时间 / latest time")
    max_step_s: float | None = Field(
        None, ge=0, description="单次最大校正 s, 空 = 不限 / largest correction in one 1012 (None: no limit)"
    )


class SettingKey(StrEnum):
    """Run-time overrides a platform may make by command; values travel as text (as in the CP)."""

    PW = "pw"  # 1072 NewPW
    RTD_INTERVAL = "rtd_interval"  # 1062 RtdInterval (s)
    MIN_INTERVAL = "min_interval"  # 1064 MinInterval (min)
    OVER_TIME = "over_time"  # 1000 OverTime (s)
    RE_COUNT = "re_count"  # 1000 ReCount
    MN = "mn"  # 1002 new MN (2025), for this session's outlet
    SM4_KEY = "sm4_key"  # 1014 NewSK (2025)
    SM4_KEY_CREATED = "sm4_key_created"  # 1014 SKCreateTime of the key set, or the key's first use
    UPLOAD_RTD = "upload.rtd"  # 2011 start / 2012 stop real-time upload: "1" / "0"
    UPLOAD_STATE = "upload.state"  # 2021 start / 2022 stop equipment state upload: "1" / "0"


class PlatformSettings(_Model):
    """One regulator platform: where it is, how it speaks (dialect), who we are to it (MN per outlet), timers.

    Defaults follow HJ 212-2017 Table 1 (OverTime 10 s / ReCount 3 for 4G links; 5 s for ADSL).
    """

    name: str = Field(description="平台名称 (目标名前缀) / platform name, the outbox target is `<name>/<outlet>`")
    host: str = Field(min_length=1, description="平台地址 / platform host name or IP")
    port: int = Field(ge=1, le=65535, description="平台端口 / platform TCP port")
    version: Literal[2017, 2025] = Field(2017, description="HJ 212 版本 / protocol version")
    encrypt: bool = Field(False, description="SM4 加密 CP (仅 2025, §6.4) / SM4-encrypt the CP (2025 only)")
    sm4_key: str | None = Field(None, description="SM4 密钥: 16 个 ASCII 字符或 32 位十六进制 / SM4 key")
    sm4_key_created: datetime | None = Field(
        None,
        description="密钥创建时间; 空 = 以首次使用时间计 / when sm4_key was made (empty: counted from its first use)",
    )
    key_rotation_days: float = Field(
        90.0, gt=0, le=3650, description="密钥有效期 天 (2025 §6.4.3: 90) / days a key is used before the next one"
    )
    key_request_lead_days: float = Field(
        7.0, ge=0, description="提前多少天请求新密钥 1014 / days before expiry the DAS asks for the next key (1014)"
    )
    key_request_time: Literal["request", "key"] = Field(
        "request",
        description="1014 请求中 SKCreateTime 填: request = 请求时间, key = 当前密钥创建时间 (标准未明) / what the "
        "1014 request's SKCreateTime carries: the request time or the current key's creation time (uncertain)",
    )
    cipher_wire: Literal["binary", "text"] = Field(
        "binary", description="密文形式 / cipher wire form: raw bytes or `{0x..}` text (docs/hj212.md)"
    )
    split_limit: int = Field(1024, ge=100, le=9999, description="数据段上限字节, 超出则拆包 / split above this")
    want_answer: bool = Field(
        True, description="上传要求应答 (Flag A 位) / set the answer bit; False: done after a healthy grace period"
    )
    st: str = Field("31", description="系统编码 ST (31 废气, 32 废水 …) / system code")
    pw: str = Field("123456", description="访问密码 PW / access password (1-6 letters or digits)")
    mns: dict[str, str] = Field(
        description='监测点 → MN; 2025 可为空 "" 待平台 1002 分配 / outlet name → MN on this platform (one session '
        'each); in 2025 "" until the platform assigns one (1001 → 1002)'
    )
    rtd_interval: int = Field(30, ge=30, le=3600, description="实时数据间隔 s / real-time upload interval")
    min_interval: int = Field(10, description="分钟数据间隔 min / minute data interval (divides 60)")
    over_time: float = Field(10.0, gt=0, le=99, description="超时时间 s (表1: 4G 10, ADSL 5) / answer timeout")
    re_count: int = Field(3, gt=0, le=99, description="重发次数 (表1: 3) / retries before the link is down")
    heartbeat_s: float = Field(
        60.0, ge=0, description="心跳 9015 间隔 s (仅 2025; 0 = 关) / heartbeat interval (2025 only; 0 = off)"
    )
    no_answer_grace_s: float = Field(
        5.0, ge=0, description="无应答平台: 写出后连接保持正常多久算送达 s / grace before a no-answer send counts"
    )
    window: int = Field(1, ge=1, le=32, description="未应答包并发数 (1 = 停等) / packets in flight (1 = stop-and-wait)")
    backlog_share: float = Field(
        0.5,
        ge=0,
        le=0.9,
        description="有实时数据等待时补发所占发送比例 (≤0.9, 实时数据不会饿死) / backlog share while live data waits",
    )
    live_age_s: float = Field(
        900.0, gt=0, description="多新的数据算实时 s / data newer than this is live, older is backlog (RF=1 in 2025)"
    )
    upload: UploadKinds = Field(default_factory=UploadKinds, description="上传内容 / which uploads are sent")
    decimals: dict[str, int] = Field(
        default_factory=dict, description="因子小数位 / decimals per factor or `code-suffix` (overrides the outlet's)"
    )
    clock_drift_limit_s: float = Field(
        30.0, gt=0, description="时钟偏差超过此值时请求校时 1013 s / drift beyond which the DAS asks for a time set"
    )
    clock_set_bounds: ClockSetBounds = Field(default_factory=ClockSetBounds, description="1012 可设范围 / 1012 bounds")
    send_identity: Literal["auto", "on_connect", "never"] = Field(
        "auto",
        description="1001 硬件序列号 (仅 2025, 需 [site] das_id): auto = MN 为空 (未分配) 时每次连接发送, on_connect = "
        "每次连接, never / 2025 1001 hardware serial (needs [site] das_id): auto = on each connection while the MN is "
        "empty (not assigned yet), on_connect = on every connection, never",
    )
    backoff_min_s: float = Field(1.0, gt=0, description="重连最短等待 s / first reconnect delay")
    backoff_max_s: float = Field(300.0, gt=0, description="重连最长等待 s / longest reconnect delay")
    connect_timeout_s: float = Field(10.0, gt=0, description="连接超时 s / TCP connect timeout")

    @field_validator("name")
    @classmethod
    def _name_shape(cls, value: str) -> str:
        if not _NAME.fullmatch(value) or value.startswith("mqtt"):
            raise ValueError(f"name must be 1-40 of [0-9A-Za-z_.-] and not start with 'mqtt', got {value!r}")
        return value

    @field_validator("sm4_key")
    @classmethod
    def _key_shape(cls, value: str | None) -> str | None:
        return check_sm4_key(value)

    @field_validator("st")
    @classmethod
    def _st_shape(cls, value: str) -> str:
        if not _ST.fullmatch(value):
            raise ValueError(f"ST must be 2 characters of [0-9A-Z] (HJ 212 Table 5), got {value!r}")
        return value

    @field_validator("pw")
    @classmethod
    def _pw_shape(cls, value: str) -> str:
        if not _PW.fullmatch(value):
            raise ValueError(f"PW must be 1-6 letters or digits, got {value!r}")
        return value

    @field_validator("mns")
    @classmethod
    def _mns_shape(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("mns needs at least one outlet = MN")
        for outlet, mn in value.items():
            if not outlet or "/" in outlet:
                raise ValueError(f"outlet name {outlet!r} must be non-empty without '/'")
            if mn and not _MN.fullmatch(mn):
                raise ValueError(f"MN of {outlet} must be 1-24 letters, digits, '_' or '-', got {mn!r}")
        return value

    @field_validator("min_interval")
    @classmethod
    def _min_interval(cls, value: int) -> int:
        if value not in MIN_INTERVALS:
            raise ValueError(f"min_interval must be one of {MIN_INTERVALS} (divides an hour), got {value}")
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> PlatformSettings:
        if self.encrypt and self.version != 2025:
            raise ValueError("encrypt=true needs version=2025 (SM4 is an HJ 212-2025 feature, §6.4)")
        if self.encrypt and self.sm4_key is None:
            raise ValueError("encrypt=true needs sm4_key")
        if self.version != 2025 and not all(self.mns.values()):
            # Only HJ 212-2025 has a way to get an MN (1001 up, 1002 down, hj212-2025.md §4).
            raise ValueError("an empty MN (assigned later by the platform's 1002) needs version=2025")
        if self.key_request_lead_days >= self.key_rotation_days:
            raise ValueError("key_request_lead_days must be shorter than key_rotation_days")
        if self.backoff_max_s < self.backoff_min_s:
            raise ValueError("backoff_max_s must be at least backoff_min_s")
        return self

    @property
    def dialect(self) -> Dialect:
        return Dialect(
            version=self.version,
            encrypt=self.encrypt,
            sm4_key=sm4_key_bytes(self.sm4_key),
            cipher_wire=self.cipher_wire,
            split_limit=self.split_limit,
            want_answer=self.want_answer,
        )

    def key_request_due(self) -> datetime | None:
        """When to ask for the next SM4 key (1014): `key_request_lead_days` before the key is
        `key_rotation_days` old (2025 §6.4.3); None without encryption or a known creation time."""
        if self.version != 2025 or not self.encrypt or self.sm4_key_created is None:
            return None
        return self.sm4_key_created + timedelta(days=self.key_rotation_days - self.key_request_lead_days)

    @property
    def heartbeat(self) -> float | None:
        """9015 interval in s, or None: 2017 has no heartbeat (hj212.md §8), 0 switches it off."""
        return self.heartbeat_s if self.version == 2025 and self.heartbeat_s > 0 else None

    def target(self, outlet: str) -> str:
        return target_name(self.name, outlet)

    def targets(self) -> list[str]:
        return [self.target(outlet) for outlet in self.mns]


def target_name(platform: str, outlet: str) -> str:
    """Outbox target of one (platform, outlet) session: `"<platform>/<outlet>"` (api contract)."""
    return f"{platform}/{outlet}"


def apply_setting(settings: PlatformSettings, outlet: str, key: str, value: str) -> PlatformSettings:
    """`settings` with one run-time override applied; ValueError (naming key and value) when it does not fit.

    The result is validated like the file's settings, so a platform cannot set what the file could not.
    """
    try:
        skey = SettingKey(key)
    except ValueError as err:
        raise ValueError(f"unknown setting key {key!r}; known: {', '.join(k.value for k in SettingKey)}") from err
    data = settings.model_dump()
    if skey is SettingKey.MN:
        if outlet not in settings.mns:
            raise ValueError(f"outlet {outlet!r} has no MN on platform {settings.name}")
        if not value:
            raise ValueError("mn: an MN cannot be set to empty")
        data["mns"] = {**settings.mns, outlet: value}
    elif skey in (SettingKey.UPLOAD_RTD, SettingKey.UPLOAD_STATE):
        if value not in ("0", "1"):
            raise ValueError(f"{key} must be '0' or '1', got {value!r}")
        data["upload"] = {**data["upload"], skey.value.split(".")[1]: value == "1"}
    else:
        data[skey.value] = value
    try:
        return PlatformSettings.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors())
        raise ValueError(f"setting {key}={value!r} rejected: {problems}") from err


class UplinkConfig(_Model):
    """The minimal uplink file until the agent's config lands: `store`, `[[platforms]]`, `[[mqtt]]`."""

    store: str | None = Field(None, description="SQLite 存储路径 / the agent's store file")
    platforms: tuple[PlatformSettings, ...] = ()
    mqtt: tuple[MqttSettings, ...] = ()

    @model_validator(mode="after")
    def _unique_names(self) -> UplinkConfig:
        names = [p.name for p in self.platforms] + [m.name for m in self.mqtt]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"name used twice: {', '.join(dupes)}")
        return self

    def platform(self, name: str) -> PlatformSettings | None:
        return next((p for p in self.platforms if p.name == name), None)


def load_uplink_config(path: Path) -> UplinkConfig:
    """Read the uplink TOML file; errors name the file and the key path; relative paths are the file's."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise UplinkConfigError(f"{path}: cannot read ({err.strerror})") from err
    except tomllib.TOMLDecodeError as err:
        raise UplinkConfigError(f"{path}: not valid TOML ({err})") from err
    try:
        config = UplinkConfig.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors())
        raise UplinkConfigError(f"{path}: {problems}") from err
    # Relative paths (store, MQTT TLS files) are the file's, not the working directory's.
    base = path.parent
    store = config.store
    if store is not None and not Path(store).is_absolute():
        store = str(base / store)
    return config.model_copy(update={"store": store, "mqtt": tuple(m.relative_to(base) for m in config.mqtt)})
