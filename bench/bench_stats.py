"""Statistics engine throughput: one outlet-day of 5 s gas readings through StatsEngine, and hour/day recompute."""

from __future__ import annotations

import random
import time
import tracemalloc
from datetime import datetime, timedelta

from agent.model import Reading
from agent.stats import FactorParams, NoxParams, OutletParams, StatsEngine

T0 = datetime(2024, 5, 1)


def _params() -> OutletParams:
    return OutletParams(
        outlet="DA001",
        kind="gas",
        reference_o2=6.0,
        duct_area=3.0,
        flow_code="a00000",
        nox=NoxParams(),
        factors=(
            FactorParams(code="a21026", unit="mg/m3", limit=35.0),
            FactorParams(code="a21003", unit="mg/m3"),
            FactorParams(code="a21004", unit="mg/m3"),
            FactorParams(code="a34013", unit="mg/m3", limit=10.0),
            FactorParams(code="a19001", role="o2", unit="%"),
            FactorParams(code="a01012", role="temperature", unit="℃"),
            FactorParams(code="a01013", role="pressure", unit="kPa"),
            FactorParams(code="a01014", role="humidity", unit="%"),
            FactorParams(code="a01011", role="velocity", unit="m/s"),
        ),
    )


def _day(params: OutletParams) -> list[Reading]:
    rng = random.Random(7)
    out = []
    for i in range(86400 // 5):
        t = T0 + timedelta(seconds=1 + 5 * i)
        for f in params.factors:
            out.append(Reading("cems", f.code, t, rng.uniform(1.0, 15.0), "", "N" if rng.random() > 0.02 else "C"))
    return out


def _run(params: OutletParams, readings: list[Reading]) -> int:
    engine = StatsEngine(params, start=T0)
    records = 0
    for r in readings:
        engine.add(r)
        if r.factor == "a01011":  # the daemon advances after each poll cycle
            records += len(engine.advance(r.time).records)
    return records + len(engine.flush(T0 + timedelta(days=1)).records)


def main() -> None:
    params = _params()
    readings = _day(params)
    begin = time.perf_counter()
    records = _run(params, readings)
    elapsed = time.perf_counter() - begin
    tracemalloc.start()
    _run(params, readings)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"engine: {len(readings)} readings ({len(params.factors)} factors, 5 s, 1 day) → {records} records")
    print(f"  {elapsed:.2f} s, {len(readings) / elapsed:,.0f} readings/s, {elapsed / 1440 * 1000:.2f} ms per minute")
    print(f"  peak memory of the engine {peak / 1e6:.1f} MB (tracemalloc, second run; the input list excluded)")


if __name__ == "__main__":
    main()
