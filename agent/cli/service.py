"""`das service`: install the agent as a systemd service and show how it is doing.

The unit text lives here, rendered with the real path of `das` (the venv's console script) and the service user;
`systemd/das-agent.service` and `systemd/das-video.service` are the renders with the defaults, kept equal by a
test, so the unit an installer gets is the one reviewed in the repository (docs/operations.md).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

__all__ = [
    "DEFAULT_CONFIG",
    "DEFAULT_DAS",
    "UNIT_NAME",
    "VIDEO_UNIT_NAME",
    "InstallPlan",
    "ServiceError",
    "UnitSettings",
    "format_status",
    "plan_install",
    "register",
    "render_unit",
    "render_video_unit",
]

UNIT_NAME = "das-agent.service"
VIDEO_UNIT_NAME = "das-video.service"
DEFAULT_DAS = "/usr/local/bin/das"
DEFAULT_CONFIG = "/etc/das-agent/agent.toml"
STATE_DIR = "/var/lib/das-agent"
SERIAL_GROUP = "dialout"

# Paths a hardened unit cannot run from: ProtectHome=yes hides the first three, PrivateTmp=yes the last two.
_HIDDEN_FROM_SERVICE = ("/home", "/root", "/run/user", "/tmp", "/var/tmp")
_USER_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
_STATUS_PROPERTIES = (
    "LoadState",
    "ActiveState",
    "SubState",
    "Result",
    "StatusText",
    "MainPID",
    "NRestarts",
    "ActiveEnterTimestamp",
    "WatchdogTimestamp",
)

_AGENT_UNIT = """\
# das-agent: 数采仪 DAS agent (acquisition, HJ 75/76 statistics, SQLite buffer, HJ 212 uplink).
# Written by `das service install` (agent/cli/service.py); see docs/operations.md.
# Local changes belong in a drop-in (`systemctl edit das-agent`), not in this file.

[Unit]
Description=das-agent 数采仪 DAS agent (HJ 212 uplink)
# Start without waiting for the network: readings are buffered and uploaded once a platform is reachable.
After=network.target time-sync.target
# Never give up restarting a monitoring instrument.
StartLimitIntervalSec=0

[Service]
Type=notify
NotifyAccess=main
ExecStart={exec_start}
# SIGHUP makes the agent reload its configuration.
ExecReload=/bin/kill -HUP $MAINPID
# READY=1 follows the first poll cycle; dead analyzers can make that slow.
TimeoutStartSec=120
# The event loop pings WATCHDOG=1 every 15 s (agent/watchdog.py); a hung loop is killed and restarted.
WatchdogSec=30
Restart=always
RestartSec=5
KillSignal=SIGTERM
# Staged shutdown: stop polling, commit open windows, take in-flight acks, close.
TimeoutStopSec=30
SyslogIdentifier=das-agent

User={user}
Group={user}
SupplementaryGroups=dialout
StateDirectory=das-agent
StateDirectoryMode=0750
ConfigurationDirectory=das-agent
WorkingDirectory=/var/lib/das-agent
UMask=0027
# ProtectSystem=strict makes the venv read-only: do not try to write .pyc files there.
Environment=PYTHONDONTWRITEBYTECODE=1
# Optional DAS_SECRET_<NAME>=… lines (platform passwords, SM4 keys), read by systemd as root: the file can stay
# root-only (0600) and out of the agent's reach.
EnvironmentFile=-/etc/das-agent/secrets.env

# Hardening (`systemd-analyze security das-agent`). Serial ports need the real /dev/tty* nodes, so
# PrivateDevices stays off and the device cgroup admits only the serial majors. CN 1012 moves the agent's own
# clock offset, never the system clock, so ProtectClock holds.
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=no
PrivateMounts=yes
DevicePolicy=closed
DeviceAllow=char-ttyS rw
DeviceAllow=char-ttyUSB rw
DeviceAllow=char-ttyACM rw
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
ProcSubset=pid
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
RemoveIPC=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM

[Install]
WantedBy=multi-user.target
"""

_VIDEO_UNIT = """\
# das-video: camera capture, motion and snapshots for the DAS (video/), a process of its own so a camera or codec
# problem never stalls acquisition. Installed but not enabled by `das service install --video`; see
# docs/operations.md.

[Unit]
Description=das-agent video 视频抓拍 (camera capture, motion, snapshots)
After=network.target das-agent.service
StartLimitIntervalSec=0

[Service]
Type=simple
ExecStart={exec_start}
Restart=always
RestartSec=10
KillSignal=SIGTERM
TimeoutStopSec=15
SyslogIdentifier=das-video

User={user}
Group={user}
SupplementaryGroups=video
StateDirectory=das-agent
ConfigurationDirectory=das-agent
WorkingDirectory=/var/lib/das-agent
UMask=0027
Environment=PYTHONDONTWRITEBYTECODE=1

# Same hardening as das-agent.service, but the device cgroup admits cameras (V4L2) instead of serial ports.
# MemoryDenyWriteExecute is left off: video codecs may generate code at run time.
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=no
PrivateMounts=yes
DevicePolicy=closed
DeviceAllow=char-video4linux rw
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
LockPersonality=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
RemoveIPC=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged
SystemCallErrorNumber=EPERM

[Install]
WantedBy=multi-user.target
"""

_PLACEHOLDER_CONFIG = """\
# das-agent 配置 / configuration — placeholder written by `das service install`.
# 请先编辑本文件再启动服务 / edit this file before starting the service:
#   das config sample > {config}      (a full, commented sample)
#   systemctl start das-agent
"""


class ServiceError(Exception):
    """Install cannot go on; the message says what to fix (Chinese / English)."""


def _exec_arg(text: str) -> str:
    """Quote one ExecStart word (systemd.service(5) "Command lines"): `%` and `$` are specifiers there."""
    if any(c in text for c in "\"\\\n\r\t'") or not text:
        raise ServiceError(f"路径含不支持的字符 / unsupported character in {text!r}")
    escaped = text.replace("%", "%%").replace("$", "$$")
    return f'"{escaped}"' if " " in escaped else escaped


@dataclass(frozen=True, kw_only=True)
class UnitSettings:
    """What varies between installs: where `das` lives, the config file and the service user."""

    das: str = DEFAULT_DAS
    config: str = DEFAULT_CONFIG
    user: str = "das"

    def __post_init__(self) -> None:
        for name in ("das", "config"):
            value = getattr(self, name)
            if not value.startswith("/"):
                raise ServiceError(f"{name} 必须是绝对路径 / {name} must be an absolute path, got {value!r}")
        if not _USER_NAME.fullmatch(self.user):
            raise ServiceError(f"用户名无效 / invalid user name {self.user!r} (lower case, e.g. das)")

    def command(self, *words: str) -> str:
        return " ".join(_exec_arg(w) for w in (self.das, *words))


def render_unit(settings: UnitSettings | None = None) -> str:
    """das-agent.service for these settings."""
    s = settings or UnitSettings()
    return _AGENT_UNIT.format(exec_start=s.command("run", "--config", s.config), user=s.user)


def render_video_unit(settings: UnitSettings | None = None) -> str:
    """das-video.service (the camera process) for these settings."""
    s = settings or UnitSettings()
    return _VIDEO_UNIT.format(exec_start=s.command("video", "--config", s.config), user=s.user)


def _systemd_booted() -> bool:
    """sd_booted(3): systemd is PID 1 exactly when this directory exists."""
    return Path("/run/systemd/system").is_dir()


def _default_das() -> str:
    """The `das` beside the running interpreter (the venv's), else the one on PATH."""
    beside = Path(sys.executable).with_name("das")
    if beside.is_file():
        return str(beside)
    found = shutil.which("das")
    if found:
        return found
    raise ServiceError("找不到 das 命令 / cannot find the das command; pass --das /path/to/venv/bin/das")


def _check_executable(das: str, root: Path) -> None:
    """The service must be able to run `das`: it exists (under `root` for an image), and neither it nor the
    interpreter on its #! line sits where the hardened unit cannot see."""
    inside = root / das.lstrip("/")
    path = inside if root != Path("/") and inside.exists() else Path(das)
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise ServiceError(f"不是可执行文件 / not an executable file: {path}")
    paths = [das]
    with path.open("rb") as f:
        first = f.readline(512)
    if first.startswith(b"#!"):
        words = first[2:].decode(errors="replace").split()
        if words:
            paths.append(words[0])
    for p in paths:
        for hidden in _HIDDEN_FROM_SERVICE:
            if p == hidden or p.startswith(hidden + "/"):
                raise ServiceError(
                    f"{p} 在 {hidden} 下，服务看不到 / is under {hidden}, which the hardened unit hides "
                    "(ProtectHome/PrivateTmp); install the venv under /opt/das-agent"
                )


def _read_db(root: Path, name: str) -> list[list[str]]:
    try:
        text = (root / "etc" / name).read_text()
    except FileNotFoundError:
        return []
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


def _user_exists(root: Path, user: str) -> bool:
    return any(row[0] == user for row in _read_db(root, "passwd"))


def _group(root: Path, group: str) -> tuple[int, list[str]] | None:
    """(gid, members) of a group in root's /etc/group; install edits these files through useradd/usermod."""
    for row in _read_db(root, "group"):
        if row[0] == group and len(row) >= 4:
            return int(row[2]), [m for m in row[3].split(",") if m]
    return None


def _prefix(root: Path) -> list[str]:
    return [] if root == Path("/") else ["--prefix", str(root)]


@dataclass
class InstallPlan:
    """Everything `das service install` will do, so --dry-run shows exactly that and tests can read it."""

    root: Path
    settings: UnitSettings
    video: bool
    start: bool
    steps: list[str] = field(default_factory=list)
    account: list[list[str]] = field(default_factory=list)
    """useradd/usermod, run first: the config file's group must exist before it is written."""
    files: dict[Path, str] = field(default_factory=dict)
    systemctl: list[list[str]] = field(default_factory=list)
    config_created: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def commands(self) -> list[list[str]]:
        return [*self.account, *self.systemctl]


def _sample_config(das: str, config: str) -> str:
    """`das config sample` from the installed agent if it has it, else a placeholder that says what to do."""
    try:
        done = subprocess.run([das, "config", "sample"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        done = None
    if done is not None and done.returncode == 0 and done.stdout.strip():
        return done.stdout
    return _PLACEHOLDER_CONFIG.format(config=config)


def plan_install(
    settings: UnitSettings, *, root: Path = Path("/"), video: bool = False, start: bool = True
) -> InstallPlan:
    """Work out the steps against `root` (a temp dir in tests) without changing anything."""
    _check_executable(settings.das, root)
    plan = InstallPlan(root=root, settings=settings, video=video, start=start)
    user = settings.user
    etc = root / "etc"

    serial = _group(root, SERIAL_GROUP)
    if not _user_exists(root, user):
        groups = ["--groups", SERIAL_GROUP] if serial else []
        system_user = ["--system", "--no-create-home", "--home-dir", STATE_DIR, "--shell", "/usr/sbin/nologin"]
        plan.account.append(["useradd", *_prefix(root), *system_user, "--user-group", *groups, user])
        plan.steps.append(f"创建系统用户 / create system user {user}")
    elif serial and user not in serial[1]:
        plan.account.append(["usermod", *_prefix(root), "--append", "--groups", SERIAL_GROUP, user])
        plan.steps.append(f"把 {user} 加入 {SERIAL_GROUP} / add {user} to {SERIAL_GROUP}")
    if serial is None:
        plan.notes.append(
            f"没有 {SERIAL_GROUP} 组 / no {SERIAL_GROUP} group: give {user} access to the serial ports yourself"
        )

    units = etc / "systemd" / "system"
    plan.files[units / UNIT_NAME] = render_unit(settings)
    if video:
        plan.files[units / VIDEO_UNIT_NAME] = render_video_unit(settings)
    for path, text in plan.files.items():
        old = path.read_text() if path.exists() else None
        state = "写入 / write" if old is None else "不变 / unchanged" if old == text else "更新 / update"
        plan.steps.append(f"{state} {path}")

    config = root / settings.config.lstrip("/")
    if not config.parent.exists():
        plan.steps.append(f"创建目录 / create {config.parent} (0750 root:{user})")
    if not config.exists():
        plan.config_created = True
        plan.steps.append(f"写入示例配置 / write sample config {config} (0640 root:{user})")
    elif config.stat().st_mode & 0o007:
        plan.notes.append(f"{config} 对所有用户可读 / is world-readable: it holds platform passwords; chmod 0640")

    enable = [UNIT_NAME]
    if not shutil.which("systemctl"):
        plan.notes.append("没有 systemctl / systemctl not found: enable das-agent.service by hand")
    elif root != Path("/"):
        plan.systemctl.append(["systemctl", f"--root={root}", "enable", *enable])  # links only, nothing starts
    elif _systemd_booted():
        plan.systemctl.append(["systemctl", "daemon-reload"])
        now = start and not plan.config_created
        plan.systemctl.append(["systemctl", "enable", *(["--now"] if now else []), *enable])
    else:
        plan.systemctl.append(["systemctl", "enable", *enable])
        plan.notes.append(
            "systemd 未运行（不是 PID 1），已跳过 daemon-reload 和启动 / systemd is not running here (not PID 1): "
            "skipped daemon-reload and start; the service starts at the next boot"
        )
    if plan.config_created:
        plan.notes.append(f"请编辑 {settings.config} 后启动 / edit {settings.config}, then: systemctl start das-agent")
    if video:
        plan.notes.append(f"{VIDEO_UNIT_NAME} 已安装未启用 / installed, not enabled: systemctl enable --now das-video")
    return plan


def _run(cmd: Sequence[str]) -> None:
    done = subprocess.run(list(cmd), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()
        raise ServiceError(f"命令失败 / command failed ({done.returncode}): {' '.join(cmd)}: {detail}")


def apply_install(plan: InstallPlan) -> None:
    """Carry the plan out: user first (the config file's group must exist), then files, then systemctl."""
    for cmd in plan.account:
        _run(cmd)
    group = _group(plan.root, plan.settings.user)
    if group is None:
        raise ServiceError(f"找不到组 / group {plan.settings.user} not found under {plan.root}/etc/group")
    gid = group[0]

    for path, text in plan.files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(0o644)

    config = plan.root / plan.settings.config.lstrip("/")
    if not config.parent.exists():
        config.parent.mkdir(parents=True, mode=0o750)
        os.chown(config.parent, 0, gid)
        config.parent.chmod(0o750)
    if plan.config_created:
        fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        with os.fdopen(fd, "w") as f:
            f.write(_sample_config(plan.settings.das, plan.settings.config))
        os.chown(config, 0, gid)
        config.chmod(0o640)

    for cmd in plan.systemctl:
        _run(cmd)


def format_status(props: dict[str, str]) -> tuple[list[str], int]:
    """Lines for `das service status` from `systemctl show` properties, and the exit code (0 active, 3 not)."""
    if props.get("LoadState") == "not-found":
        return [f"未安装 / not installed: {UNIT_NAME} (das service install)"], 3
    active = props.get("ActiveState", "unknown")
    lines = [
        f"状态 / state: {active} ({props.get('SubState', '?')})",
        f"健康 / health: {props.get('StatusText') or '-'}",
        f"主进程 / main PID: {props.get('MainPID') or '-'}",
        f"重启次数 / restarts: {props.get('NRestarts') or '0'}",
        f"启动于 / active since: {props.get('ActiveEnterTimestamp') or '-'}",
        f"最近看门狗 / last watchdog ping: {props.get('WatchdogTimestamp') or '-'}",
    ]
    if props.get("Result") not in (None, "", "success"):
        lines.append(f"上次结果 / last result: {props['Result']}")
    lines.append("日志 / logs: journalctl -u das-agent -e")
    return lines, 0 if active == "active" else 3


def _echo_plan(plan: InstallPlan, *, dry_run: bool) -> None:
    head = "将要执行 / would do:" if dry_run else "执行 / doing:"
    typer.echo(head)
    for step in plan.steps:
        typer.echo(f"  - {step}")
    for cmd in plan.commands:
        typer.echo(f"  $ {' '.join(cmd)}")


def register(app: typer.Typer) -> None:
    """Add `das service install`, `das service status` and `das service unit`."""
    service = typer.Typer(help="系统服务 / run the agent as a systemd service", no_args_is_help=True)

    @service.command("install")
    def install_cmd(
        user: Annotated[str, typer.Option(help="服务用户 / service user (created if missing)")] = "das",
        config: Annotated[str, typer.Option(help="配置文件 / configuration file")] = DEFAULT_CONFIG,
        das: Annotated[str | None, typer.Option(help="das 命令路径 / path of das (default: this venv's)")] = None,
        root: Annotated[
            Path, typer.Option(help="安装到此根目录 / install under this root (image builds, tests)")
        ] = Path("/"),
        video: Annotated[bool, typer.Option("--video", help="同时安装视频服务 / also install das-video")] = False,
        start: Annotated[bool, typer.Option(help="安装后启动 / start after install")] = True,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="只显示不执行 / show, change nothing")] = False,
    ) -> None:
        """安装并启用服务 / install and enable das-agent.service."""
        try:
            if not dry_run and os.geteuid() != 0:
                raise ServiceError("需要 root 权限 / must run as root (sudo das service install), or try --dry-run")
            settings = UnitSettings(das=das or _default_das(), config=config, user=user)
            plan = plan_install(settings, root=root.absolute(), video=video, start=start)
            _echo_plan(plan, dry_run=dry_run)
            if not dry_run:
                apply_install(plan)
        except ServiceError as err:
            typer.echo(f"错误 / error: {err}", err=True)
            raise typer.Exit(1) from None
        for note in plan.notes:
            typer.echo(f"注意 / note: {note}")
        if not dry_run:
            typer.echo("完成 / done")

    @service.command("status")
    def status_cmd() -> None:
        """服务状态 / state, health line and restarts of das-agent.service."""
        if not shutil.which("systemctl") or not _systemd_booted():
            typer.echo("systemd 未运行（不是 PID 1）/ systemd is not running here (not PID 1): no service status")
            raise typer.Exit(3)
        done = subprocess.run(
            ["systemctl", "show", UNIT_NAME, "--property=" + ",".join(_STATUS_PROPERTIES)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            typer.echo(f"systemctl 失败 / failed: {done.stderr.strip()}", err=True)
            raise typer.Exit(1)
        props = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
        lines, code = format_status(props)
        for line in lines:
            typer.echo(line)
        raise typer.Exit(code)

    @service.command("unit")
    def unit_cmd(
        user: Annotated[str, typer.Option(help="服务用户 / service user")] = "das",
        config: Annotated[str, typer.Option(help="配置文件 / configuration file")] = DEFAULT_CONFIG,
        das: Annotated[str, typer.Option(help="das 命令路径 / path of das")] = DEFAULT_DAS,
        video: Annotated[bool, typer.Option("--video", help="视频服务 / the das-video unit instead")] = False,
    ) -> None:
        """打印单元文件 / print the unit file install would write."""
        try:
            settings = UnitSettings(das=das, config=config, user=user)
        except ServiceError as err:
            typer.echo(f"错误 / error: {err}", err=True)
            raise typer.Exit(1) from None
        typer.echo(render_video_unit(settings) if video else render_unit(settings), nl=False)

    app.add_typer(service, name="service")
