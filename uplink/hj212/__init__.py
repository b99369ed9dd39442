"""HJ 212 codec (2017 and 2025): framing, CRC, header, CP, SM4, splitting, stream decoding, replies.

Pure: no sockets, no clock, no logging (style.md §1, after h11). Sessions own the I/O and the timers.
Other packages import only `uplink.hj212`; the private modules each cite the clause they implement.
"""

from ._codes import CN, CN_2017, CN_2025, CN_2025_ONLY, CN_REMOVED_2025, REPLY_CNS, ST, ExeRtn, QnRtn
from ._cp import Cp
from ._crc import crc16, crc16_modbus
from ._dialect import Dialect, cn_is_encrypted
from ._errors import (
    CipherError,
    CnError,
    CpError,
    CrcError,
    FlagError,
    FrameError,
    HeaderError,
    Hj212Error,
    LengthError,
    MnError,
    ModbusCrcError,
    PwError,
    QnError,
    SplitError,
    StError,
)
from ._frame import Frame, make_flag
from ._framing import Decoded, decode, encode
from ._replies import new_qn, reply_9011, reply_9012, reply_9013, reply_9014
from ._split import reassemble, split
from ._stream import StreamDecoder
from ._validate import validate

__all__ = [
    "CN",
    "CN_2017",
    "CN_2025",
    "CN_2025_ONLY",
    "CN_REMOVED_2025",
    "REPLY_CNS",
    "ST",
    "CipherError",
    "CnError",
    "Cp",
    "CpError",
    "CrcError",
    "Decoded",
    "Dialect",
    "ExeRtn",
    "FlagError",
    "Frame",
    "FrameError",
    "HeaderError",
    "Hj212Error",
    "LengthError",
    "MnError",
    "ModbusCrcError",
    "PwError",
    "QnError",
    "QnRtn",
    "SplitError",
    "StError",
    "StreamDecoder",
    "cn_is_encrypted",
    "crc16",
    "crc16_modbus",
    "decode",
    "encode",
    "make_flag",
    "new_qn",
    "reassemble",
    "reply_9011",
    "reply_9012",
    "reply_9013",
    "reply_9014",
    "split",
    "validate",
]
