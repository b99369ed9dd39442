"""Block-read planner: merge nearby points into few reads, and split a block the device rejects.

Each read costs a request/reply turnaround plus the frame gap, so on a 9600-baud bus one 20-register read beats
ten 2-register reads. Limits (devices.md §5.4): at most 125 registers (2000 bits) per read; some devices refuse
reads spanning undefined registers (exception 02), so `readable` ranges keep blocks inside known-good spans and
`split_block` cuts a rejected block at its widest hole.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from drivers.modbus.frames import MAX_BITS, MAX_REGISTERS
from drivers.modbus.points import PointSpec

__all__ = ["BlockPlan", "plan_blocks", "split_block"]


@dataclass(frozen=True, slots=True)
class BlockPlan:
    """One read request and the points decoded from it."""

    function: int
    start: int
    count: int
    points: tuple[PointSpec, ...]

    @property
    def end(self) -> int:
        return self.start + self.count

    def slice(self, values: Sequence[int], point: PointSpec) -> Sequence[int]:
        return values[point.address - self.start : point.end - self.start]


def _block(points: Sequence[PointSpec]) -> BlockPlan:
    start = min(p.address for p in points)
    end = max(p.end for p in points)
    return BlockPlan(points[0].function, start, end - start, tuple(points))


def _range_of(point: PointSpec, readable: Sequence[tuple[int, int, int]] | None) -> int:
    """Index of the readable range (function, start, end) holding the point; -1 when ranges are not given."""
    if readable is None:
        return -1
    for i, (fc, start, end) in enumerate(readable):
        if fc == point.function and start <= point.address and point.end <= end:
            return i
    return -2  # outside every declared range: read alone


def plan_blocks(
    points: Iterable[PointSpec],
    *,
    max_span: int = MAX_REGISTERS,
    max_gap: int = 16,
    max_bits: int = MAX_BITS,
    readable: Sequence[tuple[int, int, int]] | None = None,
) -> tuple[BlockPlan, ...]:
    """Group points by function, sorted by address; extend a block while the next point starts at most
    `max_gap` registers after it and the span stays within `max_span` (bits: `max_bits`).

    `readable`: optional (function, start, end) spans the device accepts; blocks never cross their borders.
    """
    if not 1 <= max_span <= MAX_REGISTERS:
        raise ValueError(f"max_span {max_span} must be within 1..{MAX_REGISTERS}")
    if max_gap < 0:
        raise ValueError("max_gap must be >= 0")
    seen: set[str] = set()
    ordered = sorted(points, key=lambda p: (p.function, p.address, p.end))
    for p in ordered:
        if p.name in seen:
            raise ValueError(f"duplicate point name {p.name!r}")
        seen.add(p.name)
    blocks: list[BlockPlan] = []
    current: list[PointSpec] = []
    current_range = -1
    end = 0
    for p in ordered:
        span = max_bits if p.function in (1, 2) else max_span
        if p.width > span:
            raise ValueError(f"point {p.name!r} is {p.width} registers wide, more than max_span {span}")
        rng = _range_of(p, readable)
        if current:
            first = current[0]
            fits = (
                p.function == first.function
                and rng == current_range
                and rng != -2
                and p.address - end <= max_gap
                and max(end, p.end) - first.address <= span
            )
            if fits:
                current.append(p)
                end = max(end, p.end)
                continue
            blocks.append(_block(current))
        current, current_range, end = [p], rng, p.end
    if current:
        blocks.append(_block(current))
    return tuple(blocks)


def split_block(block: BlockPlan) -> tuple[BlockPlan, BlockPlan] | None:
    """Two blocks from one the device rejected, cut at the widest hole between points (None: a single read
    that cannot be split further)."""
    pts = sorted(block.points, key=lambda p: (p.address, p.end))
    if len(pts) < 2:
        return None
    best, best_gap, end = 1, -1, pts[0].end
    for i in range(1, len(pts)):
        gap = pts[i].address - end
        if gap > best_gap:
            best, best_gap = i, gap
        end = max(end, pts[i].end)
    if best_gap < 0:  # overlapping points everywhere: halve by count
        best = len(pts) // 2
    return _block(pts[:best]), _block(pts[best:])
