"""Read-only serial-text checks that run on a real DCON module (I-7017 / ADAM ASCII) when HIL_SERIALTEXT_PORT
names its port, else on a simulated one on a pty: the same test body either way (hil/README.md)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.link import LinkRegistry
from drivers.profiles import load_builtin
from drivers.profiles.config import DeviceConfig, DevicesConfig, SerialLinkConfig
from drivers.reader import build_devices
from hil.sim import SocatPair
from hil.sim.targets import real_serialtext, serialtext_target
from hil.sim_meters import TextAnalyzerSim

pytestmark = pytest.mark.hil

PROFILE = "ai8_dcon_i7017"


@pytest.fixture(autouse=True)
def _socat(require_tool: Callable[[str], str]) -> None:
    if not real_serialtext():
        require_tool("socat")


async def test_dcon_module_answers_every_channel() -> None:
    await check_every_channel()


async def check_every_channel() -> None:
    """Each channel is a value (4-20 mA scaled to the range) or, for an open loop, flag D without a value
    (NAMUR NE 43); no channel is B, which would mean the module did not answer."""
    async with serialtext_target() as target:
        config = DevicesConfig(
            links={
                "bus": SerialLinkConfig(
                    type="serial", port=target.params.port, baud=target.params.baudrate, parity=target.params.parity
                )
            },
            devices={"ai": DeviceConfig(profile=PROFILE, link="bus", address=target.address, timeout=2.0)},
        )
        registry = LinkRegistry()
        try:
            device = build_devices(config, {"ai": load_builtin(PROFILE)}, registry)["ai"]
            readings = await device.read()
        finally:
            await registry.close()
    assert len(readings) == 8
    for r in readings:
        assert r.flag != "B", f"{r.point}: {r.note}"
        if r.value is None:
            assert r.flag == "D", f"{r.point}: no value must come with a fault flag ({r.flag})"
        else:
            assert math.isfinite(r.value)
    if target.sim is not None:  # the simulator sits at 10.0, 10.5, … mA: (mA − 4) / 16 × 100 %
        expected = [(10.0 + 0.5 * k - 4) / 16 * 100 for k in range(8)]
        assert [r.value for r in readings] == pytest.approx(expected, rel=0.05)
        assert all(r.flag == "N" for r in readings)


async def test_the_variables_point_the_same_test_at_a_real_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, require_tool: Callable[[str], str]
) -> None:
    """HIL_SERIALTEXT_* name a port (a pty with a module at address 03, 19200 baud, standing in for hardware)."""
    require_tool("socat")
    a, b = tmp_path / "ttyUSB_ai", tmp_path / "module"
    sim = TextAnalyzerSim(str(b), address="03", set_points=(12.0,) * 8, baudrate=19200, bits_per_char=10)
    async with SocatPair(a, b), sim:
        monkeypatch.setenv("HIL_SERIALTEXT_PORT", str(a))
        monkeypatch.setenv("HIL_SERIALTEXT_ADDRESS", "03")
        monkeypatch.setenv("HIL_SERIALTEXT_BAUD", "19200")
        async with serialtext_target() as target:
            assert target.sim is None and target.address == "03" and target.params.line == "19200 8N1"
        await check_every_channel()
        assert sim.replies >= 1  # the module behind the named port answered, not a simulator of the target's own
