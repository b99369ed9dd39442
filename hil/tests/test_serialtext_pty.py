"""Serial text analyzers over a real pty pair (socat) through the link owner: request/response and streaming,
checksum on and off; a bad checksum is an error, never a value."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from drivers.errors import DeviceTimeout, ProtocolError
from drivers.link import DeviceTiming, LinkOwner, SerialParams
from drivers.serialtext import ChecksumSpec, DeviceRefused, FieldSpec, SerialTextDevice, TextSpec
from hil.sim import SocatPair
from hil.sim_meters import TextAnalyzerSim

pytestmark = pytest.mark.hil

TIMING = DeviceTiming(timeout=1.5, retries=0, failures_before_backoff=100)
SET_POINTS = (8.074, 5.794, 7.228)


def dcon_spec(checksum: bool) -> TextSpec:
    return TextSpec(
        request="#01\\r",
        start=">",
        pattern=r"^>(?P<ch0>[+-]\d+\.\d+)(?P<ch1>[+-]\d+\.\d+)(?P<ch2>[+-]\d+\.\d+)",
        fields=tuple(FieldSpec(name=f"ch{k}", group=f"ch{k}", unit="mA") for k in range(3)),
        checksum=ChecksumSpec(kind="sum8", request=True) if checksum else ChecksumSpec(),
        error_pattern=r"^\?",
    )


def nmea_spec(checksum: bool) -> TextSpec:
    return TextSpec(
        mode="stream",
        terminator="\\r\\n",
        start="$",
        separator=",",
        fields=(
            FieldSpec(name="so2", index=1, unit="mg/m3"),
            FieldSpec(name="nox", index=2, unit="mg/m3"),
            FieldSpec(name="o2", index=3, unit="%"),
        ),
        checksum=ChecksumSpec(kind="xor8", start=1, gap=1) if checksum else ChecksumSpec(),
    )


@asynccontextmanager
async def analyzer(tmp_path: Path, **sim_kwargs: object) -> AsyncIterator[tuple[LinkOwner, TextAnalyzerSim]]:
    a, b = tmp_path / "das", tmp_path / "analyzer"
    async with SocatPair(a, b):
        sim = TextAnalyzerSim(str(b), baudrate=9600, bits_per_char=10, set_points=SET_POINTS, **sim_kwargs)  # type: ignore[arg-type]
        async with sim:
            link = LinkOwner(SerialParams(port=str(a), baudrate=9600), default_timing=TIMING)
            try:
                yield link, sim
            finally:
                await link.close()


@pytest.fixture
def socat(require_tool: Callable[[str], str]) -> str:
    return require_tool("socat")


@pytest.mark.parametrize("checksum", [False, True])
async def test_request_response_analyzer(socat: str, tmp_path: Path, checksum: bool) -> None:
    async with analyzer(tmp_path, shape="dcon", checksum=checksum) as (link, sim):
        device = SerialTextDevice(link, dcon_spec(checksum), device="ai-1")
        results = await device.read()
        assert [r.name for r in results] == ["ch0", "ch1", "ch2"]
        for r, want in zip(results, SET_POINTS, strict=True):
            assert r.ok and r.unit == "mA" and r.value == pytest.approx(want, rel=0.05)
            assert r.raw.startswith(b">") and r.raw.endswith(b"\r")
        assert sim.requests == 1


async def test_request_response_faults(socat: str, tmp_path: Path) -> None:
    async with analyzer(tmp_path, shape="dcon", checksum=True) as (link, sim):
        device = SerialTextDevice(link, dcon_spec(True), device="ai-1", timeout=0.6)
        sim.faults.bad_checksum = True
        bad = await device.read()
        assert all(r.value is None and isinstance(r.error, ProtocolError) for r in bad)
        assert "checksum" in str(bad[0].error)
        sim.faults.bad_checksum = False
        sim.faults.error_reply = True
        refused = await device.read()
        assert all(isinstance(r.error, DeviceRefused) for r in refused)
        sim.faults.error_reply = False
        sim.faults.silent = True
        silent = await device.read()
        assert all(isinstance(r.error, DeviceTimeout) for r in silent)
        sim.faults.silent = False
        sim.faults.garbage = True
        garbage = await device.read()
        assert all(r.value is None and isinstance(r.error, ProtocolError | DeviceTimeout) for r in garbage)
        sim.faults.garbage = False
        sim.faults.stuck = True
        first = [r.value for r in await device.read()]
        assert first == [r.value for r in await device.read()]
        assert all(v is not None for v in first)


async def test_analyzer_without_checksum_refuses_a_checksummed_request(socat: str, tmp_path: Path) -> None:
    """A spec with a checksum against a device without one: the device refuses (`?01`, which lacks the checksum
    the spec expects), and the driver reports an error, never values."""
    async with analyzer(tmp_path, shape="dcon", checksum=False) as (link, _):
        results = await SerialTextDevice(link, dcon_spec(True), device="ai-1").read()
        assert all(r.value is None and isinstance(r.error, ProtocolError) for r in results), results
        assert results[0].raw == b"?01\r"


@pytest.mark.parametrize("checksum", [False, True])
async def test_streaming_analyzer(socat: str, tmp_path: Path, checksum: bool) -> None:
    async with analyzer(tmp_path, shape="nmea", checksum=checksum, period=0.1) as (link, sim):
        device = SerialTextDevice(link, nmea_spec(checksum), device="gas-1")
        for _ in range(2):
            results = await device.read()
            assert [r.name for r in results] == ["so2", "nox", "o2"]
            for r, want in zip(results, SET_POINTS, strict=True):
                assert r.ok, r.error
                assert r.value == pytest.approx(want, rel=0.05)
        assert sim.lines_sent >= 2


async def test_streaming_bad_checksum_is_an_error_not_a_value(socat: str, tmp_path: Path) -> None:
    async with analyzer(tmp_path, shape="nmea", checksum=True, period=0.1) as (link, sim):
        device = SerialTextDevice(link, nmea_spec(True), device="gas-1", timeout=1.0)
        assert all(r.ok for r in await device.read())
        sim.faults.bad_checksum = True
        bad = await device.read()
        # A line from just before the switch may still be the newest; the next read sees only corrupt lines.
        bad = bad if not bad[0].ok else await device.read()
        assert all(r.value is None and isinstance(r.error, ProtocolError) for r in bad)
        assert "xor8 checksum" in str(bad[0].error)
        sim.faults.bad_checksum = False
        sim.faults.silent = True
        silent = await device.read()
        silent = silent if not silent[0].ok else await device.read()
        assert all(isinstance(r.error, DeviceTimeout) for r in silent)
