"""Writer child for the SIGKILL test: writes in a loop and prints each item only after its commit returned.

Usage: python store_kill_writer.py DB ROUND. Keys are ROUND * 1_000_000 + i, so rounds never collide and the
parent can recompute every value from the key alone.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from store_samples import minute_record, readings_batch

from buffer import Store

TARGETS = ("prov", "city")


def main(db: str, round_number: int) -> None:
    store = Store(db)
    print("ready", flush=True)
    i = 0
    while True:
        n = round_number * 1_000_000 + i
        record_id = store.put_record(minute_record(n), TARGETS)
        print(f"R {n} {record_id}", flush=True)
        store.add_readings(readings_batch(n))
        print(f"G {n}", flush=True)
        if i % 3 == 0:
            item = store.next_batch("prov", 1)[0]
            store.ack(item.id)
            print(f"A {item.id}", flush=True)
        i += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
