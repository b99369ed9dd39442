"""Issue 4: a record is durable before anything acknowledges it.

A child process writes records, readings and acks and prints each one only after its commit returned; we kill
it with SIGKILL at random moments (during open and migration too), then check the file is consistent and
everything the child reported is there with exactly the values it wrote. This proves crash atomicity and
commit-before-report against process death; power loss is covered by synchronous=FULL (docs/store.md).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from store_samples import minute_record, readings_batch

from buffer import Store

WRITER = Path(__file__).with_name("store_kill_writer.py")
ROUNDS = 8


def _run_round(db: Path, round_number: int, rng: random.Random) -> list[str]:
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), str(db), str(round_number)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    if round_number % 4 == 1:
        time.sleep(rng.uniform(0.0, 0.3))  # likely while opening, creating or migrating the file
    else:
        assert proc.stdout.readline() == "ready\n", proc.stderr.read() if proc.stderr else ""
        time.sleep(rng.uniform(0.05, 0.9))
    os.kill(proc.pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, err
    lines = out.split("\n")
    return lines[:-1]  # the last element is "" or a line cut mid-write: not reported


def test_sigkill_at_random_moments_loses_nothing_committed(db_path: Path) -> None:
    rng = random.Random(int(os.environ.get("STORE_KILL_SEED", "20250301")))
    records: dict[int, int] = {}
    batches: set[int] = set()
    acked: set[int] = set()
    for round_number in range(ROUNDS):
        for line in _run_round(db_path, round_number, rng):
            tag, *rest = line.split()
            if tag == "R":
                records[int(rest[0])] = int(rest[1])
            elif tag == "G":
                batches.add(int(rest[0]))
            elif tag == "A":
                acked.add(int(rest[0]))
    assert records, "the writer never got to commit: the test proved nothing"

    with Store(db_path, readonly=True) as store:
        assert store.integrity_check() == []
        for n, record_id in records.items():
            assert store.get_record(record_id) == minute_record(n)
            items = store.db.conn.execute("SELECT target FROM outbox WHERE record_id = ?", (record_id,)).fetchall()
            assert sorted(t for (t,) in items) == ["city", "prov"]
        for n in batches:
            for expected in readings_batch(n):
                end = expected.time + timedelta(seconds=1)
                assert store.readings(expected.device, expected.factor, expected.time, end) == [expected]
        for item_id in acked:
            item = store.get_outbox_item(item_id)
            assert item is not None and item.acked_at is not None
        # Whatever else made it to disk (committed but killed before reporting) is whole, never half-written.
        for outlet, n_text, record_id in store.db.conn.execute("SELECT outlet, extra ->> 'n', id FROM record"):
            assert store.get_record(record_id) == minute_record(int(n_text), outlet)
            targets = store.db.conn.execute("SELECT count(*) FROM outbox WHERE record_id = ?", (record_id,))
            assert targets.fetchone()[0] == 2  # the enqueue shares the record's transaction
