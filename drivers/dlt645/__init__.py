"""DL/T 645-2007 and -1997 electricity meters: pure framing and codec, data-identifier table, meter driver.

Other packages import only from here.
"""

from drivers.dlt645.codec import (
    ERROR_BITS,
    MeterErrorReply,
    describe_error,
    parse_address_reply,
    parse_read_reply,
    read_address_request,
    read_request,
)
from drivers.dlt645.frame import (
    BROADCAST,
    WILDCARD,
    Frame,
    decode_frame,
    encode_frame,
    find_frame,
    reply_length,
)
from drivers.dlt645.identifiers import ITEMS, ITEMS_1997, ITEMS_2007, DataItem, Version, decode_bcd, encode_bcd, lookup
from drivers.dlt645.meter import Dlt645Meter, MeterParams, ProbeHit, probe_dlt645, read_address
from drivers.result import ReadResult

__all__ = [
    "BROADCAST",
    "ERROR_BITS",
    "ITEMS",
    "ITEMS_1997",
    "ITEMS_2007",
    "WILDCARD",
    "DataItem",
    "Dlt645Meter",
    "Frame",
    "MeterErrorReply",
    "MeterParams",
    "ProbeHit",
    "ReadResult",
    "Version",
    "decode_bcd",
    "decode_frame",
    "describe_error",
    "encode_bcd",
    "encode_frame",
    "find_frame",
    "lookup",
    "parse_address_reply",
    "parse_read_reply",
    "probe_dlt645",
    "read_address",
    "read_address_request",
    "read_request",
    "reply_length",
]
