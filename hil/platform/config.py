"""Reference platform configuration: a small TOML file (or CLI flags) validated by pydantic.

The dialect is pinned per MN, never guessed from a frame (hj212-2025.md §8: surface-water stations sent Flag=9
and 9015 long before 2025). Unknown MNs are either accepted with the default dialect or rejected with QnRtn 4.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from uplink.hj212 import Dialect

from .rates import STANDARD_CHECK_FACTORS


class PlatformConfigError(ValueError):
    """The configuration file is missing, unreadable or has a bad value; the message names file and key."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DialectConfig(_Model):
    """How frames of one MN are written: protocol version and, for 2025, SM4 encryption of the CP (§6.4)."""

    version: Literal[2017, 2025] = Field(2017, description="HJ 212 版本 / protocol version (2017 or 2025)")
    encrypt: bool = Field(False, description="SM4 加密 CP (仅 2025) / SM4-encrypt the CP area (2025 only)")
    sm4_key: str | None = Field(
        None, description="SM4 密钥: 16 个 ASCII 字符或 32 位十六进制 / 16 ASCII characters or 32 hex digits"
    )
    cipher_wire: Literal["binary", "text"] = Field(
        "binary", description="密文形式 / cipher wire form: raw bytes or `{0x..,..}` text (hj212-2025.md §2)"
    )

    @field_validator("sm4_key")
    @classmethod
    def _key_shape(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if len(value.encode()) == 16 or re.fullmatch(r"[0-9A-Fa-f]{32}", value):
            return value
        raise ValueError(f"sm4_key must be 16 ASCII characters or 32 hex digits, got {len(value)} characters")

    @model_validator(mode="after")
    def _encrypt_needs_key(self) -> DialectConfig:
        if self.encrypt and self.version != 2025:
            raise ValueError("encrypt=true needs version=2025 (SM4 is an HJ 212-2025 feature)")
        if self.encrypt and self.sm4_key is None:
            raise ValueError("encrypt=true needs sm4_key")
        return self

    def key_bytes(self) -> bytes | None:
        """The 16 key bytes: ASCII text as is (the standard's A.2 key is 16 × '0'), else 32 hex digits."""
        if self.sm4_key is None:
            return None
        raw = self.sm4_key.encode()
        return raw if len(raw) == 16 else bytes.fromhex(self.sm4_key)

    def dialect(self) -> Dialect:
        return Dialect(
            version=self.version, encrypt=self.encrypt, sm4_key=self.key_bytes(), cipher_wire=self.cipher_wire
        )


_HOURS = re.compile(r"^(\d{1,2})-(\d{1,2})$")


class MnConfig(DialectConfig):
    """One DAS (one MN) the platform knows: its password, dialect and the hours it must report each day."""

    mn: str = Field(min_length=1, max_length=24, description="数采仪编码 MN")
    pw: str = Field("123456", min_length=1, max_length=6, description="访问密码 PW")
    hours: str = Field(
        "0-24",
        description="应报小时窗口 / reporting window, `start-end` hours, end exclusive (0-24 = all day)",
    )
    factors: tuple[str, ...] = Field(
        (), description="应报因子 / factors that must be reported each hour (others are counted when seen)"
    )
    check_factors: tuple[str, ...] = Field(
        STANDARD_CHECK_FACTORS,
        description="标样核查因子: 每日一个 C 小时不参与有效率 / factors whose one C (standard check) hour a day "
        "is not counted (regs.md §3: COD, NH3-N, TP, TN)",
    )

    @field_validator("hours")
    @classmethod
    def _hours_shape(cls, value: str) -> str:
        match = _HOURS.match(value)
        if not match or not 0 <= int(match[1]) < int(match[2]) <= 24:
            raise ValueError(f"hours must look like '0-24' or '8-20' (start < end ≤ 24), got {value!r}")
        return value

    def hour_window(self) -> range:
        match = _HOURS.match(self.hours)
        assert match is not None  # checked by the validator
        return range(int(match[1]), int(match[2]))


class PlatformConfig(_Model):
    """The whole platform: where it listens, what it does with strangers, and the MNs it knows."""

    host: str = "127.0.0.1"
    port: int = Field(0, ge=0, le=65535, description="监听端口, 0 = 任选空闲端口 / listen port, 0 = any free port")
    db: str | None = Field(None, description="SQLite 记录文件 / SQLite recording file")
    unknown_mn: Literal["accept", "reject"] = Field(
        "accept", description="未知 MN: 按默认方言接收, 或拒绝 (QnRtn 4) / unknown MN: accept or reject"
    )
    dialect: DialectConfig = Field(default_factory=DialectConfig, description="默认方言 / default dialect")
    poll_interval: float = Field(0.2, gt=0, le=10, description="控制表轮询间隔 s / control table poll interval")
    command_timeout: float = Field(
        10.0, gt=0, le=3600, description="命令等待 9011/9012 的时限 s / time to wait for 9011, then for 9012"
    )
    sync_time_on_1013: bool = Field(True, description="收到 1013 校时请求后下发 1012 / answer 1013 with a 1012")
    realtime_grace: float = Field(
        0.0,
        ge=0,
        le=86400,
        description="即时传输宽限 s: 小时数据须在下一小时结束前 + 宽限到达 / seconds after the end of the next hour "
        "an hour record may arrive and still count as realtime (即时)",
    )
    mns: tuple[MnConfig, ...] = Field((), alias="mn", description="已知数采仪 / known DAS, `[[mn]]` tables")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _unique_mns(self) -> PlatformConfig:
        seen = [m.mn for m in self.mns]
        dupes = sorted({m for m in seen if seen.count(m) > 1})
        if dupes:
            raise ValueError(f"MN listed twice: {', '.join(dupes)}")
        return self

    def for_mn(self, mn: str) -> MnConfig | None:
        return next((m for m in self.mns if m.mn == mn), None)


def load_config(path: Path) -> PlatformConfig:
    """Read a platform TOML file: top-level keys, `[dialect]` and `[[mn]]` tables."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise PlatformConfigError(f"{path}: cannot read ({err.strerror})") from err
    except tomllib.TOMLDecodeError as err:
        raise PlatformConfigError(f"{path}: not valid TOML ({err})") from err
    try:
        return PlatformConfig.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors())
        raise PlatformConfigError(f"{path}: {problems}") from err
