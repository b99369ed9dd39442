"""Block-read planner: merging, limits and splitting a rejected block."""

from __future__ import annotations

import pytest

from drivers.modbus import PointSpec, plan_blocks, split_block


def reg(name: str, address: int, dtype: str = "uint16", function: int = 3) -> PointSpec:
    return PointSpec(name=name, address=address, function=function, dtype=dtype)  # type: ignore[arg-type]


def spans(blocks: tuple) -> list[tuple[int, int, int]]:
    return [(b.function, b.start, b.count) for b in blocks]


def test_nearby_points_merge_into_one_read() -> None:
    points = [reg("a", 0, "float32"), reg("b", 4, "float32"), reg("c", 10)]
    assert spans(plan_blocks(points)) == [(3, 0, 11)]


def test_gap_larger_than_max_gap_splits() -> None:
    points = [reg("a", 0), reg("b", 20)]
    assert spans(plan_blocks(points, max_gap=16)) == [(3, 0, 1), (3, 20, 1)]
    assert spans(plan_blocks(points, max_gap=19)) == [(3, 0, 21)]


def test_span_never_exceeds_125_registers() -> None:
    points = [reg(f"p{i}", i * 10, "float32") for i in range(30)]  # 0..292
    blocks = plan_blocks(points)
    assert all(b.count <= 125 for b in blocks)
    assert sum(len(b.points) for b in blocks) == 30
    assert spans(blocks)[0] == (3, 0, 122)  # points at 0..120 fit, 130 would make 132


def test_functions_are_never_mixed_and_order_is_by_address() -> None:
    points = [
        reg("h", 5),
        reg("i", 1, function=4),
        reg("h0", 0),
        PointSpec(name="c", address=0, function=1, dtype="bool"),
    ]
    assert spans(plan_blocks(points)) == [(1, 0, 1), (3, 0, 6), (4, 1, 1)]


def test_readable_ranges_are_respected() -> None:
    points = [reg("a", 0), reg("b", 8), reg("c", 12), reg("d", 300)]
    blocks = plan_blocks(points, readable=[(3, 0, 10), (3, 10, 20)])
    # a and b in range 0; c in range 1; d outside any declared range: read alone
    assert spans(blocks) == [(3, 0, 9), (3, 12, 1), (3, 300, 1)]


def test_duplicate_names_and_oversized_points_are_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        plan_blocks([reg("a", 0), reg("a", 1)])
    with pytest.raises(ValueError, match="max_span"):
        plan_blocks([PointSpec(name="s", address=0, dtype="string", count=20)], max_span=10)
    with pytest.raises(ValueError):
        plan_blocks([reg("a", 0)], max_span=126)


def test_split_cuts_at_the_widest_hole() -> None:
    (block,) = plan_blocks([reg("a", 0), reg("b", 2), reg("c", 14), reg("d", 15)])
    first, second = split_block(block)  # type: ignore[misc]
    assert (first.start, first.count, second.start, second.count) == (0, 3, 14, 2)
    assert split_block(plan_blocks([reg("x", 7)])[0]) is None


def test_slice_returns_each_points_registers() -> None:
    (block,) = plan_blocks([reg("a", 10, "float32"), reg("b", 13)])
    values = [1, 2, 3, 4]
    assert list(block.slice(values, block.points[0])) == [1, 2]
    assert list(block.slice(values, block.points[1])) == [4]
