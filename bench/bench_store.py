"""Store figures (issue 4, point 7): reading insert rate and headroom over 60 points at 1 Hz; one year of
minute records for 20 factors: file size, write time, and the time to fetch one day for a history request.

Everything is written into a temporary directory that is removed afterwards. `STORE_BENCH_DAYS` shortens the
year (e.g. 30) for a quick look; the figures in bench/README.md are from the full 365 days.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from agent.model import FactorValues, Reading, Record, RecordKind
from buffer import Store

POINTS = 60  # the baseline: 60 points polled at 1 Hz
FACTORS = 20
START = datetime(2024, 1, 1)


def _round(n: int, t: datetime) -> list[Reading]:
    return [
        Reading(
            device=f"dev{p // 10}", factor=f"p{p:03d}", time=t, value=round((n * 31 + p) % 997 / 3.0, 3), unit="mg/m3"
        )
        for p in range(POINTS)
    ]


def bench_readings(folder: Path) -> None:
    with Store(folder / "readings.sqlite") as store:
        rounds = 1500
        began = time.perf_counter()
        for n in range(rounds):
            store.add_readings(_round(n, START + timedelta(seconds=n)))
        spent = time.perf_counter() - began
        per_round = spent / rounds
        print(f"readings, one transaction per 1 s poll round of {POINTS} points (synchronous=FULL):")
        print(
            f"  {rounds} rounds in {spent:.2f} s: {per_round * 1000:.2f} ms per round, {rounds / spent:.0f} rounds/s,"
        )
        print(f"  {rounds * POINTS / spent:,.0f} readings/s = {1 / per_round:.0f}x the 1 Hz baseline")

        batch_rounds = 100
        batches = 60
        began = time.perf_counter()
        for b in range(batches):
            first = rounds + b * batch_rounds
            store.add_readings(
                r for n in range(first, first + batch_rounds) for r in _round(n, START + timedelta(seconds=n))
            )
        spent = time.perf_counter() - began
        total = batches * batch_rounds * POINTS
        print(f"readings, bulk ({batch_rounds * POINTS} per transaction, e.g. a backlog flush):")
        print(f"  {total:,} in {spent:.2f} s: {total / spent:,.0f} readings/s")

        stored = (rounds + batches * batch_rounds) * POINTS
        per_row = store.used_bytes() / stored
        month = per_row * POINTS * 86400 * 30
        print(f"  {per_row:.1f} bytes per reading in the file; 30 days of 60 points at 1 Hz = {month / 2**30:.1f} GiB")


def _minute_records(days: int) -> Iterator[list[Record]]:
    codes = [f"a{21000 + k:05d}" for k in range(FACTORS)]
    rng = random.Random(1)
    for day in range(days):
        base = START + timedelta(days=day)
        out = []
        for m in range(1440):
            groups = []
            for code in codes:
                avg = round(rng.uniform(0, 200), 3)
                groups.append(
                    FactorValues(
                        code,
                        {
                            "Cou": round(avg * 0.06, 4),
                            "Min": round(avg * 0.9, 3),
                            "Avg": avg,
                            "Max": round(avg * 1.1, 3),
                            "Flag": "N",
                        },
                        60,
                    )
                )
            out.append(Record("MN0001", RecordKind.MINUTE, base + timedelta(minutes=m), tuple(groups)))
        yield out


def bench_minute_year(folder: Path, days: int) -> None:
    path = folder / "year.sqlite"
    with Store(path) as store:
        began = time.perf_counter()
        for day in _minute_records(days):
            store.put_records(day)
        spent = time.perf_counter() - began
        store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = path.stat().st_size
        records = days * 1440
        print(f"minute records, {days} days x 1440, {FACTORS} factors x Cou/Min/Avg/Max/Flag:")
        print(f"  written in {spent:.1f} s (one transaction per day, records built in Python included)")
        print(f"  file {size / 2**20:.0f} MiB, {size / records:.0f} bytes per record")

    picks = random.Random(2).sample(range(days), min(days, 20))
    with Store(path, readonly=True) as reader:  # what a CLI or a second process sees; warm OS cache
        times = []
        for day in picks:
            begin = START + timedelta(days=day)
            t0 = time.perf_counter()
            got = reader.records("MN0001", RecordKind.MINUTE, begin, begin + timedelta(days=1))
            times.append(time.perf_counter() - t0)
            assert len(got) == 1440
        print(f"  fetch one day (1440 records, decoded) for a history request, {len(picks)} random days:")
        print(f"  median {statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms")


def main() -> None:
    days = int(os.environ.get("STORE_BENCH_DAYS", "365"))
    with tempfile.TemporaryDirectory(prefix="bench_store_") as tmp:
        bench_readings(Path(tmp))
        bench_minute_year(Path(tmp), days)


if __name__ == "__main__":
    main()
