"""Relative paths in a configuration file are the file's, not the working directory's (systemd starts the agent
in /): MQTT TLS files in the site config (agent.config.build.mqtt_settings) and the minimal uplink file
(uplink.settings.load_uplink_config: store and TLS files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from uplink.settings import load_uplink_config


def test_relative_tls_paths_are_the_config_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agent.config import build, load_config

    site_dir = tmp_path / "etc"
    site_dir.mkdir()
    (site_dir / "agent.toml").write_text(
        """
[site]
name = "plant"
[links.gw]
type = "tcp"
host = "127.0.0.1"
[devices.cems]
profile = "cems_sick_mcs100ft"
link = "gw"
[outlets.DA001]
kind = "gas"
[[outlets.DA001.factors]]
code = "a21026"
point = "cems.so2"
[mqtt.cloud]
host = "127.0.0.1"
site = "plant"
tls = { ca_certs = "certs/ca.pem", certfile = "/abs/client.pem", keyfile = "certs/client.key" }
""",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)  # the working directory is not the config's folder (systemd starts the agent in /)
    tls = build.mqtt_settings(load_config(site_dir / "agent.toml"))["cloud"].tls
    assert tls is not None
    assert (tls.ca_certs, tls.certfile, tls.keyfile) == (
        site_dir / "certs/ca.pem",
        Path("/abs/client.pem"),
        site_dir / "certs/client.key",
    )


def test_the_uplink_files_store_and_tls_paths_are_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "etc").mkdir()
    path = tmp_path / "etc" / "uplink.toml"
    path.write_text(
        'store = "das.sqlite"\n[[mqtt]]\nname = "cloud"\nhost = "h"\nsite = "plant"\ntls = { ca_certs = "ca.pem" }\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    config = load_uplink_config(path)
    assert config.store == str(tmp_path / "etc" / "das.sqlite")
    assert config.mqtt[0].tls is not None and config.mqtt[0].tls.ca_certs == tmp_path / "etc" / "ca.pem"
    path.write_text('store = "/var/lib/das/das.sqlite"\n', encoding="utf-8")
    assert load_uplink_config(path).store == "/var/lib/das/das.sqlite"
