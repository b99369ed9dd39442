"""A Modbus unit behind a link owner: block reads, per-point results, splitting on rejection.

Framing: `rtu` for serial buses and serial servers / 4G DTUs that pass RTU frames over TCP ("RTU over TCP"),
`tcp` for Modbus TCP (MBAP). Timeouts, retries, pacing and backoff are the link owner's (per device key).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

from drivers.errors import DeviceBackingOff, DriverError, IllegalDataAddress, IllegalDataValue, LinkDown
from drivers.link.protocol import ByteLink, ReplyLength
from drivers.modbus import frames
from drivers.modbus.planner import BlockPlan, plan_blocks, split_block
from drivers.modbus.points import PointResult, PointSpec

__all__ = ["Framing", "ModbusDevice"]

Framing = Literal["rtu", "tcp"]


class ModbusDevice:
    """One unit id on a link. `key` identifies it to the owner (pacing, timeout, backoff)."""

    def __init__(
        self,
        link: ByteLink,
        unit: int,
        *,
        framing: Framing = "rtu",
        key: str | None = None,
        max_span: int = frames.MAX_REGISTERS,
        max_gap: int = 16,
        readable: Sequence[tuple[int, int, int]] | None = None,
    ) -> None:
        if framing not in ("rtu", "tcp"):
            raise ValueError(f"framing {framing!r} must be 'rtu' or 'tcp'")
        top = 255 if framing == "tcp" else 247
        if not 1 <= unit <= top:
            raise ValueError(f"unit id {unit} must be 1..{top} for {framing} (0 is broadcast, no reply)")
        self.link = link
        self.unit = unit
        self.framing: Framing = framing
        self.key = key or f"{link.endpoint}#{unit}"
        self.max_span = max_span
        self.max_gap = max_gap
        self.readable = tuple(readable) if readable is not None else None
        self._plans: dict[tuple[PointSpec, ...], tuple[BlockPlan, ...]] = {}
        self.reads = 0
        """Requests sent (for tests and counters)."""
        self.writes = 0
        """Write requests sent."""

    async def read(self, function: int, address: int, count: int, *, timeout: float | None = None) -> list[int]:
        """Registers (fc 3/4) or 0/1 bits (fc 1/2) from `address` (0-based wire address)."""
        pdu = frames.read_pdu(function, address, count)
        self.reads += 1
        reply_pdu = await self._transact(
            pdu,
            frames.rtu_reply_length(self.unit, function, count),
            lambda reply: frames.rtu_reply_pdu(reply, self.unit, function, count),
            timeout,
        )
        return frames.parse_read_pdu(reply_pdu, function, count)

    async def write(
        self, function: int, address: int, values: bool | int | Sequence[int], *, timeout: float | None = None
    ) -> None:
        """Write a coil (fc 5), one register (fc 6) or several (fc 16); returns once the device echoed it.

        Through the same link owner as the reads, so a write waits its turn behind a poll and is paced like it.
        Raises the DriverError of the failure (exception reply, timeout, a reply that is not the echo)."""
        pdu = frames.write_pdu(function, address, values)
        self.writes += 1
        reply_pdu = await self._transact(
            pdu,
            frames.rtu_write_reply_length(self.unit, function),
            lambda reply: frames.rtu_write_reply_pdu(reply, self.unit, function),
            timeout,
        )
        frames.parse_write_pdu(reply_pdu, pdu)

    async def _transact(
        self,
        pdu: bytes,
        rtu_length: ReplyLength,
        rtu_pdu: Callable[[bytes], bytes],
        timeout: float | None,
    ) -> bytes:
        """One request PDU through the link owner in this device's framing; the reply PDU, checked.

        RTU needs the request's own reply rule (length and CRC differ per function); MBAP frames every reply by
        its header and transaction id."""
        if self.framing == "rtu":
            reply = await self.link.exchange(self.key, frames.rtu_frame(self.unit, pdu), rtu_length, timeout=timeout)
            return rtu_pdu(reply)
        tid = frames.next_transaction_id()
        request = frames.mbap_frame(tid, self.unit, pdu)
        reply = await self.link.exchange(self.key, request, frames.mbap_reply_length(tid, self.unit), timeout=timeout)
        return frames.mbap_reply_pdu(reply)

    def plan(self, points: Sequence[PointSpec]) -> tuple[BlockPlan, ...]:
        """The block plan for these points: computed once, then refined as the device rejects blocks."""
        key = tuple(points)
        plan = self._plans.get(key)
        if plan is None:
            plan = plan_blocks(key, max_span=self.max_span, max_gap=self.max_gap, readable=self.readable)
            self._plans[key] = plan
        return plan

    async def read_points(self, points: Sequence[PointSpec]) -> dict[str, PointResult]:
        """Read every point, one result per name; a failure marks only the points it concerns.

        A block rejected with exception 02/03 (range spans undefined registers) is split and the refined plan
        kept, so the rejection costs one extra request once, not every poll.
        """
        key = tuple(points)
        results: dict[str, PointResult] = {}
        refined: list[BlockPlan] = []
        stop: DriverError | None = None
        for block in self.plan(key):
            if stop is not None:
                _fail(results, block, stop)
                refined.append(block)
                continue
            stop = await self._read_block(block, results, refined)
        self._plans[key] = tuple(refined)
        return {p.name: results[p.name] for p in points}

    async def _read_block(
        self, block: BlockPlan, results: dict[str, PointResult], refined: list[BlockPlan]
    ) -> DriverError | None:
        """Read one block into results; returns an error that makes the rest of this poll pointless."""
        try:
            values = await self.read(block.function, block.start, block.count)
        except (IllegalDataAddress, IllegalDataValue) as err:
            halves = split_block(block)
            if halves is None:
                _fail(results, block, err)
                refined.append(block)
                return None
            for half in halves:
                stop = await self._read_block(half, results, refined)
                if stop is not None:
                    return stop
            return None
        except (LinkDown, DeviceBackingOff) as err:  # the rest of this poll would fail the same way, at once
            _fail(results, block, err)
            refined.append(block)
            return err
        except DriverError as err:  # exception reply, timeout, garbage: the owner backs a dead device off
            _fail(results, block, err)
            refined.append(block)
            return None
        refined.append(block)
        for point in block.points:
            results[point.name] = point.result(block.slice(values, point))
        return None


def _fail(results: dict[str, PointResult], block: BlockPlan, err: DriverError) -> None:
    for point in block.points:
        results[point.name] = PointResult(None, (), err)
