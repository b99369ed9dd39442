"""Readings → store → statistics → records and alarms → store with their outbox targets.

Order of durability (issue 4): a poll cycle's readings are committed in one transaction *before* the engine
sees them, and the records and alarm changes of one statistics tick are committed together with their outbox
items *before* any uplink can see them. So whatever moment the process dies at, the store holds every reading
the engine ever counted, and every record an uplink ever sent.

Restart (also after SIGKILL) must lose no window and count none twice. `OutletPipeline.resume` rebuilds the
engine from the store: it finds the end E of the newest stored minute record, starts the engine at the first
stored minute of E's day (so the open hour and day are made from all their minutes, as they would have been
live), replays the stored readings since then in time order, and keeps only what the store does not already
hold. Real-time and state records of the past are not regenerated (they are live values). Alarms are matched
by identity (kind, outlet, factor, device, start) against those stored, so a replay reopens nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from agent.daemon.power import PowerRecorder
from agent.logs import Flood, event, get_logger
from agent.model import KIND_NAMES, Alarm, Reading, Record, RecordKind
from agent.stats import OutletKind, OutletParams, StatsEngine, StatsOutput
from agent.stats.windows import day_start, hour_window
from buffer import RecordExistsError, Store, StoreError
from drivers.profiles.schema import SERIAL_NUMBER
from uplink.cp_build import is_power_record, record_outlet
from uplink.mqtt import MqttSettings, enqueue_alarm, record_targets
from uplink.settings import MIN_INTERVALS, PlatformSettings, SettingKey
from uplink.standard_check import check_result

__all__ = ["AlarmBook", "OutletPipeline", "ResumeReport", "Routing", "alarm_identity"]

log = get_logger("pipeline")

_LIVE_KINDS = frozenset({RecordKind.RTD, RecordKind.STATE})
_LOOKBACK = (timedelta(hours=2), timedelta(days=2), timedelta(days=8))

AlarmKey = tuple[str, str | None, str | None, str | None, datetime]


_EPOCH = datetime(2000, 1, 1)  # before any value a DAS stores


def sn_text(value: object) -> str:
    """A serial number as 3019 `<PolId>-SN` text: a string as read (NULs and spaces stripped by the driver),
    an integer register without a '.0'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def alarm_identity(alarm: Alarm) -> AlarmKey:
    """docs/statistics.md: an alarm is identified by (kind, outlet, factor, device, start)."""
    return (alarm.kind, alarm.outlet, alarm.factor, alarm.device, alarm.start)


class Routing:
    """Which outbox targets a record or an alarm goes to: platforms by outlet and upload switch, MQTT by kind.

    A platform's switches are read from its effective settings (file + what the platform set by command, e.g.
    2012 stop real-time upload), refreshed every `refresh_s` real seconds.
    """

    def __init__(
        self,
        platforms: Sequence[PlatformSettings] = (),
        mqtt: Sequence[MqttSettings] = (),
        *,
        store: Store | None = None,
        refresh_s: float = 10.0,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        import time

        self.platforms = tuple(platforms)
        self.mqtt = tuple(mqtt)
        self.store = store
        self.refresh_s = refresh_s
        self._monotonic = monotonic or time.monotonic
        self._cache: dict[tuple[str, str], tuple[float, Any]] = {}
        self.manager: Any = None
        self.publishers: list[Any] = []  # uplink.mqtt.MqttPublisher, woken after a commit
        self.alarm_targets: set[str] = set()  # MQTT targets given an alarm in the open transaction

    def _effective(self, platform: Any, outlet: str) -> Any:
        if self.store is None:
            return platform
        key = (platform.name, outlet)
        now = self._monotonic()
        hit = self._cache.get(key)
        if hit is not None and now - hit[0] < self.refresh_s:
            return hit[1]
        try:
            from uplink.overrides import effective_settings

            settings = effective_settings(platform, self.store, outlet)
        except Exception as err:  # a broken override must not stop the records
            event(log, logging.WARNING, "settings_override_failed", target=f"{platform.name}/{outlet}", error=err)
            settings = platform
        self._cache[key] = (now, settings)
        return settings

    def attach(self, manager: Any) -> None:
        """Let the uplink manager decide platform targets (it knows each session's effective settings and which
        records only HJ 212-2025 carries) and wake its sessions after a commit."""
        self.manager = manager

    def wake(self, targets: Iterable[str]) -> None:
        """After a commit: the sessions and MQTT publishers with new items look at their outbox now."""
        targets = set(targets)
        sessions = getattr(self.manager, "sessions", None) if self.manager is not None else None
        if sessions:
            for target in targets:
                session = sessions.get(target)
                if session is not None:
                    session.wake()
        for publisher in self.publishers:
            if publisher.settings.target in targets:
                publisher.notify()

    def record_targets(self, record: Record) -> list[str]:
        switch = KIND_NAMES.get(record.kind)  # the `UploadKinds` switch that governs it on a platform
        if self.manager is not None:
            out = list(self.manager.targets_for(record))
        else:
            out = self._platform_targets(record, switch)
        if is_power_record(record):  # ST=44 data is for HJ 212-2025 platforms; MQTT carries the outlet's own
            return out
        return out + self._mqtt_targets(record)

    def _platform_targets(self, record: Record, switch: str | None) -> list[str]:
        out: list[str] = []
        power = is_power_record(record)  # ST=44: HJ 212-2025 platforms with upload.power only (as the manager)
        outlet = record_outlet(record.outlet)
        for platform in self.platforms:
            if outlet not in platform.mns:
                continue
            settings = self._effective(platform, outlet)
            if power:
                if settings.version == 2025 and settings.upload.power:
                    out.append(platform.target(outlet))
            elif switch is None or getattr(settings.upload, switch, True):
                out.append(platform.target(outlet))
        return out

    def _mqtt_targets(self, record: Record) -> list[str]:
        """MQTT targets carry every outlet; each chooses record kinds by its `kinds` (docs/mqtt.md)."""
        return record_targets(self.mqtt, RecordKind(record.kind))

    def enqueue_site_info(self, outlet: str, pol_id: str | None, info: Mapping[str, object], at: datetime) -> None:
        """3020 to the outlet's platform sessions that take it (inside the caller's transaction)."""
        if self.manager is not None:
            self.manager.report_site_info(outlet, pol_id, info, at)

    def enqueue_instrument_sn(self, outlet: str, pol_id: str, sn: str, at: datetime) -> None:
        """3019 to the outlet's platform sessions that take it (inside the caller's transaction)."""
        if self.manager is not None:
            self.manager.report_instrument_sn(outlet, pol_id, sn, at)

    def enqueue_standard_check(self, outlet: str, pol_id: str, result: Any) -> None:
        """2062 (HJ 212-2025 only) to the outlet's platform sessions that take it (inside the caller's transaction)."""
        if self.manager is not None:
            self.manager.report_standard_check(
                outlet, pol_id, result.time, result.measured, result.standard, result.passed
            )

    def enqueue_alarm(self, store: Store, alarm_id: int) -> None:
        """Inside the caller's transaction; the publishers are woken once it is committed (`wake`)."""
        for settings in self.mqtt:
            if enqueue_alarm(store, settings, alarm_id) is not None:
                self.alarm_targets.add(settings.target)


class AlarmBook:
    """Alarm identity → stored id, so an alarm emitted on open and again on close is one row."""

    def __init__(self, store: Store, routing: Routing | None = None) -> None:
        self.store = store
        self.routing = routing
        self._ids: dict[AlarmKey, int] = {}
        self._closed: set[AlarmKey] = set()

    def load(self, since: datetime | None = None, until: datetime | None = None) -> None:
        """Active alarms, plus every alarm active in [since, until) (so a replay recognises closed ones)."""
        for stored in self.store.active_alarms():
            self._ids[alarm_identity(stored.alarm)] = stored.id
        if since is not None and until is not None and until > since:
            for stored in self.store.alarms(since, until):
                key = alarm_identity(stored.alarm)
                self._ids[key] = stored.id
                if stored.alarm.end is not None:
                    self._closed.add(key)

    def active(self) -> int:
        return len(self._ids) - len(self._closed)

    def apply(self, alarm: Alarm) -> int | None:
        """Store an open or close event (inside the caller's transaction); None when it changed nothing."""
        key = alarm_identity(alarm)
        known = self._ids.get(key)
        if alarm.end is None:
            if known is not None:
                return None
            self._ids[key] = alarm_id = self.store.open_alarm(alarm)
        else:
            if key in self._closed:
                return None
            if known is None:
                self._ids[key] = alarm_id = self.store.open_alarm(alarm)
            else:
                alarm_id = known
                self.store.close_alarm(alarm_id, alarm.end, alarm.detail)
            self._closed.add(key)
        if self.routing is not None:
            self.routing.enqueue_alarm(self.store, alarm_id)
        return alarm_id


@dataclass(frozen=True, slots=True)
class ResumeReport:
    outlet: str
    start: datetime | None  # where the engine starts; None = nothing stored, fresh start
    readings: int = 0
    new_records: int = 0
    kept_records: int = 0


class OutletPipeline:
    """The statistics of one outlet between the store and the uplinks."""

    def __init__(
        self,
        params: OutletParams,
        feeds: Mapping[tuple[str, str], str],
        store: Store,
        routing: Routing,
        alarms: AlarmBook,
        *,
        close_delay_s: float = 10.0,
        power: Any = None,
    ) -> None:
        """`power`: agent.config.build.PowerPlan of the outlet's ST=44 data, or None."""
        self.params = params
        self.outlet = params.outlet
        self.feeds = dict(feeds)
        self.power = None if power is None else PowerRecorder(self.outlet, power, close_delay_s=close_delay_s)
        power_devices = self.power.devices if self.power is not None else ()
        self.devices = tuple(dict.fromkeys([*(device for device, _ in self.feeds), *power_devices]))
        self.store = store
        self.routing = routing
        self.alarms = alarms
        self.standard_checks: dict[str, Any] = {}
        """device → its profile's `[standard_check]` (drivers.profiles.schema.StandardCheck): 2062 on a new result."""
        self.close_delay_s = close_delay_s
        self.engine: StatsEngine | None = None
        self.latest: dict[RecordKind, Record] = {}
        self.records_stored = 0
        self.alarms_changed = 0
        self._flood = Flood(log)
        self._targets: dict[int, list[str]] = {}

    # -- start ---------------------------------------------------------------------------------------------
    def _last_minute_end(self, now: datetime, switch: tuple[int, datetime] | None) -> datetime | None:
        for back in _LOOKBACK:
            # Stored minutes may lie ahead of `now` after a 1012 set the clock back: look a day forward too.
            found = self.store.records(self.outlet, RecordKind.MINUTE, now - back, now + timedelta(days=1))
            if found:
                last = found[-1].data_time
                minutes = switch[0] if switch is not None and last >= switch[1] else self.params.min_interval
                return last + timedelta(minutes=minutes)
        return None

    # -- MinInterval (1064) ---------------------------------------------------------------------------------
    def min_interval_override(self) -> tuple[int, datetime] | None:
        """The MinInterval a platform last set for this outlet (CN 1064, `uplink.overrides`) and when, or None.

        HJ 212-2017 Table 4: "一个系统只能有一个值" — one value per system, so the latest change by any of the
        outlet's platforms decides what the statistics make (and every platform then gets those minutes).
        """
        targets = {p.target(self.outlet) for p in self.routing.platforms if self.outlet in p.mns}
        found: tuple[int, datetime] | None = None
        for target, value, at in self.store.setting_changes(SettingKey.MIN_INTERVAL.value):
            # The override store checks the value too; a row that does not fit is not followed.
            if target in targets and str(value).isdigit() and int(value) in MIN_INTERVALS:
                found = (int(value), at)
        return found

    @staticmethod
    def _boundary(at: datetime) -> datetime:
        """Where a MinInterval set at `at` takes effect: the first hour boundary at or after it (docs/statistics.md)."""
        hour = hour_window(at)
        return hour.start if at == hour.start else hour.end

    def _switch(self) -> tuple[int, datetime] | None:
        """(new MinInterval, when it takes effect) if a platform's differs from the file's, else None."""
        override = self.min_interval_override()
        if override is None or override[0] == self.params.min_interval:
            return None
        return override[0], self._boundary(override[1])

    def _new_engine(self, start: datetime | None, switch: tuple[int, datetime] | None) -> StatsEngine:
        params = self.params
        if switch is not None and (start is None or start >= switch[1]):
            params = params.model_copy(update={"min_interval": switch[0]})
            switch = None
        engine = StatsEngine(params, start=start, close_delay_s=self.close_delay_s)
        if switch is not None:
            engine.change_min_interval(*switch)
        return engine

    def follow_min_interval(self) -> None:
        """Schedule a MinInterval a platform set since the engine was built (checked on every tick)."""
        switch = self._switch()
        wanted = switch[0] if switch is not None else self.params.min_interval
        engine = self.engine
        if engine is None or engine.min_interval == wanted:
            return
        try:
            effective = engine.change_min_interval(wanted, switch[1] if switch is not None else datetime.min)
        except ValueError as err:  # the override store refuses such values; never stop the statistics for one
            event(log, logging.ERROR, "min_interval_refused", outlet=self.outlet, value=wanted, error=err)
            return
        event(
            log,
            logging.WARNING,
            "min_interval_changed",
            "分钟数据间隔已更改 / minute interval changed by a platform",
            outlet=self.outlet,
            minutes=wanted,
            effective=effective.isoformat(sep=" "),
        )
        share = getattr(self.routing.manager, "share_setting", None)
        if share is not None:
            share(self.outlet, SettingKey.MIN_INTERVAL.value, str(wanted))

    def _first_minute_since(self, begin: datetime, end: datetime) -> datetime | None:
        found = self.store.records(self.outlet, RecordKind.MINUTE, begin, end)
        return found[0].data_time if found else None

    def _lookback(self) -> timedelta:
        """Water batch analyzers carry their last measurement into the next hours (`batch_carry`)."""
        if self.params.kind is OutletKind.WATER and any(f.batch for f in self.params.factors):
            return timedelta(minutes=max(120, self.params.batch_cycle_min))
        return timedelta(0)

    def resume(self, now: datetime) -> ResumeReport:
        """Build the engine, replaying stored readings so that no window is lost or counted twice."""
        switch = self._switch()
        last_end = self._last_minute_end(now, switch)
        if last_end is None:
            self.engine = self._new_engine(None, switch)
            return ResumeReport(self.outlet, None)
        day = day_start(last_end)
        first = self._first_minute_since(day - self._lookback(), last_end) or last_end
        start = min(first, last_end)
        self.engine = self._new_engine(start, switch)
        self.alarms.load(start, now + timedelta(days=1))
        stored = {
            (s.kind, s.data_time)
            for kind in (RecordKind.MINUTE, RecordKind.HOUR, RecordKind.DAY, RecordKind.RUNTIME_DAY)
            for s in self.store.records(self.outlet, kind, start, now + timedelta(days=1))
        }
        out = StatsOutput()
        count = 0
        t = start
        while t < now:
            chunk_end = min(hour_window(t).end, now)
            batch: list[Reading] = []
            for (device, stored_code), code in self.feeds.items():
                batch += self._recode(self.store.readings(device, stored_code, t, chunk_end), code)
            batch.sort(key=lambda r: r.time)
            for reading in batch:
                out.extend(self.engine.advance(reading.time))
                self.engine.add(reading)
            count += len(batch)
            t = chunk_end
        out.extend(self.engine.advance(now))
        fresh = [r for r in out.records if r.kind not in _LIVE_KINDS and (r.kind, r.data_time) not in stored]
        kept = sum(1 for r in out.records if (r.kind, r.data_time) in stored)
        self._commit(fresh, out.alarms)
        report = ResumeReport(self.outlet, start, count, len(fresh), kept)
        event(
            log,
            logging.INFO,
            "stats_resumed",
            "统计已从存储恢复 / statistics resumed from the store",
            outlet=self.outlet,
            start=start.isoformat(sep=" "),
            readings=count,
            new_records=len(fresh),
            already_stored=kept,
        )
        return report

    # -- run -----------------------------------------------------------------------------------------------
    @staticmethod
    def _recode(readings: list[Reading], code: str) -> list[Reading]:
        return [r if r.factor == code else replace(r, factor=code) for r in readings]

    def add(self, readings: Iterable[Reading]) -> None:
        """Feed readings that are already committed to the store (those this outlet takes, under its codes)."""
        if self.engine is None:
            self.engine = self._new_engine(None, self._switch())
        readings = list(readings)
        if self.power is not None:
            self.power.add(readings)
        for reading in readings:
            code = self.feeds.get((reading.device, reading.factor))
            if code is None:
                continue
            self.engine.add(reading if code == reading.factor else replace(reading, factor=code))

    def info_changed(self, device: str, info: Mapping[str, object], t: datetime) -> None:
        """A 3020 for each outlet factor the device measures (PolId = the factor: HJ 212-2017 C.40 ties the
        i12xxx/i13xxx values to an instrument); a device that only feeds equipment (a power meter) reports none.
        A changed serial number (`SN`, stored already) is an instrument replacement: a 3019 instead (C.39)."""
        measured = {f.code for f in self.params.factors}
        pol_ids = sorted({code for (d, _), code in self.feeds.items() if d == device and code in measured})
        info = dict(info)
        sn = info.pop(SERIAL_NUMBER, None)
        if sn is not None:
            self._serial_number(device, sn, pol_ids, t)
        check = self.standard_checks.get(device)
        if check is not None and check.time in info:
            self._standard_check(device, check, pol_ids)
        for pol_id in pol_ids if info else ():
            try:
                self.routing.enqueue_site_info(self.outlet, pol_id, info, t)
            except StoreError as err:  # the readings of the poll matter more than one 3020
                event(log, logging.ERROR, "site_info_not_enqueued", outlet=self.outlet, device=device, error=err)

    def _standard_check(self, device: str, check: Any, pol_ids: Sequence[str]) -> None:
        """A new standard-check time is a new result (it is in the store already, with this poll's values): a 2062
        per factor the device measures (hj212-2025.md §5). A result the registers do not fully give is logged."""
        latest = {e.code: e.value for e in self.store.latest_device_info(device)}
        result = check_result(check, latest)
        if result is None:
            event(log, logging.WARNING, "standard_check_incomplete", outlet=self.outlet, device=device)
            return
        event(log, logging.INFO, "standard_check", "标样核查结果 / standard check result", outlet=self.outlet,
              device=device, time=result.time, measured=result.measured, standard=result.standard,
              passed=result.passed)  # fmt: skip
        for pol_id in pol_ids:
            try:
                self.routing.enqueue_standard_check(self.outlet, pol_id, result)
            except StoreError as err:
                event(log, logging.ERROR, "standard_check_not_enqueued", outlet=self.outlet, device=device, error=err)

    def _serial_number(self, device: str, sn: object, pol_ids: Sequence[str], t: datetime) -> None:
        """3019 `<PolId>-SN` when the SN differs from the one stored before (the first one seen is only recorded:
        nothing was replaced). An empty SN (blank registers) is not a serial number and reports nothing."""
        text = sn_text(sn)
        history = self.store.device_info_history(_EPOCH, t, device=device, code=SERIAL_NUMBER)  # before this poll
        before = next((sn_text(e.value) for e in reversed(history) if sn_text(e.value)), "")
        if not text or text == before:
            return
        if not before:
            event(log, logging.INFO, "instrument_sn", "仪器序列号 / instrument serial number", device=device, sn=text)
            return
        event(
            log,
            logging.WARNING,
            "instrument_replaced",
            "仪器已更换 / instrument replaced (3019)",
            outlet=self.outlet,
            device=device,
            old=before,
            new=text,
        )
        for pol_id in pol_ids:
            try:
                self.routing.enqueue_instrument_sn(self.outlet, pol_id, text, t)
            except StoreError as err:
                event(log, logging.ERROR, "instrument_sn_not_enqueued", outlet=self.outlet, device=device, error=err)

    def tick(self, now: datetime) -> int:
        """Close the windows the clock has passed; commit their records and alarms. Returns records stored."""
        if self.engine is None:
            self.engine = self._new_engine(None, self._switch())
        else:
            self.follow_min_interval()
        out = self.engine.advance(now)
        power = self.power.due(now) if self.power is not None else []
        return self._commit([*out.records, *power], out.alarms)

    def flush(self, now: datetime) -> int:
        """Shutdown: close every window that is complete at `now` (polling has stopped, nothing is in flight)."""
        if self.engine is None:
            return 0
        out = self.engine.flush(now)
        return self._commit(out.records, out.alarms)

    def commit_alarms(self, alarms: Sequence[Alarm]) -> None:
        """Alarms found outside the statistics (clock_drift on a 1012): stored and routed like the engine's."""
        self._commit((), alarms)

    def _commit(self, records: Sequence[Record], alarms: Sequence[Alarm]) -> int:
        if not records and not alarms:
            return 0
        stored = 0
        with self.store.transaction():
            for record in records:
                if self._put(record):
                    stored += 1
            for alarm in alarms:
                try:
                    if self.alarms.apply(alarm) is not None:
                        self.alarms_changed += 1
                except StoreError as err:  # one bad alarm must not cost the records of the tick
                    event(log, logging.ERROR, "alarm_not_stored", outlet=self.outlet, kind=alarm.kind, error=err)
        for record in records:
            if not is_power_record(record):  # `latest` answers a platform's 2011/2021 with the outlet's own data
                self.latest[record.kind] = record
        woken = {t for r in records for t in self._targets.pop(id(r), ())} | self.routing.alarm_targets
        self.routing.alarm_targets = set()
        self.routing.wake(woken)
        self.records_stored += stored
        return stored

    def _put(self, record: Record) -> bool:
        try:
            targets = self.routing.record_targets(record)
            self.store.put_record(record, targets)
            self._targets[id(record)] = targets
            return True
        except RecordExistsError as err:
            # A clean stop flushes windows up to `now` that the resumed engine closes again from the same stored
            # readings: the same record made twice is expected and changes nothing. A record that differs from
            # the stored one would be a resume bug; keep the first (already uploaded) and say so.
            if self.store.get_record(err.record_id) == record:
                event(log, logging.DEBUG, "record_remade", outlet=self.outlet, kind=record.kind.value)
                return False
            self._flood.fail(
                f"exists:{self.outlet}:{record.kind}",
                "record_exists",
                "记录已存在, 保留原记录 / record already stored, kept the first",
                level=logging.WARNING,
                outlet=self.outlet,
                kind=record.kind.value,
                data_time=record.data_time.isoformat(sep=" "),
            )
            return False
        except StoreError as err:
            event(
                log,
                logging.ERROR,
                "record_not_stored",
                outlet=self.outlet,
                kind=record.kind.value,
                data_time=record.data_time.isoformat(sep=" "),
                error=err,
            )
            return False

    def status(self) -> Mapping[str, object]:
        engine = self.engine
        return {
            "outlet": self.outlet,
            "kind": self.params.kind.value,
            "devices": list(self.devices),
            "records_stored": self.records_stored,
            "alarms_changed": self.alarms_changed,
            "dropped_late": engine.dropped_late if engine else 0,
            "latest": {k.value: r.data_time.isoformat(sep=" ") for k, r in self.latest.items()},
        }
