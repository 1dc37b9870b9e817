"""JSON <-> protobuf as BWS clients expect it (contract section 3): camelCase
names, defaults written, enums by name, bytes base64, RFC 3339 timestamps, and
64-bit integers as JSON numbers (protobuf's own mapping writes them as strings).
Input accepts camelCase and proto names, numbers and numeric strings."""
from __future__ import annotations

import json
import re
from typing import Any, Mapping

from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from bws_proto.transcoding.routes import Route

_INT64_TYPES = {FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT64, FieldDescriptor.TYPE_SINT64,
                FieldDescriptor.TYPE_FIXED64, FieldDescriptor.TYPE_SFIXED64}
_TRUE, _FALSE = {"true", "1", "True"}, {"false", "0", "False"}


class BadRequest(ValueError):
    """The HTTP request cannot be turned into the method's request message."""


MAX_MESSAGE_CHARS = 300  # of a refusal's text: protobuf's and json's messages quote the request
_LONG_QUOTE = re.compile(r"""(['"])[^'"]{32,}\1""")  # a value of the request (an image's base64) quoted in it


def _quoted_at_most(text: str) -> str:
    """The text without the long values it quotes, at most MAX_MESSAGE_CHARS long."""
    text = _LONG_QUOTE.sub(r"\1...\1", text)
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + "... (shortened)"


def message_class(descriptor: Descriptor) -> type[Message]:
    return message_factory.GetMessageClass(descriptor)


def to_dict(message: Message) -> dict:
    data = json_format.MessageToDict(message, always_print_fields_with_no_presence=True)
    _int64_as_numbers(message.DESCRIPTOR, data)
    return data


def to_json(message: Message) -> bytes:
    return json.dumps(to_dict(message), separators=(",", ":")).encode()


def _int64_as_numbers(descriptor: Descriptor, data: dict) -> None:
    for field in descriptor.fields:
        value = data.get(field.json_name)
        if value is None:
            continue
        if field.type in _INT64_TYPES:
            data[field.json_name] = [int(v) for v in value] if isinstance(value, list) else int(value)
        elif field.type == FieldDescriptor.TYPE_MESSAGE and not field.message_type.full_name.startswith("google."):
            if field.message_type.GetOptions().map_entry:
                value_field = field.message_type.fields_by_name["value"]
                if value_field.type in _INT64_TYPES:
                    data[field.json_name] = {k: int(v) for k, v in value.items()}
                elif value_field.type == FieldDescriptor.TYPE_MESSAGE:
                    for item in value.values():
                        _int64_as_numbers(value_field.message_type, item)
            else:
                for item in value if isinstance(value, list) else [value]:
                    _int64_as_numbers(field.message_type, item)


def _field(descriptor: Descriptor, name: str) -> FieldDescriptor | None:
    return descriptor.fields_by_name.get(name) or next(
        (f for f in descriptor.fields if f.json_name == name), None)


def _set_path(document: dict, descriptor: Descriptor, path: str, value: Any, from_query: bool) -> None:
    names = path.split(".")
    for name in names[:-1]:
        field = _field(descriptor, name)
        if field is None or field.type != FieldDescriptor.TYPE_MESSAGE:
            raise BadRequest(f"unknown field {path!r}")
        document = document.setdefault(field.name, {})
        descriptor = field.message_type
    field = _field(descriptor, names[-1])
    if field is None:
        raise BadRequest(f"unknown field {path!r}")
    if from_query and field.type == FieldDescriptor.TYPE_MESSAGE:
        raise BadRequest(f"field {path!r} cannot be set from the query string")
    values = [_query_scalar(field, v, path) for v in value] if from_query else value
    if from_query and not field.is_repeated:
        if len(values) > 1:
            raise BadRequest(f"field {path!r} takes one value, got {len(values)}")
        values = values[0]
    document[field.name] = values


def _query_scalar(field: FieldDescriptor, text: str, path: str) -> Any:
    if field.type == FieldDescriptor.TYPE_BOOL:
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise BadRequest(f"field {path!r} must be true or false, got {text!r}")
    return text


# Of a JSON body's commas, braces and brackets: no BWS request has more than a few hundred (at most 20 images, 64
# tags of at most 128 characters), while 50 MB of "{}," are 17 million objects, built and converted in Python, one
# by one: 6 MB held the event loop, every call of every client, for 7 s and grew the process by 200 MB.
MAX_JSON_SEPARATORS = 20_000


def within_value_limit(body: bytes) -> None:
    """Counted at C speed, before a value is built."""
    separators = 0
    for mark in (b",", b"{", b"["):
        separators += body.count(mark)
        if separators > MAX_JSON_SEPARATORS:
            raise BadRequest(f"the JSON body has more than {MAX_JSON_SEPARATORS} values: no BWS request has as many")


def request_from_http(route: Route, path_values: Mapping[str, str], query: Mapping[str, list[str]],
                      body: bytes) -> Message:
    descriptor = route.method.input_type
    document: dict = {}
    if route.body:
        within_value_limit(body)
        try:
            parsed = json.loads(body) if body.strip() else ({} if route.body == "*" else None)
        except RecursionError:
            raise BadRequest("malformed JSON body: nested too deeply") from None
        except ValueError as exc:  # bad syntax or UTF-8, and integers of more digits than Python converts
            raise BadRequest(f"malformed JSON body: {_quoted_at_most(str(exc))}") from None
        if route.body == "*":
            if not isinstance(parsed, dict):
                raise BadRequest("the JSON body must be an object")
            document = parsed
        elif parsed is not None:
            field = _field(descriptor, route.body)
            document[field.name] = parsed
    if query and route.body == "*":
        raise BadRequest("query parameters are not accepted here: send every field in the JSON body")
    for path, values in query.items():
        _set_path(document, descriptor, path, values, from_query=True)
    for path, value in path_values.items():
        _set_path(document, descriptor, path, value, from_query=False)
    message = message_class(descriptor)()
    try:
        json_format.ParseDict(document, message, ignore_unknown_fields=False)
    except json_format.ParseError as exc:  # its text quotes the value it refused: an image, megabytes of it
        raise BadRequest(_quoted_at_most(parse_error_text(exc))) from None
    except RecursionError:
        raise BadRequest("the JSON body is nested too deeply") from None
    return message


_REPEATED_PREFIX = re.compile(r"(Failed to parse \S+ field: )(?:\1)+")


def parse_error_text(exc: Exception) -> str:
    """protobuf's ParseError repeats the field's prefix once per nesting level and ends in "..": one of each."""
    return _REPEATED_PREFIX.sub(r"\1", str(exc)).rstrip(".")
