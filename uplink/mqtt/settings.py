"""Settings of one MQTT target: broker, credentials, TLS, topic prefix and site, outbox pacing.

Frozen and strict like every settings model here (unknown keys are refused: a misspelt `pasword` must not
silently mean "no password"). The outbox target of these settings is `"mqtt:<name>"` (the uplink contract),
so records are enqueued for it by the same `Store.put_record(record, targets=[...])` as HJ 212 targets.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from agent.model import KIND_NAMES

__all__ = ["MQTT_KINDS", "FactorLabel", "MqttSettings", "MqttTls"]

# Topic kinds a target may carry: the record kinds by their names (runtime = RecordKind.RUNTIME_DAY) and alarms.
MQTT_KINDS = (*KIND_NAMES.values(), "alarm")
_LEVEL = re.compile(r"[^/+#\x00]+")  # one MQTT topic level: no separator, no wildcard, no NUL (MQTT 3.1.1 §4.7)
_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_ZONE = re.compile(r"[+-](?:0\d|1[0-4]):[0-5]\d")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FactorLabel(_Model):
    """How a factor code is labelled in payloads; overrides the built-in HJ 212 Appendix B table."""

    name_zh: str = Field("", title="中文名 Chinese name", description="e.g. 二氧化硫")
    name_en: str = Field("", title="英文名 English name", description="e.g. SO2")
    unit: str = Field("", title="浓度单位 Unit", description="Unit of Rtd/Avg/Min/Max/ZsAvg, e.g. mg/m3")
    cou_unit: str = Field("", title="排放量单位 Cou unit", description="Unit of Cou (the emitted amount), e.g. kg")


class MqttTls(_Model):
    """TLS towards the broker; without `ca_certs` the system's CA store verifies the broker. Relative paths are
    taken from the configuration file's folder (`relative_to`)."""

    ca_certs: Path | None = Field(None, title="CA 证书 CA file", description="PEM file of the CA(s) to trust")
    certfile: Path | None = Field(None, title="客户端证书 Client certificate", description="PEM, when the broker asks")
    keyfile: Path | None = Field(None, title="客户端私钥 Client key", description="PEM key of certfile")
    verify_hostname: bool = Field(
        True,
        title="校验主机名 Verify host name",
        description="Off only for brokers reached by an address not in their cert",
    )

    @model_validator(mode="after")
    def _pairs(self) -> Self:
        if (self.certfile is None) != (self.keyfile is None):
            raise ValueError("tls: give both certfile and keyfile, or neither")
        return self

    def relative_to(self, base: Path) -> MqttTls:
        """Relative file paths taken from `base` (the configuration file's folder), not from the working directory
        the agent happens to run in (systemd starts it in `/`)."""
        update = {
            key: base / path
            for key in ("ca_certs", "certfile", "keyfile")
            if (path := getattr(self, key)) is not None and not path.is_absolute()
        }
        return self.model_copy(update=update)


class MqttSettings(_Model):
    """One MQTT target (docs/mqtt.md lists the topics and payloads these settings produce)."""

    name: str = Field(title="名称 Name", description="Target name; the outbox target is mqtt:<name>")
    host: str = Field(min_length=1, title="服务器 Broker host")
    port: int = Field(1883, ge=1, le=65535, title="端口 Port", description="1883 plain, 8883 TLS by convention")
    protocol: Literal["3.1.1", "5"] = Field("3.1.1", title="协议版本 MQTT version")
    client_id: str = Field("", max_length=128, title="客户端标识 Client id", description="Empty: das-<site>-<name>")
    username: str | None = Field(None, title="用户名 Username")
    password: SecretStr | None = Field(None, title="密码 Password")
    tls: MqttTls | None = Field(None, title="TLS 加密 TLS", description="Off without this table")
    keepalive_s: int = Field(60, ge=5, le=3600, title="心跳 Keepalive (s)")
    prefix: str = Field("das", title="主题前缀 Topic prefix", description="One or more levels, e.g. das or acme/das")
    site: str = Field(title="站点 Site", description="Topic level naming this station")
    zone: str = Field("+08:00", title="时区 UTC offset", description="Offset given to the agent's naive local times")
    kinds: frozenset[str] = Field(frozenset(MQTT_KINDS), title="上传种类 Kinds", description="What the agent enqueues")
    window: int = Field(
        20, ge=1, le=1000, title="在途上限 In-flight limit", description="Items published and not yet PUBACKed"
    )
    reconnect_min_s: float = Field(1.0, gt=0, le=600, title="重连最短间隔 Reconnect delay min (s)")
    reconnect_max_s: float = Field(60.0, gt=0, le=3600, title="重连最长间隔 Reconnect delay max (s)")
    retry_s: float = Field(
        30.0,
        gt=0,
        le=86400,
        title="重试间隔 Retry (s)",
        description="Wait before re-sending an item the broker refused",
    )
    poll_s: float = Field(
        5.0, gt=0, le=600, title="轮询间隔 Poll (s)", description="Outbox look when nobody called notify()"
    )
    factors: dict[str, FactorLabel] = Field(
        default_factory=dict, title="因子标签 Factor labels", description="Per code; overrides the built-in table"
    )
    status_every_s: float = Field(
        300.0,
        ge=0,
        le=86400,
        title="状态发布间隔 Status interval (s)",
        description="Retained status at least this often; also at start and on every change of a device, platform "
        "or broker link. 0: only then",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError(f"name {value!r}: use letters, digits, '_', '.', '-'")
        return value

    @field_validator("site")
    @classmethod
    def _site(cls, value: str) -> str:
        if not _LEVEL.fullmatch(value):
            raise ValueError(f"site {value!r} must be one non-empty topic level without '/', '+', '#'")
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not all(_LEVEL.fullmatch(level) for level in value.split("/")):
            raise ValueError(f"prefix {value!r}: levels must be non-empty, without '+', '#' or a leading/trailing '/'")
        return value

    @field_validator("zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if not _ZONE.fullmatch(value):
            raise ValueError(f"zone {value!r}: expected an offset such as +08:00")
        return value

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, value: frozenset[str]) -> frozenset[str]:
        unknown = sorted(set(value) - set(MQTT_KINDS))
        if unknown:
            raise ValueError(f"unknown kinds {unknown}; expected some of {', '.join(MQTT_KINDS)}")
        return value

    @model_validator(mode="after")
    def _checks(self) -> Self:
        if self.password is not None and self.username is None:
            raise ValueError("password without username: MQTT sends a password only with a user name")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be at least reconnect_min_s")
        return self

    def relative_to(self, base: Path) -> MqttSettings:
        """These settings with relative TLS file paths resolved against `base` (the configuration file's folder)."""
        return self if self.tls is None else self.model_copy(update={"tls": self.tls.relative_to(base)})

    @property
    def target(self) -> str:
        """The outbox target name (uplink contract)."""
        return f"mqtt:{self.name}"

    @property
    def effective_client_id(self) -> str:
        return self.client_id or f"das-{self.site}-{self.name}"
