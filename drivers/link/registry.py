"""One owner per physical link, keyed by endpoint (style.md §2.1).

Two devices configured on the same serial port get the same owner; the same port with other line settings is
a configuration error, caught when the second device is added, not as garbled frames on site.
"""

from __future__ import annotations

from drivers.clock import Clock, MonotonicClock
from drivers.link.owner import LinkOwner
from drivers.link.params import DeviceTiming, SerialParams, TcpParams

__all__ = ["LinkRegistry"]


class LinkRegistry:
    def __init__(self, clock: Clock | None = None, default_timing: DeviceTiming | None = None) -> None:
        self.clock = clock or MonotonicClock()
        self.default_timing = default_timing or DeviceTiming()
        self._owners: dict[str, LinkOwner] = {}

    def get(self, params: SerialParams | TcpParams) -> LinkOwner:
        owner = self._owners.get(params.endpoint)
        if owner is None:
            owner = LinkOwner(params, clock=self.clock, default_timing=self.default_timing)
            self._owners[params.endpoint] = owner
        elif owner.params != params:
            raise ValueError(
                f"链路参数冲突 / link {params.endpoint} already configured as {owner.params}, not {params}"
            )
        return owner

    def owners(self) -> list[LinkOwner]:
        return list(self._owners.values())

    async def close(self) -> None:
        for owner in self._owners.values():
            await owner.close()
        self._owners.clear()
