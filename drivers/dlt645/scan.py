"""DL/T 645 probe for `das scan` (listed in `drivers.link.scan.PROBE_MODULES`).

Wildcard discovery per edition: it finds a meter that is alone on the line (the usual case when a technician
connects to one meter to commission it). Several meters on one bus collide on the wildcard and are not reported
rather than reported wrongly; poll those by the addresses on their nameplates.
"""

from __future__ import annotations

from typing import Literal

from drivers.dlt645.identifiers import Version
from drivers.dlt645.meter import probe_dlt645
from drivers.link.owner import LinkOwner
from drivers.link.params import SerialParams, TcpParams
from drivers.link.scan import Found, Progress, ScanOptions

__all__ = ["PROBES", "Dlt645Probe"]


class Dlt645Probe:
    name = "dlt645"
    transport: Literal["serial"] = "serial"
    versions = (Version.V2007, Version.V1997)
    bauds = (2400, 1200, 9600)
    """devices.md §1.1: 2400 8E1 is the 2007 default, 1200 for 1997-edition meters, 9600 on some newer ones."""
    parities = ("E",)

    def steps(self, options: ScanOptions) -> int:
        return len(self.versions)

    def silent_seconds(self, options: ScanOptions, params: SerialParams | TcpParams) -> float:
        return len(self.versions) * self._timeout(options, params)

    @staticmethod
    def _timeout(options: ScanOptions, params: SerialParams | TcpParams) -> float:
        # A wake-up preamble, request and reply are ~60 chars: 0.4 s at 1200 8E1, more than a Modbus probe needs.
        wire = 60 * params.char_time if isinstance(params, SerialParams) else 0.0
        return max(options.timeout, wire + 0.2)

    async def run(
        self, link: LinkOwner, params: SerialParams | TcpParams, options: ScanOptions, progress: Progress
    ) -> list[Found]:
        found: list[Found] = []
        line = params.line if isinstance(params, SerialParams) else ""
        timeout = self._timeout(options, params)
        for index, version in enumerate(self.versions):
            try:
                hits = await probe_dlt645(link, versions=(version,), timeout=timeout)
            except BaseException:
                progress(len(self.versions) - index)
                raise
            progress(1)
            found += [
                Found(
                    self.name,
                    link.endpoint,
                    hit.address,
                    line,
                    f"DL/T 645-{hit.version.value} {hit.detail}",
                    {"address": hit.address, "version": hit.version.value},
                )
                for hit in hits
            ]
        return found


PROBES = [Dlt645Probe()]
