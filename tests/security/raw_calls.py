"""Calls made by hand, as an attacker makes them: raw HTTP bytes on a socket, and gRPC calls whose message
never comes, or videos sent to be refused."""
from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit

import grpc

from bws_proto import bioidwebservice_pb2, bioidwebservice_pb2_grpc


def raw_answer(url: str, data: bytes, timeout: float = 30) -> bytes:
    """What the server answers to `data`, up to when it closes the connection (or `timeout` passes)."""
    address = urlsplit(url)
    answer = b""
    with socket.create_connection((address.hostname, address.port), timeout=timeout) as connection:
        connection.sendall(data)
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except (TimeoutError, ConnectionResetError):
            pass
    return answer


class SilentCalls:
    """Streaming calls of `method` that send no message (a unary method's message that never comes): each
    holds what the server reserves for it meanwhile. `end` lets them go."""

    def __init__(self, channel: grpc.Channel, method: str, serializer, deserializer, metadata=(), count: int = 1,
                 streaming_response: bool = False, timeout: float = 60) -> None:
        self.stop = threading.Event()
        make = channel.stream_stream if streaming_response else channel.stream_unary
        call = make(method, request_serializer=serializer, response_deserializer=deserializer)
        self.calls = [call(self._nothing(), metadata=metadata, timeout=timeout) if streaming_response
                      else call.future(self._nothing(), metadata=metadata, timeout=timeout) for _ in range(count)]

    def _nothing(self):
        self.stop.wait(60)
        return
        yield  # a generator that sends nothing

    def refused(self) -> list[str]:
        return [f.exception().code().name for f in self.calls if f.done() and f.exception()]

    def end(self) -> None:
        self.stop.set()
        for call in self.calls:
            call.cancel()


def refused_video(service, clip: bytes) -> grpc.RpcError:
    """The error VideoLivenessDetection answers `clip` with (it must refuse it)."""
    with service.channel() as channel:
        stub = bioidwebservice_pb2_grpc.BioIDWebServiceStub(channel)
        try:
            stub.VideoLivenessDetection(bioidwebservice_pb2.VideoLivenessDetectionRequest(video=clip),
                                        metadata=service.clients["tenant-a"].metadata(), timeout=120)
        except grpc.RpcError as error:
            return error
    raise AssertionError("the video was accepted")
