"""Site configuration: how long `load_config` takes on the demo site (what `das run` and SIGHUP reload pay),
and the line finder on a large generated file (many outlets), so a big site's error messages stay cheap."""

from __future__ import annotations

import time
from pathlib import Path

from agent.config import load_config
from agent.config.locate import key_lines
from agent.config.sample import sample_text

DEMO = Path(__file__).resolve().parents[1] / "agent" / "config" / "demo_site.toml"


def _rate(fn, seconds: float = 1.0) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n, (time.perf_counter() - start) / n


def main() -> None:
    load_config(DEMO, environ={})  # warm the profile cache, as a running agent has it
    n, each = _rate(lambda: load_config(DEMO, environ={}))
    print(
        f"load_config(demo_site.toml, {len(DEMO.read_text().splitlines())} lines): {each * 1000:.1f} ms each ({n} runs)"
    )
    n, each = _rate(sample_text)
    print(f"sample_text(): {each * 1000:.1f} ms each ({n} runs)")
    text = "\n".join(
        f'[[outlets.O{i}.factors]]\ncode = "a21026"\npoint = "cems.so2"\nlimit = 35.0\n' for i in range(5000)
    )
    n, each = _rate(lambda: key_lines(text))
    print(f"key_lines on {len(text.splitlines())} lines: {each * 1000:.1f} ms each ({n} runs)")
