"""A request message's wire bytes, walked before protobuf builds the message: a message of 64 MB can hold 32 million
empty submessages or strings (two bytes each), which the parser makes into objects of 40 bytes and more each (8 MB
of empty images grew the process by 200 MB). No BWS request needs more than about 20,000 fields (at most 20
images, 1,024 tags per field: 20 live images of 1,024 tags each are 20,520), so the walk stops, and the message is
refused, past MAX_FIELDS: its cost is bounded however large the message is (a bytes field is skipped whole;
25,000 fields are about 0.1 s of Python)."""
from __future__ import annotations

from google.protobuf.descriptor import Descriptor, FieldDescriptor

MAX_FIELDS = 25_000
_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5


def _varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if position >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7


def field_count_within(data: bytes, descriptor: Descriptor, limit: int = MAX_FIELDS) -> bool:
    """False when the message holds more than `limit` fields, nested messages' fields included. A malformed
    message is left to protobuf's parser to report (True)."""
    pending, count = [(0, len(data), descriptor)], 0
    try:
        while pending:
            position, end, message = pending.pop()
            while position < end:
                key, position = _varint(data, position)
                count += 1
                if count > limit:
                    return False
                wire_type = key & 7
                if wire_type == _VARINT:
                    _, position = _varint(data, position)
                elif wire_type in (_FIXED64, _FIXED32):
                    position += 8 if wire_type == _FIXED64 else 4
                elif wire_type == _LENGTH:
                    length, position = _varint(data, position)
                    field = message.fields_by_number.get(key >> 3)
                    if field is not None and field.type == FieldDescriptor.TYPE_MESSAGE:
                        pending.append((position, min(end, position + length), field.message_type))
                    position += length
                else:
                    return True
    except ValueError:
        return True
    return True
