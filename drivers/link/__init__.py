"""Physical links: one owner per serial port or host:port, shared by every protocol on it.

registry = LinkRegistry(clock)
link = registry.get(SerialParams(port="/dev/ttyUSB0", baudrate=9600, parity="E"))
link.set_device("meter-1", DeviceTiming(timeout=0.5, retries=1))
reply = await link.exchange("meter-1", request, reply_length)   # the ByteLink contract
"""

from drivers.link.owner import DeviceHealth, LinkOwner
from drivers.link.params import DeviceTiming, SerialParams, TcpParams, char_time, modbus_t35
from drivers.link.protocol import ByteLink, ReplyLength
from drivers.link.registry import LinkRegistry

__all__ = [
    "ByteLink",
    "DeviceHealth",
    "DeviceTiming",
    "LinkOwner",
    "LinkRegistry",
    "ReplyLength",
    "SerialParams",
    "TcpParams",
    "char_time",
    "modbus_t35",
]
