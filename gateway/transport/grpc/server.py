"""Assembles the grpc.aio server: interceptors, BWS services, health, reflection."""
from __future__ import annotations

import errno
import socket

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2, reflection_pb2_grpc

from bws_proto import bioidwebservice_pb2, facerecognition_pb2
from bws_proto import bioidwebservice_pb2_grpc as bws_grpc
from bws_proto import facerecognition_pb2_grpc as fr_grpc
from gateway.infra.auth import Authenticator
from gateway.infra.budget import ByteBudget
from gateway.settings import MAX_MESSAGE_BYTES
from gateway.core.liveness import Liveness
from gateway.core.recognition import FaceRecognition
from gateway.transport.grpc.bioid_web_service import BioIDWebServiceServicer
from gateway.transport.grpc.face_recognition import FaceRecognitionServicer
from gateway.transport.grpc.public import PublicInterceptor
from gateway.transport.grpc.interceptors import (RECEIVE_WAIT_SECONDS, AuthInterceptor, ErrorInterceptor,
                                                  MetadataInterceptor)

BWS_SERVICES = (
    facerecognition_pb2.DESCRIPTOR.services_by_name["FaceRecognition"].full_name,
    bioidwebservice_pb2.DESCRIPTOR.services_by_name["BioIDWebService"].full_name,
)
REFLECTION_V1 = "grpc.reflection.v1.ServerReflection"
# The health names BioID's clients ask (BWSTools `bws healthcheck`): "liveness" is SERVING while the process runs,
# "readiness" follows what /readyz follows, as do "" and each BWS service name.
LIVENESS, READINESS = "liveness", "readiness"


def build_server(recognition: FaceRecognition, liveness: Liveness, authenticator: Authenticator, version: str,
                 health_servicer: health.aio.HealthServicer, on_call=lambda *_: None,
                 budget: ByteBudget | None = None, loopback_secret: str | None = None,
                 budget_wait: float = RECEIVE_WAIT_SECONDS, reserve: int = MAX_MESSAGE_BYTES) -> grpc.aio.Server:
    """With a budget, each call's message is held in it (the REST transcoder's calls, which carry the loopback
    secret, are held on the HTTP side)."""
    auth = AuthInterceptor(authenticator, budget, reserve, loopback_secret, budget_wait)
    public = [PublicInterceptor(budget, budget_wait)] if budget is not None else []
    server = grpc.aio.server(
        interceptors=[MetadataInterceptor(version, on_call), ErrorInterceptor(), auth, *public],
        options=[("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                 ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                 ("grpc.so_reuseport", 0),  # a port already in use is an error, not a shared listener
                 # Without BDP probing a stream's window stays small until its message is read: calls waiting for
                 # room in the byte budget cannot make grpc buffer megabytes each (30 waiting calls of 60 MB:
                 # +1,130 MB with probing, +450 MB without). A message being read still opens its window whole.
                 ("grpc.http2.bdp_probe", 0)],
    )
    fr_grpc.add_FaceRecognitionServicer_to_server(FaceRecognitionServicer(recognition), server)
    bws_grpc.add_BioIDWebServiceServicer_to_server(BioIDWebServiceServicer(liveness), server)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = (*BWS_SERVICES, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
             reflection.SERVICE_NAME, REFLECTION_V1)
    servicer = reflection.aio.ReflectionServicer(names)
    add_reflection(servicer, server)
    return server


def add_reflection(servicer, server: grpc.aio.Server) -> None:
    """Serves reflection as v1alpha and, with the same messages (their wire
    format is identical), as v1, which newer grpcurl versions ask first."""
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(servicer, server)
    handler = grpc.stream_stream_rpc_method_handler(
        servicer.ServerReflectionInfo,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(REFLECTION_V1,
                                                                         {"ServerReflectionInfo": handler}),))


async def set_alive(health_servicer: health.aio.HealthServicer) -> None:
    await health_servicer.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)


async def set_serving(health_servicer: health.aio.HealthServicer, serving: bool) -> None:
    status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
    for name in ("", READINESS, *BWS_SERVICES):
        await health_servicer.set(name, status)


def port_free(host: str, port: int) -> bool:
    """Whether a listener could bind host:port now (port 0 always can): asked before grpc tries, whose refusal
    prints a raw log line of its own."""
    if port == 0:
        return True
    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        return True  # grpc reports the unresolvable host itself
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as grpc: a port in TIME_WAIT is free
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                    return False
    return True
