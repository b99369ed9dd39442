"""Loads the golden files beside the tests (copied facts; tests never read ../shared at run time)."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent


def frames(name: str) -> list[bytes]:
    """Every frame line of a golden file, with the CR LF it has on the wire."""
    text = (HERE / name).read_text(encoding="utf-8")
    return [line.encode("utf-8") + b"\r\n" for line in text.splitlines() if line.startswith("##")]


def sm4_vectors() -> dict[str, bytes]:
    out = {}
    for line in (HERE / "sm4_2025.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, value = (part.strip() for part in line.partition("="))
        out[name] = value[5:].encode() if value.startswith("text:") else bytes.fromhex(value)
    return out
