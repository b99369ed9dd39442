"""Secrets (platform passwords, SM4 keys, MQTT passwords) kept out of the configuration file.

A secret value in the configuration is either written out (fine for a bench) or a reference
`{ secret = "NAME" }`. A reference is looked up in the environment variable `DAS_SECRET_<NAME>` (upper case,
other characters → `_`) first, then as key `NAME` in the secrets file (`secrets_file`, a flat TOML table of
strings). The secrets file must be readable by nobody but its owner (mode 0600 or 0400) and owned by root or
the user the agent runs as: anyone who can read it can impersonate the site to its regulator.

Implicit names: a platform without `pw` takes the secret `<platform>_pw` when one exists, likewise
`<platform>_sm4_key` and, for MQTT, `mqtt_<name>_password`, so a site can keep every secret out of the file
without writing references.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path

__all__ = ["ENV_PREFIX", "SecretError", "SecretResolver", "env_name"]

ENV_PREFIX = "DAS_SECRET_"
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class SecretError(ValueError):
    """A secret that cannot be had; the message names where it was looked for, never a value."""


def env_name(name: str) -> str:
    """`nat_pw` → `DAS_SECRET_NAT_PW`."""
    return ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", name.upper())


class SecretResolver:
    """Looks secrets up in the environment, then in the secrets file (read once, on first need)."""

    def __init__(self, file: Path | None, environ: Mapping[str, str] | None = None, uid: int | None = None) -> None:
        self.file = file
        self.environ = os.environ if environ is None else environ
        self.uid = os.geteuid() if uid is None else uid
        self._values: dict[str, str] | None = None
        self._file_error: str | None = None
        self.used: dict[str, str] = {}  # secret name → where it came from (for the summary, never the value)

    def _load(self) -> dict[str, str]:
        if self._values is not None:
            return self._values
        self._values = {}
        if self.file is None:
            return self._values
        try:
            info = self.file.stat()
        except FileNotFoundError:
            self._file_error = f"secrets file {self.file} does not exist / 密钥文件不存在"
            return self._values
        except OSError as err:
            self._file_error = f"secrets file {self.file}: {err.strerror} / 无法读取密钥文件"
            return self._values
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            self._file_error = (
                f"secrets file {self.file} has mode {stat.S_IMODE(info.st_mode):04o}; 0600 or 0400 expected "
                f"(chmod 600 {self.file}) / 密钥文件权限过宽"
            )
            return self._values
        if info.st_uid not in (0, self.uid):
            self._file_error = (
                f"secrets file {self.file} is owned by uid {info.st_uid}; root or the agent's user (uid {self.uid}) "
                f"expected / 密钥文件属主不对"
            )
            return self._values
        try:
            data = tomllib.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as err:
            self._file_error = f"secrets file {self.file}: cannot read ({err}) / 无法读取密钥文件"
            return self._values
        except tomllib.TOMLDecodeError as err:
            # The message of a TOML error quotes no values, only positions.
            self._file_error = f"secrets file {self.file}: not valid TOML ({err}) / 密钥文件格式错误"
            return self._values
        bad = [k for k, v in data.items() if not isinstance(v, str)]
        if bad:
            self._file_error = f'secrets file {self.file}: {", ".join(bad)}: text values expected (key = "…")'
            return self._values
        self._values = dict(data)
        return self._values

    def file_problem(self) -> str | None:
        """What is wrong with the configured secrets file (missing, mode, owner, syntax), or None."""
        self._load()
        return self._file_error

    def has(self, name: str) -> bool:
        return env_name(name) in self.environ or name in self._load()

    def get(self, name: str) -> str:
        """The secret's value; `SecretError` saying where it was looked for when there is none."""
        if not _NAME.match(name):
            raise SecretError(f"secret name {name!r}: 1-64 letters, digits, _ . - expected")
        env = env_name(name)
        if env in self.environ:
            self.used[name] = f"${env}"
            return self.environ[env]
        values = self._load()
        if name in values:
            self.used[name] = str(self.file)
            return values[name]
        where = f"environment variable {env}"
        if self.file is None:
            where += " (no secrets_file configured)"
        elif self._file_error:
            where += f" or {self._file_error}"
        else:
            where += f" or key {name!r} in {self.file}"
        raise SecretError(f"secret {name!r} not found / 找不到密钥: looked in {where}")
