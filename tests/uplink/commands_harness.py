"""A real `SessionContext` over a real store, with a recording sender instead of a socket (unit level).

Every frame the handler sends is encoded strictly with the session's dialect, so a reply that breaks the
standard fails here. The end-to-end tests (hil/tests/test_platform_commands_e2e*.py) run the real session.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from buffer import Store
from uplink.context import SessionContext
from uplink.hj212 import Cp, Frame, encode, make_flag, new_qn
from uplink.overrides import persist_setting
from uplink.services import Services
from uplink.settings import PlatformSettings

MN = "010000A8900016F000169DC0"
T0 = datetime(2026, 1, 5, 12, 0, 0)


class ManualClock:
    """Agent clock that only moves when told (1012 sets it)."""

    def __init__(self, t: datetime = T0) -> None:
        self.t = t
        self.sets: list[datetime] = []

    def now(self) -> datetime:
        return self.t

    def set(self, t: datetime) -> None:
        self.sets.append(t)
        self.t = t


@dataclass
class Devices:
    """Device service stand-in: answers from tables; records the calls (the real one talks to analyzers)."""

    sns: Mapping[str, str] | None = field(default_factory=lambda: {"w01018": "SN-COD-1", "w21003": "SN-NH3-7"})
    infos: Mapping[str, str | float] | None = field(default_factory=lambda: {"i13004": 168.0, "i13005": 40})
    settable: frozenset[str] = frozenset({"i13004"})
    result: bool | None = True
    calls: list[tuple[Any, ...]] = field(default_factory=list)

    async def serial_numbers(self, outlet: str) -> Mapping[str, str] | None:
        return self.sns

    async def info(self, outlet: str, pol_id: str | None, info_ids: Sequence[str]) -> Mapping[str, str | float] | None:
        self.calls.append(("info", outlet, pol_id, tuple(info_ids)))
        return self.infos

    async def set_param(self, outlet: str, pol_id: str | None, info_id: str, value: str) -> bool | None:
        self.calls.append(("set_param", outlet, pol_id, info_id, value))
        return True if info_id in self.settable else None

    async def calibrate(self, outlet: str, pol_id: str, kind: int | None) -> bool | None:
        self.calls.append(("calibrate", outlet, pol_id, kind))
        return self.result

    async def sample_now(self, outlet: str, pol_id: str) -> bool | None:
        self.calls.append(("sample_now", outlet, pol_id))
        return self.result

    async def standard_check(self, outlet: str, pol_id: str) -> bool | None:
        self.calls.append(("standard_check", outlet, pol_id))
        return self.result


class Harness:
    def __init__(self, tmp_path: Path, *, devices: Devices | None = None, **settings: Any) -> None:
        self.store = Store(tmp_path / "das.sqlite")
        base: dict[str, Any] = {"name": "national", "host": "127.0.0.1", "port": 9000, "mns": {"o1": MN}}
        self.settings = PlatformSettings(**(base | settings))
        self.clock = ManualClock()
        self.devices = devices
        self.sent: list[tuple[Frame, bool]] = []
        self.delivered = True  # what a send that awaits an answer returns (False: no 9014 after ReCount)
        self._qn_t = T0
        self.ctx = SessionContext(
            target="national/o1",
            outlet="o1",
            settings=lambda: self.settings,
            store=self.store,
            now=self.clock.now,
            new_qn=self._new_qn,
            sender=self._send,
            setting_updater=self._update,
            services=Services(clock=self.clock, devices=devices),
        )

    def _new_qn(self) -> str:
        self._qn_t += timedelta(milliseconds=1)
        return new_qn(self._qn_t)

    async def _send(self, frame: Frame, await_answer: bool) -> bool:
        encode(frame, self.settings.dialect)  # strict: raises if we built a frame that breaks the standard
        self.sent.append((frame, await_answer))
        return self.delivered if await_answer else True

    async def _update(self, key: str, value: str) -> None:
        self.settings = persist_setting(self.settings, self.store, "o1", key, value)

    def request(self, cn: str, cp: str = "", *, pw: str = "123456", mn: str = MN, st: str | None = None,
                answer: bool = True, qn: str = "20260105120000123") -> Frame:  # fmt: skip
        return Frame(
            qn=qn,
            st=st or self.settings.st,
            cn=cn,
            pw=pw,
            mn=mn,
            flag=make_flag(self.settings.version, answer=answer),
            cp=Cp.parse(cp),
        )

    def cns(self) -> list[str]:
        return [f.cn for f, _ in self.sent]

    def answers(self) -> list[tuple[str, str]]:
        """(CN, CP text) of everything sent."""
        return [(f.cn, f.cp.text) for f, _ in self.sent]
