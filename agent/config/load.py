"""`load_config(path) -> SiteConfig`: read, migrate, validate and cross-check a site configuration.

Every problem comes back at once in one `ConfigError` (`FILE:LINE: key: what was expected (got …)`); secret
values never appear in it, even when a value that is a secret is what is wrong.
"""

from __future__ import annotations

import copy
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError

from agent.config.checks import check_site
from agent.config.errors import ConfigError, Problem, problems_from_validation
from agent.config.locate import KeyPath, key_lines, line_of
from agent.config.model import CONFIG_VERSION, STATISTICS_SHARED, SiteConfig
from agent.config.secrets import SecretResolver

__all__ = ["load_config", "parse_config"]

# version → function turning a file of that version into the next one. Version 1 is the first: none yet.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

_AT_LINE = re.compile(r"\(at line (\d+), column \d+\)")
_DECLARED = re.compile(r"Cannot declare \(([^)]*)\) twice")


def _syntax_problem(err: tomllib.TOMLDecodeError) -> Problem:
    text = str(err)
    at = _AT_LINE.search(text)
    line = int(at.group(1)) if at else None
    message = _AT_LINE.sub("", text).strip()
    key: KeyPath = ()
    declared = _DECLARED.search(text)
    if declared:
        key = tuple(part.strip().strip("'\"") for part in declared.group(1).split(",") if part.strip())
        message = "defined twice: names must be unique / 名称重复 (TOML: " + message + ")"
    else:
        message = f"TOML syntax / 语法错误: {message}"
    return Problem(key, message, line)


def _merge(defaults: Mapping[str, Any], own: Mapping[str, Any], origin: KeyPath, target: KeyPath, remap: dict) -> dict:
    """`own` over `defaults`, tables merged key by key; remember which keys came from the defaults."""
    out = dict(own)
    for key, value in defaults.items():
        if key not in own:
            out[key] = copy.deepcopy(value)
            remap[(*target, key)] = (*origin, key)
        elif isinstance(value, Mapping) and isinstance(own[key], Mapping):
            out[key] = _merge(value, own[key], (*origin, key), (*target, key), remap)
    return out


def _prepare(data: dict[str, Any], resolver: SecretResolver) -> tuple[dict[str, Any], dict, list[Problem]]:
    """Outlet ids from table names, `[statistics]` shared keys into each outlet, implicit secret names."""
    problems: list[Problem] = []
    remap: dict[KeyPath, KeyPath] = {}
    data = dict(data)
    outlets = data.get("outlets")
    statistics = data.get("statistics")
    shared = {k: v for k, v in statistics.items() if k in STATISTICS_SHARED} if isinstance(statistics, dict) else {}
    if isinstance(outlets, dict):
        merged = {}
        for name, table in outlets.items():
            if isinstance(table, dict):
                if "outlet" in table:
                    problems.append(
                        Problem(("outlets", name, "outlet"), "the outlet id is the table name; remove this key")
                    )
                    table = {k: v for k, v in table.items() if k != "outlet"}
                table = _merge(shared, table, ("statistics",), ("outlets", name), remap)
            merged[name] = table
        data["outlets"] = merged
    for section, keys in (("platforms", (("pw", "pw"), ("sm4_key", "sm4_key"))), ("mqtt", (("password", "password"),))):
        tables = data.get(section)
        if not isinstance(tables, dict):
            continue
        filled = {}
        for name, table in tables.items():
            if isinstance(table, dict):
                table = dict(table)
                for key, suffix in keys:
                    implicit = f"{name}_{suffix}" if section == "platforms" else f"mqtt_{name}_{suffix}"
                    if key not in table and resolver.has(implicit):
                        table[key] = {"secret": implicit}
            filled[name] = table
        data[section] = filled
    return data, remap, problems


def _secret_values(config: SiteConfig) -> list[str]:
    values = []
    for table in (*config.platforms.values(), *config.mqtt.values()):
        for key in ("pw", "sm4_key", "password"):
            value = getattr(table, key, None)
            if isinstance(value, SecretStr) and value.get_secret_value():
                values.append(value.get_secret_value())
    return values


def _redact(problems: list[Problem], secrets: list[str]) -> list[Problem]:
    out = []
    for p in problems:
        message = p.message
        for secret in sorted(secrets, key=len, reverse=True):
            if len(secret) >= 3:
                message = message.replace(secret, "***")
        out.append(Problem(p.key, message, p.line))
    return out


def parse_config(
    text: str, source: str, base: Path | None = None, environ: Mapping[str, str] | None = None
) -> SiteConfig:
    """Validate configuration `text` (from `source`, relative paths against `base`)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(source, [_syntax_problem(err)]) from err
    try:
        lines = key_lines(text)
    except (IndexError, ValueError):  # pragma: no cover - the scanner follows tomllib's grammar
        lines = {}

    version = data.get("version", CONFIG_VERSION)
    if not isinstance(version, int) or not 1 <= version <= CONFIG_VERSION:
        raise ConfigError(
            source,
            [
                Problem(
                    ("version",),
                    f"{CONFIG_VERSION} expected (this agent reads versions 1-{CONFIG_VERSION}) (got {version!r})",
                    line_of(lines, ("version",)),
                )
            ],
        )
    while version < CONFIG_VERSION:
        data = MIGRATIONS[version](data)
        version += 1

    site = data.get("site") if isinstance(data.get("site"), dict) else {}
    secrets_file = site.get("secrets_file") if isinstance(site.get("secrets_file"), str) else None
    secrets_path = None
    if secrets_file:
        secrets_path = Path(secrets_file)
        if base is not None and not secrets_path.is_absolute():
            secrets_path = base / secrets_path
    resolver = SecretResolver(secrets_path, environ)
    data, remap, problems = _prepare(data, resolver)
    if secrets_path is not None:
        # Checked even when environment variables serve every secret: a readable secrets file is a leak.
        file_problem = resolver.file_problem()
        if file_problem:
            problems.append(Problem(("site", "secrets_file"), file_problem))

    try:
        config = SiteConfig.model_validate(data, context={"secrets": resolver})
    except ValidationError as err:
        problems += problems_from_validation(err, data, lines, remap=remap)
        _raise(source, problems, lines, [])
        raise AssertionError("unreachable") from err

    profiles, cross = check_site(config, base)
    problems += cross
    from agent.config.build import uplink_problems  # the uplink models check the values once more

    problems += uplink_problems(config, data, lines)
    _raise(source, problems, lines, _secret_values(config))
    config._profiles = profiles
    config._source = source
    config._secret_sources = dict(resolver.used)
    return config


def _raise(source: str, problems: list[Problem], lines: Mapping[KeyPath, int], secrets: list[str]) -> None:
    if not problems:
        return
    located = [p if p.line is not None else Problem(p.key, p.message, line_of(lines, p.key)) for p in problems]
    raise ConfigError(source, _redact(located, secrets))


def load_config(path: str | Path, environ: Mapping[str, str] | None = None) -> SiteConfig:
    """Load the site configuration at `path`; `ConfigError` lists every problem with its line and key.

    `environ` (default `os.environ`) is where `DAS_SECRET_*` variables are looked up.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(str(path), [Problem((), f"cannot read file / 无法读取: {err}")]) from err
    return parse_config(text, str(path), base=path.parent, environ=os.environ if environ is None else environ)
