"""A serial text analyzer read through the shared link owner (`drivers.link.ByteLink`)."""

from __future__ import annotations

from drivers.errors import DriverError
from drivers.link import ByteLink
from drivers.result import ReadResult
from drivers.serialtext.parser import build_request, parse_reply, reply_length
from drivers.serialtext.spec import TextSpec


class SerialTextDevice:
    """Sends the spec's request (or listens, in stream mode) and returns one `ReadResult` per field."""

    def __init__(self, link: ByteLink, spec: TextSpec, *, device: str, timeout: float | None = None) -> None:
        self.link = link
        self.spec = spec
        self.device = device
        self.timeout = timeout
        self._request = build_request(spec) if spec.mode == "request" else b""
        self._reply_length = reply_length(spec)
        self._units = {f.name: f.unit for f in spec.fields}

    async def read(self) -> list[ReadResult]:
        raw = b""
        try:
            raw = await self.link.exchange(self.device, self._request, self._reply_length, timeout=self.timeout)
            values = parse_reply(self.spec, raw)
        except DriverError as err:
            return [ReadResult(f.name, None, f.unit, raw, err) for f in self.spec.fields]
        return [ReadResult(v.name, v.value, self._units[v.name], raw, v.error) for v in values]
