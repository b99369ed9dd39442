"""All platform sessions of the agent: one per (platform, outlet), started and stopped together.

The daemon stores a record with `put_record`, which enqueues it for every session whose platform takes that
kind (and, for ST=44/45 data, speaks HJ 212-2025) and wakes those sessions. Events that are not statistics
records (3019 instrument replacement, 3020 analyzer state/parameter change, 2081 restart, 2062 standard check)
go through the `report_*` methods as outbox payload items, so they are backfilled like records.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from importlib import import_module

from agent.model import KIND_NAMES, Record, RecordKind
from buffer import Store
from drivers.clock import Clock, MonotonicClock
from uplink.commands import DasIdentity
from uplink.context import RequestHandler
from uplink.cp_build import (
    instrument_sn_cp,
    is_power_record,
    is_process_record,
    payload_item,
    record_outlet,
    restart_cp,
    site_info_cp,
    standard_check_cp,
)
from uplink.hj212 import CN, Cp
from uplink.overrides import persist_setting
from uplink.services import AgentClock, Services
from uplink.session import PlatformSession, SessionStatus, default_handler
from uplink.settings import PlatformSettings


def effective(base: PlatformSettings, store: Store, outlet: str) -> PlatformSettings:
    """File settings plus the platform's persisted overrides (`uplink.overrides`, when it exists)."""
    try:
        fn = import_module("uplink.overrides").effective_settings
    except (ImportError, AttributeError):
        return base
    result = fn(base, store, outlet)
    return result if isinstance(result, PlatformSettings) else base


class UplinkManager:
    """Runs every platform session; `put_record` and `report_*` feed their outboxes."""

    def __init__(
        self,
        platforms: Sequence[PlatformSettings],
        store: Store,
        *,
        clock: AgentClock,
        timer: Clock | None = None,
        services: Services | None = None,
        handler: RequestHandler | Callable[[], RequestHandler | None] | None = default_handler,
        decimals: Mapping[str, Mapping[str, int]] | None = None,
        idle_poll_s: float = 1.0,
        identity: DasIdentity | None = None,
    ) -> None:
        """`identity` (`[site] das_id`…) lets 2025 sessions send 1001 on connect (`PlatformSession.wants_identity`)."""
        self.store = store
        self.clock = clock
        self.timer = timer or MonotonicClock()
        services = services or Services(clock=clock)
        self.sessions: dict[str, PlatformSession] = {}
        self._last_rtd: dict[str, datetime] = {}  # target → DataTime of the last real-time record enqueued
        for base in platforms:
            for outlet in base.mns:
                settings = effective(base, store, outlet)
                one = handler() if callable(handler) and not isinstance(handler, RequestHandler) else handler
                session = PlatformSession(
                    settings,
                    outlet,
                    store,
                    clock=clock,
                    timer=self.timer,
                    services=services,
                    handler=one,
                    decimals=(decimals or {}).get(outlet),
                    idle_poll_s=idle_poll_s,
                )
                session.identity = identity
                if session.target in self.sessions:
                    raise ValueError(f"target {session.target} configured twice")
                self.sessions[session.target] = session

    def start(self) -> None:
        for session in self.sessions.values():
            session.start()

    async def stop(self, budget: float = 5.0) -> None:
        """Staged shutdown of all sessions in parallel, each within `budget` s (unacked items stay pending)."""
        await asyncio.gather(*(s.stop(budget) for s in self.sessions.values()))

    async def __aenter__(self) -> UplinkManager:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def status(self) -> list[SessionStatus]:
        return [s.status() for s in self.sessions.values()]

    def _sessions_of(self, outlet: str) -> Iterable[PlatformSession]:
        return (s for s in self.sessions.values() if s.outlet == outlet)

    # --- records --------------------------------------------------------------------------------------------
    def targets_for(self, record: Record) -> list[str]:
        """Sessions of the record's outlet whose platform takes this kind (ST 44/45 data only in 2025).

        Real-time records are made at the outlet's RtdInterval; a platform that set a longer one (1062) gets
        only those at least its RtdInterval apart (its upload rate is its session's business, docs/commands.md).
        """
        out = []
        special = is_power_record(record) or is_process_record(record)
        for session in self._sessions_of(record_outlet(record.outlet)):  # ST=44 records: `<outlet>:44`
            settings = session.settings
            if special:
                if settings.version == 2025 and settings.upload.power:
                    out.append(session.target)
                continue
            if not getattr(settings.upload, KIND_NAMES[RecordKind(record.kind)]):
                continue
            if record.kind == RecordKind.RTD:
                last = self._last_rtd.get(session.target)
                if last is not None and last <= record.data_time < last + timedelta(seconds=settings.rtd_interval):
                    continue
                self._last_rtd[session.target] = record.data_time
            out.append(session.target)
        return out

    def share_setting(self, outlet: str, key: str, value: str) -> None:
        """A system-wide setting one platform changed (MinInterval: "一个系统只能有一个值", HJ 212-2017 Table 4),
        persisted and applied for every session of the outlet, so each platform's 1063 answers the value the
        statistics now use, also after a restart."""
        for session in self._sessions_of(outlet):
            if str(getattr(session.settings, key)) != value:
                session.adopt(persist_setting(session.settings, self.store, outlet, key, value))

    def put_record(self, record: Record, *, replace: bool = False) -> int:
        """Store the record and enqueue it for its targets in one transaction, then wake those sessions."""
        targets = self.targets_for(record)
        record_id = self.store.put_record(record, targets, replace=replace)
        for target in targets:
            self.sessions[target].wake()
        return record_id

    # --- events (payload items) -----------------------------------------------------------------------------
    def _enqueue(
        self, outlet: str, cn: str, cp: Cp, data_time: datetime, switch: str, *, v2025_only: bool = False
    ) -> list[int]:
        """Enqueue for the outlet's sessions whose `upload.<switch>` is on (an item a session would not send
        would stay pending, and pending items are never pruned)."""
        ids = []
        for session in self._sessions_of(outlet):
            if v2025_only and session.settings.version != 2025:
                continue
            if not getattr(session.settings.upload, switch):
                continue
            item = self.store.enqueue(session.target, payload=payload_item(cn, cp), kind=cn, data_time=data_time)
            if item is not None:
                ids.append(item)
                session.wake()
        return ids

    def report_instrument_sn(self, outlet: str, pol_id: str, sn: str, at: datetime) -> list[int]:
        """3019 after an instrument was replaced (HJ 212-2017 C.39)."""
        return self._enqueue(outlet, CN.GET_INSTRUMENT_SN.value, instrument_sn_cp(at, pol_id, sn), at, "instrument_sn")

    def report_site_info(self, outlet: str, pol_id: str | None, info: Mapping[str, object], at: datetime) -> list[int]:
        """3020 动态管控: analyzer state (i12xxx) or parameters (i13xxx) that changed (C.40-C.46)."""
        return self._enqueue(outlet, CN.SITE_INFO.value, site_info_cp(at, pol_id, info), at, "site_info")

    def report_restart(self, outlet: str, restart_time: datetime, at: datetime) -> list[int]:
        """2081 DAS restart time (C.37)."""
        return self._enqueue(outlet, CN.RESTART_TIME.value, restart_cp(at, restart_time), at, "restart")

    def report_standard_check(
        self,
        outlet: str,
        pol_id: str,
        data_time: datetime,
        sample_rd: float,
        standard_value: float,
        passed: bool,
        decimals: Mapping[str, int] | None = None,
    ) -> list[int]:
        """2062 automatic standard-check result (HJ 212-2025 C59); 2017 platforms do not get it."""
        cp = standard_check_cp(data_time, pol_id, sample_rd, standard_value, passed, decimals)
        return self._enqueue(outlet, CN.STANDARD_CHECK_DATA.value, cp, data_time, "standard_check", v2025_only=True)
