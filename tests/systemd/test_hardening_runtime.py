"""The agent runs where the kernel refuses writable-executable memory (the unit's MemoryDenyWriteExecute=yes).

systemd enforces MemoryDenyWriteExecute with a seccomp filter that PID 1 installs; without systemd as PID 1 we
ask the kernel for the equivalent rule ourselves: prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN) (Linux ≥ 6.3)
forbids W+X mappings and making a mapping executable later. A child process sets it, proves it holds, then
imports every `das` command module and runs a store, SM4, pyserial and asyncio TCP workload.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

CHILD = r"""
import ctypes, errno, mmap, sys

libc = ctypes.CDLL(None, use_errno=True)
PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
    print("unsupported", errno.errorcode.get(ctypes.get_errno()))
    sys.exit(0)
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
except PermissionError:
    pass
else:
    print("W+X mapping was allowed: the rule is not in force")
    sys.exit(1)

import asyncio, os, sqlite3, tempfile

from agent.cli import _load_commands
_load_commands()  # every command module, and with them drivers, uplink, buffer, config

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
enc = Cipher(algorithms.SM4(bytes(16)), modes.ECB()).encryptor()
assert len(enc.update(bytes(16)) + enc.finalize()) == 16

import serial
port = serial.serial_for_url("loop://", timeout=1)
port.write(b"##0101")
assert port.read(6) == b"##0101"

from buffer import Store
with tempfile.TemporaryDirectory() as folder:
    store = Store(os.path.join(folder, "das.sqlite"))
    store.close()
    with sqlite3.connect(os.path.join(folder, "das.sqlite")) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)

async def echo() -> bytes:
    async def handle(reader, writer):
        writer.write(await reader.readline())
        await writer.drain()
        writer.close()
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"QN=1\n")
    line = await reader.readline()
    writer.close()
    server.close()
    return line

assert asyncio.run(echo()) == b"QN=1\n"
print("ok")
"""


def test_agent_runs_without_writable_executable_memory() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, cwd=REPO, timeout=120, check=False
    )
    if done.stdout.startswith("unsupported"):
        pytest.skip(f"kernel has no PR_SET_MDWE (Linux ≥ 6.3 needed): {done.stdout.strip()}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "ok", done.stdout + done.stderr
