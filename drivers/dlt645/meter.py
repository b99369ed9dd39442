"""Reading DL/T 645 meters through the shared link owner (`drivers.link.ByteLink`).

The link owner serializes and paces every frame on the bus whatever the protocol; this module only builds
requests, frames replies (`reply_length`) and turns replies into `ReadResult`s. Several meters on one RS-485
bus are several `Dlt645Meter`s on one link.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.dlt645.codec import (
    MeterErrorReply,
    parse_address_reply,
    parse_read_reply,
    read_address_request,
    read_request,
)
from drivers.dlt645.frame import WILDCARD, check_address, decode_frame, reply_length
from drivers.dlt645.identifiers import DataItem, Version, lookup
from drivers.errors import DriverError, LinkDown, ProtocolError
from drivers.link import ByteLink
from drivers.result import ReadResult


@dataclass(frozen=True, kw_only=True, slots=True)
class MeterParams:
    """One meter on a link. The edition must be configured: a 1997 meter ignores 2007 requests and vice versa."""

    address: str
    """12 BCD digits as printed on the meter's nameplate (shorter ones are padded with leading 0)."""
    version: Version = Version.V2007
    preamble: int = 4
    """FE bytes sent before each request to wake the meter (§1.1); some meters want none."""
    device: str = ""
    """Key of this meter on the link (pacing, timeout, backoff); default `dlt645:<address>`."""
    timeout: float | None = None
    """Per-request timeout; None uses the device timing set on the link owner."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", check_address(self.address))
        object.__setattr__(self, "version", Version.parse(self.version))
        if "A" in self.address:
            raise ValueError(f"meter address {self.address}: a wildcard address cannot be polled, find it first")
        if not 0 <= self.preamble <= 16:
            raise ValueError(f"preamble {self.preamble}: expected 0..16 FE bytes")
        if not self.device:
            object.__setattr__(self, "device", f"dlt645:{self.address}")


class Dlt645Meter:
    """Reads data items of one meter; every failure comes back as a `ReadResult` with a typed error."""

    def __init__(self, link: ByteLink, params: MeterParams) -> None:
        self.link = link
        self.params = params

    def item(self, key: DataItem | str | int) -> DataItem:
        """Resolve a name or DI in this meter's edition (KeyError names the known items)."""
        if isinstance(key, DataItem):
            if key.version is not self.params.version:
                raise ValueError(f"item {key.name} is DL/T 645-{key.version.value}, meter speaks {self.params.version}")
            return key
        return lookup(key, self.params.version)

    async def read(self, key: DataItem | str | int) -> ReadResult:
        """Read one single-value item."""
        item = self.item(key)
        if item.count != 1:
            raise ValueError(f"item {item.name} is a block of {item.count} values: use read_block")
        results = await self.read_block(item)
        return results[0]

    async def read_block(self, key: DataItem | str | int) -> tuple[ReadResult, ...]:
        """Read an item and return one result per value (`name[0]`, `name[1]` … for a block)."""
        item = self.item(key)
        names = [item.name] if item.count == 1 else [f"{item.name}[{k}]" for k in range(item.count)]
        raw = b""
        try:
            raw = await self.link.exchange(
                self.params.device,
                read_request(self.params.address, item, preamble=self.params.preamble),
                reply_length,
                timeout=self.params.timeout,
            )
            _, value_bytes = parse_read_reply(raw, self.params.address, item)
            values = item.decode(value_bytes)
        except DriverError as err:
            return tuple(ReadResult(name, None, item.unit, raw, err) for name in names)
        return tuple(ReadResult(name, v, item.unit, raw) for name, v in zip(names, values, strict=True))

    async def read_many(self, keys: list[DataItem | str | int]) -> list[ReadResult]:
        """Read items one after another (the link owner paces them); one failure does not stop the rest."""
        out: list[ReadResult] = []
        for key in keys:
            out.extend(await self.read_block(key))
        return out


async def read_address(
    link: ByteLink,
    *,
    version: Version = Version.V2007,
    device: str | None = None,
    timeout: float | None = None,
    preamble: int = 4,
) -> str:
    """Ask "whoever is there" for its address (wildcard AAAAAAAAAAAA): valid only with one meter on the bus.

    2007 has a read-address command (C = 0x13). 1997 has none, so the lone meter is asked for its import
    energy (9010) at the wildcard address and its real address is taken from the reply header.
    Raises `DriverError` subclasses: timeout when no meter answers, `ProtocolError` when several collide.
    """
    version = Version.parse(version)
    device = (
        device or f"dlt645:discover:{version.value}"
    )  # per edition: one edition's silence must not back off the other
    if version is Version.V2007:
        raw = await link.exchange(device, read_address_request(preamble=preamble), reply_length, timeout=timeout)
        return parse_address_reply(raw)
    item = lookup("energy_active_import", version)
    raw = await link.exchange(device, read_request(WILDCARD, item, preamble=preamble), reply_length, timeout=timeout)
    try:
        frame, _ = parse_read_reply(raw, WILDCARD, item)
    except MeterErrorReply:
        frame = decode_frame(raw, from_slave=True)  # an error reply still names the meter
    if "A" in frame.address:
        raise ProtocolError(f"DL/T 645: meter answered the wildcard with address {frame.address}")
    return frame.address


@dataclass(frozen=True, slots=True)
class ProbeHit:
    """A meter that answered a probe; `detail` is the value read, or the error reply it gave."""

    address: str
    version: Version
    detail: str


async def probe_dlt645(
    link: ByteLink,
    *,
    addresses: list[str] | None = None,
    versions: tuple[Version, ...] = (Version.V2007, Version.V1997),
    timeout: float | None = 0.5,
) -> list[ProbeHit]:
    """Find DL/T 645 meters on a link for `das scan`.

    Without `addresses`, each edition's wildcard discovery is tried (finds a lone meter). With addresses, each
    is asked for its import energy in each edition; an error reply still proves a meter is there.
    Silence and garbage are not hits; only `LinkDown` (the port itself is unusable) is raised.
    """
    hits: list[ProbeHit] = []
    if addresses is None:
        for version in versions:
            try:
                address = await read_address(link, version=version, timeout=timeout)
            except LinkDown:
                raise
            except DriverError:
                continue
            meter = Dlt645Meter(link, MeterParams(address=address, version=version, timeout=timeout))
            hits.append(ProbeHit(address, version, _detail(await meter.read("energy_active_import"))))
        return hits
    for address in addresses:
        for version in versions:
            params = MeterParams(
                address=address, version=version, timeout=timeout, device=f"dlt645:probe:{version.value}:{address}"
            )
            meter = Dlt645Meter(link, params)
            result = await meter.read("energy_active_import")
            if isinstance(result.error, LinkDown):
                raise result.error
            if result.ok or isinstance(result.error, MeterErrorReply):
                hits.append(ProbeHit(meter.params.address, version, _detail(result)))
                break
    return hits


def _detail(result: ReadResult) -> str:
    if result.ok:
        return f"{result.name} = {result.value} {result.unit}"
    return f"{result.name}: {result.error}"
