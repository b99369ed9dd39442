"""What the daemon runs, in plain values: the site config turned into devices, outlets, targets and timings.

`SitePlan` is the seam between the configuration (agent/config, validated TOML) and the runtime
(agent/daemon/site.py): tests and benchmarks build plans directly; `das run` builds one from the site config
with the config's own builders (agent.config.build).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.stats import OutletParams
from buffer import RetentionPolicy
from drivers.profiles.config import DevicesConfig
from drivers.profiles.schema import Profile

if TYPE_CHECKING:  # plan_from_config imports agent.config lazily; this import is for the hint only
    from agent.config.model import SiteConfig

__all__ = ["DEFAULT_POLL_S", "OutletPlan", "SitePlan", "poll_intervals"]

DEFAULT_POLL_S = 5.0
"""HJ 76 App. B: samples at most 5 s apart for a gas minute; a device feeding no outlet is polled as often."""


@dataclass(frozen=True)
class OutletPlan:
    params: OutletParams
    feeds: Mapping[tuple[str, str], str]
    """(device, factor code the reading is stored under) → the outlet's factor code."""
    power: Any = None
    """agent.config.build.PowerPlan: the outlet's ST=44 electricity points (HJ 212-2025), or None."""

    @property
    def name(self) -> str:
        return self.params.outlet

    @property
    def devices(self) -> tuple[str, ...]:
        power = self.power.devices if self.power is not None else ()
        return tuple(dict.fromkeys([*(device for device, _ in self.feeds), *power]))


@dataclass(frozen=True)
class SitePlan:
    name: str
    store_path: Path
    devices: DevicesConfig
    profiles: Mapping[str, Profile]
    outlets: tuple[OutletPlan, ...]
    platforms: tuple[Any, ...] = ()  # uplink.settings.PlatformSettings, one per (platform, outlet) session
    mqtt: tuple[Any, ...] = ()  # uplink.mqtt.MqttSettings
    retention: RetentionPolicy | None = None
    close_delay_s: float = 10.0
    intervals: Mapping[str, float] = field(default_factory=dict)
    point_codes: Mapping[tuple[str, str], str] = field(default_factory=dict)
    """(device, point) → code for points that have no factor code of their own (equipment sources)."""
    identity: Any = None
    """uplink.commands.DasIdentity from `[site]` das_id/cpu_id/macs (HJ 212-2025 1001/1002), or None."""


def poll_intervals(plan_devices: Mapping[str, object], outlets: tuple[OutletPlan, ...]) -> dict[str, float]:
    """Each device is polled at the shortest `validity.sample_period_s` of the outlets it feeds, so a minute
    gets the number of samples its validity rule counts on; a device feeding none at `DEFAULT_POLL_S`."""
    out: dict[str, float] = {}
    for name in plan_devices:
        periods = [o.params.validity.sample_period_s for o in outlets if name in o.devices]
        out[name] = min(periods) if periods else DEFAULT_POLL_S
    return out


def plan_from_config(config: SiteConfig, *, state_dir: Path | None = None) -> SitePlan:
    """Build the plan with the config's own builders (agent.config.build); `state_dir` relocates the store."""
    from agent.config import build

    devices = build.devices_config(config)
    profiles = dict(config.profiles)
    params = build.outlet_params(config)
    feeds: dict[str, dict[tuple[str, str], str]] = {name: {} for name in params}
    point_codes: dict[tuple[str, str], str] = {}
    for (device, point), routes in build.reading_routes(config).items():
        stored = devices.devices[device].override(point).factor
        if stored is None:
            profile = profiles.get(device)
            stored = next((p.factor for p in profile.values() if p.name == point), None) if profile else None
        if stored is None:  # e.g. a power meter's P feeding an equipment: stored under the equipment's code
            stored = routes[0].code
            point_codes[(device, point)] = stored
        for route in routes:
            feeds[route.outlet][(device, stored)] = route.code
    power = build.power_points(config)
    outlets = tuple(OutletPlan(params[name], feeds[name], power.get(name)) for name in params)
    store = build.store_path(config)
    if state_dir is not None:
        store = Path(state_dir) / store.name
    return SitePlan(
        name=config.site.name,
        store_path=store,
        devices=devices,
        profiles=profiles,
        outlets=outlets,
        # One settings object per (platform, outlet) session: ST follows the outlet's kind (HJ 212 Table 5: 31
        # gas, 32 water); per-platform settings give a site with both kinds one ST for every outlet.
        platforms=tuple(build.session_settings(config).values()),
        mqtt=tuple(build.mqtt_settings(config).values()),
        retention=build.retention_policy(config),
        close_delay_s=float(config.statistics.close_delay_s),
        point_codes=point_codes,
        identity=build.das_identity(config),
    )
