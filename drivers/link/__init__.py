"""Physical links: one owner per serial port or host:port, shared by every protocol on it.

Use `LinkRegistry` to get the owner of an endpoint, `owner.set_device(key, DeviceTiming(...))` once per device,
then `await owner.exchange(key, request, reply_length)` (the `ByteLink` contract).
"""

from drivers.link.params import DeviceTiming, SerialParams, TcpParams, char_time, modbus_t35
from drivers.link.protocol import ByteLink, ReplyLength

__all__ = ["ByteLink", "DeviceTiming", "ReplyLength", "SerialParams", "TcpParams", "char_time", "modbus_t35"]
