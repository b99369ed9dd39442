"""Secrets come from the environment or a root-only file, and never show in repr, errors or summaries."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from config_site import edit, write

from agent.config import ConfigError, load_config
from agent.config.build import mqtt_settings, platform_settings
from agent.config.secrets import env_name

PW = "Zq7x9k"
KEY = "0123456789abcdef0123456789ABCDEF"


def with_secrets(tmp_path: Path, mode: int = 0o600) -> tuple[Path, str]:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'national_pw = "{PW}"\nprov_key = "{KEY}"\nbroker = "s3cr3t-mqtt"\n', encoding="utf-8")
    secrets.chmod(mode)
    text = edit('name = "测试站 / test site"\n', 'name = "测试站 / test site"\nsecrets_file = "secrets.toml"\n')
    text += (
        '\n[platforms.prov]\nhost = "127.0.0.1"\nport = 9002\nversion = 2025\nencrypt = true\n'
        'sm4_key = { secret = "prov_key" }\nmns = { DA001 = "X1" }\n'
        '\n[mqtt.cloud]\nhost = "127.0.0.1"\nusername = "das"\npassword = { secret = "broker" }\n'
        'site = "test-site"\n'
    )
    return write(tmp_path, text), text


def test_env_name() -> None:
    assert env_name("nat_pw") == "DAS_SECRET_NAT_PW"
    assert env_name("mqtt_cloud-1_password") == "DAS_SECRET_MQTT_CLOUD_1_PASSWORD"


def test_secrets_from_a_private_file_and_implicit_names(tmp_path: Path) -> None:
    path, _ = with_secrets(tmp_path)
    config = load_config(path, environ={})
    platforms = platform_settings(config)
    assert platforms["national"].pw == PW  # implicit name national_pw
    assert platforms["prov"].sm4_key == KEY
    cloud = mqtt_settings(config)["cloud"]
    assert cloud.password is not None and cloud.password.get_secret_value() == "s3cr3t-mqtt"
    assert cloud.target == "mqtt:cloud" and cloud.site == "test-site"
    text = repr(config) + str(config) + repr(config.model_dump())
    for secret in (PW, KEY, "s3cr3t-mqtt"):
        assert secret not in text


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    path, _ = with_secrets(tmp_path)
    config = load_config(path, environ={"DAS_SECRET_NATIONAL_PW": "EnvPw1"})
    assert platform_settings(config)["national"].pw == "EnvPw1"


def test_a_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path, text = with_secrets(tmp_path, mode=0o644)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    line = text.splitlines().index('secrets_file = "secrets.toml"') + 1
    assert f"{path}:{line}: site.secrets_file: " in str(info.value)
    assert "0644" in str(info.value) and "chmod 600" in str(info.value)


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_a_file_owned_by_someone_else_is_refused(tmp_path: Path) -> None:
    path, _ = with_secrets(tmp_path)
    os.chown(tmp_path / "secrets.toml", 4242, 4242)
    with pytest.raises(ConfigError, match="owned by uid 4242"):
        load_config(path, environ={})


def test_a_missing_secret_says_where_it_looked(tmp_path: Path) -> None:
    text = edit("port = 9001\n", 'port = 9001\npw = { secret = "nat_pw" }\n')
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), environ={})
    msg = str(info.value)
    assert "platforms.national.pw" in msg and "DAS_SECRET_NAT_PW" in msg


def test_a_bad_secret_value_is_reported_without_the_value(tmp_path: Path) -> None:
    text = edit("port = 9001\n", 'port = 9001\npw = { secret = "nat_pw" }\n')
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), environ={"DAS_SECRET_NAT_PW": "far-too-long-password"})
    msg = str(info.value)
    assert "platforms.national.pw" in msg and "1-6 letters" in msg
    assert "far-too-long-password" not in msg


def test_a_literal_password_is_accepted_but_hidden(tmp_path: Path) -> None:
    text = edit("port = 9001\n", f'port = 9001\npw = "{PW}"\n')
    config = load_config(write(tmp_path, text), environ={})
    assert PW not in repr(config)
    assert platform_settings(config)["national"].pw == PW
