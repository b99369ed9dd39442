"""`das service install` into a temporary root: real useradd/usermod (--prefix) and systemctl --root."""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from agent.cli.service import (
    DEFAULT_CONFIG,
    UNIT_NAME,
    VIDEO_UNIT_NAME,
    ServiceError,
    UnitSettings,
    _sample_config,
    format_status,
    plan_install,
    register,
    render_unit,
    render_video_unit,
)

DAS = "/opt/das-agent/bin/das"


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """das"""

    register(app)
    return app


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(_app(), ["service", *args])
    return result.exit_code, result.output


def _image(root: Path, *, interpreter: str = "/opt/das-agent/bin/python") -> Path:
    """A minimal system image: account files (with a dialout group) and a venv's `das` script."""
    etc = root / "etc"
    etc.mkdir(parents=True)
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (etc / "group").write_text("root:x:0:\ndialout:x:20:\n")
    (etc / "shadow").write_text("root:*::0:99999:7:::\n")
    (etc / "gshadow").write_text("root:*::\ndialout:*::\n")
    for name in ("shadow", "gshadow"):
        (etc / name).chmod(0o640)
    das = root / DAS.lstrip("/")
    das.parent.mkdir(parents=True)
    das.write_text(f"#!{interpreter}\nimport sys\nfrom agent.cli import main\nsys.exit(main())\n")
    das.chmod(0o755)
    return root


def _tree(root: Path) -> dict[str, tuple[int, bytes]]:
    return {
        str(p.relative_to(root)): (p.lstat().st_mode, p.read_bytes() if p.is_file() and not p.is_symlink() else b"")
        for p in root.rglob("*")
    }


@pytest.fixture
def as_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("install creates users and chowns files: run as root (CI does)")


def test_install_into_a_root_and_again(tmp_path: Path, as_root: None, require_tool: Callable[[str], str]) -> None:
    require_tool("useradd")
    root = _image(tmp_path / "img")
    code, out = _invoke("install", "--root", str(root), "--das", DAS, "--video")
    assert code == 0, out
    assert "完成 / done" in out

    passwd = (root / "etc/passwd").read_text()
    assert "das:x:" in passwd and ":/var/lib/das-agent:/usr/sbin/nologin" in passwd
    groups = {line.split(":")[0]: line.split(":") for line in (root / "etc/group").read_text().splitlines()}
    assert groups["dialout"][3] == "das"  # serial ports
    das_gid = int(groups["das"][2])

    settings = UnitSettings(das=DAS)
    units = root / "etc/systemd/system"
    assert (units / UNIT_NAME).read_text() == render_unit(settings)
    assert f"ExecStart={DAS} run --config /etc/das-agent/agent.toml" in render_unit(settings)
    assert (units / VIDEO_UNIT_NAME).read_text() == render_video_unit(settings)
    if shutil.which("systemctl"):
        link = units / "multi-user.target.wants" / UNIT_NAME
        assert os.readlink(link) == f"/etc/systemd/system/{UNIT_NAME}"
        assert not (units / "multi-user.target.wants" / VIDEO_UNIT_NAME).exists()  # video is opt-in

    conf_dir = root / "etc/das-agent"
    config = conf_dir / "agent.toml"
    assert stat.S_IMODE(conf_dir.stat().st_mode) == 0o750
    assert stat.S_IMODE(config.stat().st_mode) == 0o640  # platform passwords: not world-readable
    assert (config.stat().st_uid, config.stat().st_gid) == (0, das_gid)
    assert (conf_dir.stat().st_uid, conf_dir.stat().st_gid) == (0, das_gid)
    assert config.read_text().strip()
    assert "edit /etc/das-agent/agent.toml" in out  # a fresh config is not started blindly

    config.write_text("# edited by the installer\n")
    code, out = _invoke("install", "--root", str(root), "--das", DAS)
    assert code == 0, out
    assert "useradd" not in out and "usermod" not in out
    assert f"不变 / unchanged {units / UNIT_NAME}" in out
    assert config.read_text() == "# edited by the installer\n"  # never overwritten
    assert passwd == (root / "etc/passwd").read_text()


def test_existing_user_is_added_to_dialout(tmp_path: Path, as_root: None, require_tool: Callable[[str], str]) -> None:
    require_tool("usermod")
    root = _image(tmp_path / "img")
    with (root / "etc/passwd").open("a") as f:
        f.write("das:x:990:990::/var/lib/das-agent:/usr/sbin/nologin\n")
    with (root / "etc/group").open("a") as f:
        f.write("das:x:990:\n")
    with (root / "etc/shadow").open("a") as f:
        f.write("das:!::0:99999:7:::\n")
    with (root / "etc/gshadow").open("a") as f:
        f.write("das:!::\n")
    code, out = _invoke("install", "--root", str(root), "--das", DAS)
    assert code == 0, out
    assert "usermod" in out
    assert "dialout:x:20:das" in (root / "etc/group").read_text()
    assert (root / "etc/das-agent/agent.toml").stat().st_gid == 990


def test_dry_run_shows_the_plan_and_changes_nothing(tmp_path: Path) -> None:
    root = _image(tmp_path / "img")
    before = _tree(root)
    code, out = _invoke("install", "--root", str(root), "--das", DAS, "--user", "dasx", "--dry-run")
    assert code == 0, out
    assert "将要执行 / would do:" in out
    assert f"useradd --prefix {root} --system" in out and "--groups dialout dasx" in out
    assert f"写入 / write {root}/etc/systemd/system/{UNIT_NAME}" in out
    assert "write sample config" in out
    assert _tree(root) == before


def test_refuses_a_das_the_hardened_unit_cannot_see(tmp_path: Path) -> None:
    """ProtectHome=yes hides /root and /home: a venv there would fail at every start (status 203/EXEC)."""
    root = _image(tmp_path / "img", interpreter="/root/venv/bin/python")
    with pytest.raises(ServiceError, match="ProtectHome"):
        plan_install(UnitSettings(das=DAS), root=root)
    code, out = _invoke("install", "--root", str(root), "--das", DAS, "--dry-run")
    assert code == 1
    assert "/root/venv/bin/python" in out
    code, out = _invoke("install", "--root", str(root), "--das", "/opt/nothing/das", "--dry-run")
    assert code == 1 and "not an executable file" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--config", "agent.toml"], "absolute path"),
        (["--user", "Das Agent"], "invalid user name"),
    ],
)
def test_bad_settings_are_refused_clearly(tmp_path: Path, args: list[str], message: str) -> None:
    root = _image(tmp_path / "img")
    code, out = _invoke("install", "--root", str(root), "--das", DAS, "--dry-run", *args)
    assert code == 1
    assert message in out


def test_exec_start_quotes_paths_and_escapes_specifiers() -> None:
    unit = render_unit(UnitSettings(das="/opt/das agent/bin/das", config="/etc/das-agent/100%.toml"))
    assert 'ExecStart="/opt/das agent/bin/das" run --config /etc/das-agent/100%%.toml' in unit
    with pytest.raises(ServiceError):
        UnitSettings(das='/opt/"x"/das').command()


def test_unit_command_prints_what_install_writes() -> None:
    code, out = _invoke("unit", "--das", "/srv/venv/bin/das", "--user", "das2")
    assert code == 0
    assert out == render_unit(UnitSettings(das="/srv/venv/bin/das", user="das2"))
    code, out = _invoke("unit", "--video")
    assert out == render_video_unit()


def test_status_lines_from_systemctl_properties() -> None:
    lines, code = format_status(
        {
            "LoadState": "loaded",
            "ActiveState": "active",
            "SubState": "running",
            "Result": "success",
            "StatusText": "3/3 devices online, 2/2 platforms connected, backlog 0",
            "MainPID": "812",
            "NRestarts": "2",
        }
    )
    assert code == 0
    assert "状态 / state: active (running)" in lines
    assert "健康 / health: 3/3 devices online, 2/2 platforms connected, backlog 0" in lines
    assert "重启次数 / restarts: 2" in lines
    lines, code = format_status({"LoadState": "loaded", "ActiveState": "activating", "Result": "watchdog"})
    assert code == 3
    assert "上次结果 / last result: watchdog" in lines
    lines, code = format_status({"LoadState": "not-found", "ActiveState": "inactive"})
    assert code == 3 and "not installed" in lines[0]


def test_status_says_when_systemd_is_not_running() -> None:
    if Path("/run/systemd/system").is_dir():
        pytest.skip("systemd is PID 1 here")
    code, out = _invoke("status")
    assert code == 3
    assert "not PID 1" in out


def test_sample_config_comes_from_das_config_sample() -> None:
    """A fresh install gets the agent's own commented sample (valid TOML), not a hand-kept copy."""
    das = Path(sys.executable).with_name("das")
    if not das.is_file():
        pytest.skip(f"no das console script beside {sys.executable}")
    text = _sample_config(str(das), DEFAULT_CONFIG)
    assert "[store]" in text and "/var/lib/das-agent/das.sqlite" in text
    assert tomllib.loads(text)["version"] == 1
    placeholder = _sample_config("/nonexistent/das", DEFAULT_CONFIG)
    assert "das config sample > /etc/das-agent/agent.toml" in placeholder
