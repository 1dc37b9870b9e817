"""One call, two transports: gRPC stubs, or HTTP/JSON built from the same
google.api.http annotations the server transcodes (so the CLI needs no route
table of its own)."""
from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Callable
from urllib.parse import quote, urlencode, urlsplit

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message

from bws_proto import bioidwebservice_pb2, facerecognition_pb2
from bws_proto.transcoding import marshal
from bws_proto.transcoding.routes import Route, routes_of

SERVICES = {"FaceRecognition": facerecognition_pb2.DESCRIPTOR.services_by_name["FaceRecognition"],
            "BioIDWebService": bioidwebservice_pb2.DESCRIPTOR.services_by_name["BioIDWebService"]}
ROUTES = {route.method.full_name: route for route in
          routes_of([facerecognition_pb2.DESCRIPTOR, bioidwebservice_pb2.DESCRIPTOR])}
Progress = Callable[[int, int], None]  # (bytes just written to the socket, body size)


class CallFailed(Exception):
    def __init__(self, code: str, message: str, headers: dict[str, str]) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.headers = code, message, headers


@dataclass
class Reply:
    message: Message
    headers: dict[str, str]


def method_descriptor(service: str, method: str):
    return SERVICES[service].methods_by_name[method]


class GrpcTransport:
    def __init__(self, target: str) -> None:
        self.channel = grpc.insecure_channel(target, options=[("grpc.max_send_message_length", 64 << 20),
                                                              ("grpc.max_receive_message_length", 64 << 20)])

    def call(self, service: str, method: str, request: Message, metadata: list[tuple[str, str]],
             deadline: float, progress: Progress | None = None) -> Reply:
        descriptor = method_descriptor(service, method)
        rpc = self.channel.unary_unary(f"/{SERVICES[service].full_name}/{method}",
                                       request_serializer=lambda m: m.SerializeToString(),
                                       response_deserializer=marshal.message_class(descriptor.output_type).FromString)
        try:
            response, call = rpc.with_call(request, metadata=metadata, timeout=deadline)
        except grpc.RpcError as error:
            headers = dict(error.initial_metadata() or ()) | dict(error.trailing_metadata() or ())
            raise CallFailed(error.code().name, error.details() or "", headers) from None
        return Reply(response, dict(call.initial_metadata()) | dict(call.trailing_metadata()))


def http_request_of(route: Route, request: Message) -> tuple[str, bytes | None]:
    """The path (with query) and body that carry `request` on `route`."""
    data = marshal.to_dict(request)
    path = route.template
    for variable in route.variables:
        field = request.DESCRIPTOR.fields_by_name.get(variable)
        key = field.json_name if field else variable
        path = path.replace("{" + variable + "}", quote(str(data.pop(key, ""))), 1)
    body = None
    if route.body == "*":
        body = json.dumps(data).encode()
        data = {}
    elif route.body:
        key = request.DESCRIPTOR.fields_by_name[route.body].json_name
        body = json.dumps(data.pop(key)).encode()
    query = [(k, v) for k, value in data.items() if not isinstance(value, dict)
             for v in (value if isinstance(value, list) else [value])
             if not isinstance(v, dict) and v not in ("", 0, False)]
    query = [(k, str(v).lower() if isinstance(v, bool) else v) for k, v in query]
    return path + (f"?{urlencode(query)}" if query else ""), body


class RestTransport:
    def __init__(self, base_url: str) -> None:
        self.url = urlsplit(base_url if "://" in base_url else f"http://{base_url}")

    def call(self, service: str, method: str, request: Message, metadata: list[tuple[str, str]],
             deadline: float, progress: Progress | None = None) -> Reply:
        descriptor = method_descriptor(service, method)
        route = ROUTES[descriptor.full_name]
        path, body = http_request_of(route, request)
        headers = {"Content-Type": "application/json", **{k.title(): v for k, v in metadata}}
        connection_class = http.client.HTTPSConnection if self.url.scheme == "https" else http.client.HTTPConnection
        connection = connection_class(self.url.hostname, self.url.port, timeout=deadline)
        try:
            connection.putrequest(route.http_method, path)
            for key, value in headers.items():
                connection.putheader(key, value)
            connection.putheader("Content-Length", str(len(body or b"")))
            connection.endheaders()
            total = len(body or b"")
            for start in range(0, total, 256 * 1024):
                chunk = body[start:start + 256 * 1024]
                connection.send(chunk)  # returns when the socket took the chunk
                if progress:
                    progress(len(chunk), total)
            response = connection.getresponse()
            payload = response.read()
            reply_headers = {k.lower(): v for k, v in response.getheaders()}
        finally:
            connection.close()
        if response.status != 200:
            try:
                error = json.loads(payload)
                raise CallFailed(f"HTTP {response.status}", error.get("message", ""), reply_headers)
            except (json.JSONDecodeError, AttributeError):
                raise CallFailed(f"HTTP {response.status}", payload[:200].decode(errors="replace"),
                                 reply_headers) from None
        message = marshal.message_class(descriptor.output_type)()
        json_format.Parse(payload, message, ignore_unknown_fields=True)
        return Reply(message, reply_headers)
