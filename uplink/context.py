"""What a platform session hands to the command handler for each request (api contract, docs/uplink.md).

The session owns the socket, QN generation, timers and the outbox; the handler (`uplink.commands`) decides what
to answer. It builds frames with the helpers here (so ST, MN, PW and Flag are always this session's) and sends
them through `send`, which goes over the session's socket and, with `await_answer`, waits for the platform's
9014/9013 by OverTime/ReCount like any upload.

`SessionContext` is a plain class with injected callables, so the handler can be tested without a session.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Protocol, runtime_checkable

from buffer import Store
from uplink.hj212 import Cp, Dialect, Frame, make_flag, reply_9011, reply_9012, reply_9013
from uplink.services import AgentClock, DeviceControl, LiveValues, Services
from uplink.settings import PlatformSettings

Sender = Callable[[Frame, bool], Awaitable[bool]]
SettingUpdater = Callable[[str, str], Awaitable[None]]


@runtime_checkable
class RequestHandler(Protocol):
    """`uplink.commands.CommandHandler`: every decoded frame that is not an answer (9011-9014) goes here."""

    async def handle(self, request: Frame, ctx: SessionContext) -> None: ...


class SessionContext:
    """One session's view for the command handler: identity, settings, store, clock, services, and sending.

    `settings` is read through a callable because a command (1072, 1062, 1002 …) may change it mid-session.
    """

    def __init__(
        self,
        *,
        target: str,
        outlet: str,
        settings: Callable[[], PlatformSettings],
        store: Store,
        now: Callable[[], datetime],
        new_qn: Callable[[], str],
        sender: Sender,
        setting_updater: SettingUpdater,
        services: Services | None = None,
        decimals: Mapping[str, int] | None = None,
    ) -> None:
        self.target = target
        self.outlet = outlet
        self._settings = settings
        self.store = store
        self._now = now
        self._new_qn = new_qn
        self._sender = sender
        self._updater = setting_updater
        self.services = services or Services()
        self._decimals = dict(decimals or {})

    # identity and settings --------------------------------------------------------------------------------
    @property
    def settings(self) -> PlatformSettings:
        """The effective settings (file + persisted platform overrides), as they are now."""
        return self._settings()

    @property
    def dialect(self) -> Dialect:
        return self.settings.dialect

    @property
    def mn(self) -> str:
        return self.settings.mns[self.outlet]

    @property
    def decimals(self) -> dict[str, int]:
        """Decimal counts per factor: the outlet's (statistics parameters) overridden by the platform's."""
        return {**self._decimals, **self.settings.decimals}

    # services ----------------------------------------------------------------------------------------------
    @property
    def clock(self) -> AgentClock | None:
        return self.services.clock

    @property
    def live(self) -> LiveValues | None:
        return self.services.live

    @property
    def devices(self) -> DeviceControl | None:
        return self.services.devices

    def now(self) -> datetime:
        """Agent clock (naive local time)."""
        return self._now()

    def new_qn(self) -> str:
        """A QN unique in this session (17 digits of agent time, bumped by 1 ms on a collision)."""
        return self._new_qn()

    # frames ------------------------------------------------------------------------------------------------
    def reply_9011(self, req: Frame, qn_rtn: int) -> Frame:
        return reply_9011(req, qn_rtn, self.dialect)

    def reply_9012(self, req: Frame, exe_rtn: int) -> Frame:
        return reply_9012(req, exe_rtn, self.dialect)

    def reply_9013(self, req: Frame) -> Frame:
        return reply_9013(req, self.dialect)

    def data_frame(
        self,
        cn: str,
        cp: Cp,
        *,
        answer: bool,
        pnum: int | None = None,
        pno: int | None = None,
        st: str | None = None,
        rf: bool = False,
    ) -> Frame:
        """A DAS→platform frame with a new QN, this session's ST/PW/MN and the dialect's Flag.

        `rf` marks an HJ 212-2025 resend (RF=1); it is dropped in a 2017 dialect, which has no RF field.
        """
        settings = self.settings
        split = pnum is not None
        return Frame(
            qn=self.new_qn(),
            st=st or settings.st,
            cn=str(cn),
            pw=settings.pw,
            mn=settings.mns[self.outlet],
            flag=make_flag(settings.version, answer=answer, split=split),
            cp=cp,
            pnum=pnum,
            pno=pno,
            rf=rf and settings.version == 2025,
        )

    # I/O through the session -------------------------------------------------------------------------------
    async def send(self, frame: Frame, *, await_answer: bool) -> bool:
        """Send over the session's socket; with `await_answer`, True only once the platform answered it
        (9014/9013 with this QN, after up to ReCount resends). Without, True once written."""
        return await self._sender(frame, await_answer)

    async def update_setting(self, key: str, value: str) -> None:
        """Persist a run-time override (`uplink.settings.SettingKey`) and apply it to this session.

        Raises ValueError (the value does not fit the setting) so the handler can answer ExeRtn 3.
        """
        await self._updater(key, value)
