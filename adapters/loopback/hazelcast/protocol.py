"""Server-side framing for the loopback Hazelcast TEST MEMBER (Open Binary Client Protocol subset).

This is part of a test stand-in for a real Hazelcast cluster, not a Hazelcast implementation.
It encodes what hazelcast-python-client 5.7.0's own decoders accept; byte-for-byte equality
with a Java member was never checked.

What is pinned from the client library (``hazelcast-python-client>=5.7,<5.8``):

- the public codec helpers ``FixSizedTypesCodec``, ``StringCodec``, ``DataCodec``,
  ``ListMultiFrameCodec``, ``EntryListCodec``, ``EntryListUUIDListIntegerCodec``, ``MapCodec``,
  ``CodecUtil``, ``AddressCodec``, ``MemberVersionCodec``, ``ErrorHolderCodec`` and the
  ``Frame``/``InboundMessage`` reader classes;
- NOT the private frame-flag constants (``_IS_FINAL_FLAG`` ...): they are defined here;
- NOT ``EndpointQualifierCodec.encode`` (5.7.0 reads ``.type`` where the class has
  ``.protocol_type``): ``encode_endpoint_qualifier`` below replaces it.
"""

import struct
import uuid

from hazelcast.core import Address
from hazelcast.core import EndpointQualifier
from hazelcast.core import MemberVersion
from hazelcast.protocol import ErrorHolder
from hazelcast.protocol.builtin import CodecUtil
from hazelcast.protocol.builtin import FixSizedTypesCodec
from hazelcast.protocol.builtin import MapCodec
from hazelcast.protocol.builtin import StringCodec
from hazelcast.protocol.client_message import Frame
from hazelcast.protocol.client_message import InboundMessage
from hazelcast.protocol.codec.custom.address_codec import AddressCodec
from hazelcast.protocol.codec.custom.error_holder_codec import ErrorHolderCodec
from hazelcast.protocol.codec.custom.member_version_codec import MemberVersionCodec

# ---- frame layout (defined here on purpose; the client keeps these private) ----------------
FRAME_HEADER = 6
"""4-byte little-endian frame length (header included) + 2 bytes of flags."""
BEGIN_FRAGMENT_FLAG = 1 << 15
END_FRAGMENT_FLAG = 1 << 14
UNFRAGMENTED = BEGIN_FRAGMENT_FLAG | END_FRAGMENT_FLAG
IS_FINAL_FLAG = 1 << 13
BEGIN_DATA_STRUCTURE_FLAG = 1 << 12
END_DATA_STRUCTURE_FLAG = 1 << 11
IS_NULL_FLAG = 1 << 10
IS_EVENT_FLAG = 1 << 9

# Offsets inside the first frame, relative to the end of the 6-byte frame header.
TYPE_OFFSET = 0
CORRELATION_OFFSET = 4
PARTITION_OFFSET = 12
REQUEST_FIELDS = 16
RESPONSE_FIELDS = 13  # type, correlation id, backup-acks byte
EVENT_FIELDS = 16  # type, correlation id, partition id

UUID_SIZE = 17  # null flag + two longs
EXCEPTION_MESSAGE_TYPE = 0
UNSUPPORTED_OPERATION = 61
PROTOCOL_PREAMBLE = b"CP2"

_LE_INT = struct.Struct("<i")
_LE_LONG = struct.Struct("<q")
_LE_UINT16 = struct.Struct("<H")
_HEADER = struct.Struct("<iH")

# Message types this member answers (request type; the response is request + 1).
AUTHENTICATION = 0x000100
ADD_CLUSTER_VIEW_LISTENER = 0x000300
MEMBERS_VIEW_EVENT = 0x000302
PARTITIONS_VIEW_EVENT = 0x000303
CREATE_PROXY = 0x000400
PING = 0x000B00
LOCAL_BACKUP_LISTENER = 0x000F00
MAP_PUT = 0x010100
MAP_GET = 0x010200
MAP_REMOVE = 0x010300
MAP_CONTAINS_KEY = 0x010600
MAP_DELETE = 0x010900
MAP_SET = 0x010F00
MAP_ADD_ENTRY_LISTENER = 0x011900
MAP_ENTRY_EVENT = 0x011902
MAP_REMOVE_ENTRY_LISTENER = 0x011A00
MAP_KEY_SET = 0x012200
MAP_GET_ALL = 0x012300
MAP_VALUES = 0x012400
MAP_ENTRY_SET = 0x012500
MAP_SIZE = 0x012A00
MAP_PUT_ALL = 0x012C00
MAP_CLEAR = 0x012D00

MESSAGE_NAMES: dict[int, str] = {
    AUTHENTICATION: "authentication",
    ADD_CLUSTER_VIEW_LISTENER: "add_cluster_view_listener",
    CREATE_PROXY: "create_proxy",
    PING: "ping",
    LOCAL_BACKUP_LISTENER: "local_backup_listener",
    MAP_PUT: "map_put",
    MAP_GET: "map_get",
    MAP_REMOVE: "map_remove",
    MAP_CONTAINS_KEY: "map_contains_key",
    MAP_DELETE: "map_delete",
    MAP_SET: "map_set",
    MAP_ADD_ENTRY_LISTENER: "map_add_entry_listener",
    MAP_REMOVE_ENTRY_LISTENER: "map_remove_entry_listener",
    MAP_KEY_SET: "map_key_set",
    MAP_GET_ALL: "map_get_all",
    MAP_VALUES: "map_values",
    MAP_ENTRY_SET: "map_entry_set",
    MAP_SIZE: "map_size",
    MAP_PUT_ALL: "map_put_all",
    MAP_CLEAR: "map_clear",
}

# Entry event types (hazelcast.proxy.base.EntryEventType values).
EVENT_ADDED = 1
EVENT_REMOVED = 2
EVENT_UPDATED = 4
EVENT_CLEAR_ALL = 64


def parse_header(header: bytes) -> tuple[int, int]:
    """Return ``(frame length incl. header, flags)`` of a 6-byte frame header."""
    return _HEADER.unpack(header)


def new_inbound(frames: list[Frame]) -> InboundMessage:
    """Chain frames (in arrival order) into the client's own ``InboundMessage`` reader."""
    msg = InboundMessage(frames[0])
    for frame in frames[1:]:
        msg.add_frame(frame)
    return msg


def message_type(frame: Frame) -> int:
    """Message type of a message's first frame."""
    return _LE_INT.unpack_from(frame.buf, TYPE_OFFSET)[0]


def correlation_id(frame: Frame) -> int:
    """Correlation id of a message's first frame."""
    return _LE_LONG.unpack_from(frame.buf, CORRELATION_OFFSET)[0]


def initial_frame(msg_type: int, corr_id: int, n_fields: int, *, event: bool = False) -> bytearray:
    """First frame of a response (fields from @13) or an event (fields from @16)."""
    fields_at = EVENT_FIELDS if event else RESPONSE_FIELDS
    size = FRAME_HEADER + fields_at + n_fields
    buf = bytearray(size)
    flags = UNFRAGMENTED | (IS_EVENT_FLAG if event else 0)
    _HEADER.pack_into(buf, 0, size, flags)
    _LE_INT.pack_into(buf, FRAME_HEADER + TYPE_OFFSET, msg_type)
    _LE_LONG.pack_into(buf, FRAME_HEADER + CORRELATION_OFFSET, corr_id)
    if event:
        _LE_INT.pack_into(buf, FRAME_HEADER + PARTITION_OFFSET, -1)
    return buf


def field_offset(n: int = 0, *, event: bool = False) -> int:
    """Byte offset (in an ``initial_frame`` buffer) of the field starting ``n`` bytes in."""
    return FRAME_HEADER + (EVENT_FIELDS if event else RESPONSE_FIELDS) + n


def finalize(buf: bytearray) -> bytes:
    """Set IS_FINAL on the last frame of an encoded message (forgetting it hangs the client)."""
    offset = 0
    last = 0
    while offset < len(buf):
        last = offset
        offset += _LE_INT.unpack_from(buf, offset)[0]
    flags = _LE_UINT16.unpack_from(buf, last + 4)[0]
    _LE_UINT16.pack_into(buf, last + 4, flags | IS_FINAL_FLAG)
    return bytes(buf)


def encode_endpoint_qualifier(buf: bytearray, qualifier: EndpointQualifier, is_final: bool = False) -> None:
    """Encode an ``EndpointQualifier`` (stand-in for the broken 5.7.0 ``EndpointQualifierCodec.encode``)."""
    begin = bytearray(FRAME_HEADER)
    _HEADER.pack_into(begin, 0, FRAME_HEADER, BEGIN_DATA_STRUCTURE_FLAG)
    buf.extend(begin)
    body = bytearray(FRAME_HEADER + 4)
    _HEADER.pack_into(body, 0, len(body), 0)
    _LE_INT.pack_into(body, FRAME_HEADER, qualifier.protocol_type)
    buf.extend(body)
    CodecUtil.encode_nullable(buf, qualifier.identifier, StringCodec.encode)
    end = bytearray(FRAME_HEADER)
    _HEADER.pack_into(end, 0, FRAME_HEADER, END_DATA_STRUCTURE_FLAG)
    buf.extend(end)


def encode_member_info(
    buf: bytearray, member_uuid: uuid.UUID, address: Address, version: MemberVersion, is_final: bool = False
) -> None:
    """Encode one data member as ``MemberInfoCodec.decode`` reads it (address map = CLIENT endpoint)."""
    begin = bytearray(FRAME_HEADER)
    _HEADER.pack_into(begin, 0, FRAME_HEADER, BEGIN_DATA_STRUCTURE_FLAG)
    buf.extend(begin)
    body = bytearray(FRAME_HEADER + UUID_SIZE + 1)
    _HEADER.pack_into(body, 0, len(body), 0)
    FixSizedTypesCodec.encode_uuid(body, FRAME_HEADER, member_uuid)
    FixSizedTypesCodec.encode_boolean(body, FRAME_HEADER + UUID_SIZE, False)  # not a lite member
    buf.extend(body)
    AddressCodec.encode(buf, address)
    MapCodec.encode(buf, {}, StringCodec.encode, StringCodec.encode)  # attributes
    MemberVersionCodec.encode(buf, version)
    client_endpoint = EndpointQualifier(1, None)  # ProtocolType.CLIENT
    MapCodec.encode(buf, {client_endpoint: address}, encode_endpoint_qualifier, AddressCodec.encode)
    end = bytearray(FRAME_HEADER)
    _HEADER.pack_into(end, 0, FRAME_HEADER, END_DATA_STRUCTURE_FLAG)
    buf.extend(end)


def error_message(corr_id: int, code: int, class_name: str, text: str) -> bytes:
    """Error response (message type 0) holding one ``ErrorHolder``; the client raises at once."""
    buf = initial_frame(EXCEPTION_MESSAGE_TYPE, corr_id, 0)
    begin = bytearray(FRAME_HEADER)
    _HEADER.pack_into(begin, 0, FRAME_HEADER, BEGIN_DATA_STRUCTURE_FLAG)
    buf.extend(begin)
    ErrorHolderCodec.encode(buf, ErrorHolder(code, class_name, text, []))
    end = bytearray(FRAME_HEADER)
    _HEADER.pack_into(end, 0, FRAME_HEADER, END_DATA_STRUCTURE_FLAG)
    buf.extend(end)
    return finalize(buf)
