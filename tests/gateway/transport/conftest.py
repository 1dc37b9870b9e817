"""The transports in process, over a service whose logic is a fake: the real gRPC server and interceptors, the
real REST transcoder over a real gRPC channel, the real HTTP app (every route and middleware). The service's
answer is whatever error the test sets."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import grpc
import pytest
from aiohttp.test_utils import TestClient, TestServer
from grpc_health.v1 import health

from bws_proto import bioidwebservice_pb2, facerecognition_pb2
from bws_proto.transcoding.routes import routes_of
from gateway.core.tenancy import Client
from gateway.infra.auth import Authenticator, make_token
from gateway.infra.budget import ByteBudget
from gateway.infra.clients import ClientRegistry
from gateway.infra.metrics import Metrics
from gateway.settings import MAX_MESSAGE_BYTES, Settings
from gateway.transport.grpc.server import build_server
from gateway.transport.http_app import build_http_app
from gateway.transport.rest.mux import Transcoder
from templates_store import PartitionId

CLIENT = Client("walker", secrets.token_bytes(32), PartitionId("walk", 1))


class FailingService:
    """Every call of the service logic (recognition, liveness, the token flow's application check) raises
    `error`."""

    def __init__(self) -> None:
        self.error: BaseException = RuntimeError("no error set")

    def __getattr__(self, name: str):
        def fail(*_args, **_kwargs):
            raise self.error

        async def fail_async(*_args, **_kwargs):
            raise self.error
        return fail if name in ("app", "token", "bearer") else fail_async


class CountingAuthenticator(Authenticator):
    def __init__(self, registry: ClientRegistry) -> None:
        super().__init__(registry)
        self.count = 0

    def authenticate(self, authorization):
        self.count += 1
        return super().authenticate(authorization)


@dataclass
class Transports:
    service: FailingService
    authenticator: CountingAuthenticator
    channel: grpc.aio.Channel
    http: TestClient
    calls: list = field(default_factory=list)

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {make_token(CLIENT.client_id, CLIENT.key)}"),)

    def headers(self) -> dict[str, str]:
        return dict(self.metadata())


@pytest.fixture(scope="module")
async def transports():
    service = FailingService()
    authenticator = CountingAuthenticator(ClientRegistry([CLIENT]))
    budget, secret = ByteBudget(4 * MAX_MESSAGE_BYTES, MAX_MESSAGE_BYTES), secrets.token_urlsafe(16)
    calls: list = []
    server = build_server(service, service, authenticator, "test", health.aio.HealthServicer(),
                          lambda *call: calls.append(call), budget, secret)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    transcoder = Transcoder(routes_of([facerecognition_pb2.DESCRIPTOR, bioidwebservice_pb2.DESCRIPTOR]), channel,
                            authenticator, budget, secret)

    async def ready():
        return {"store": True}
    app = build_http_app(Settings(), transcoder, ready, {}, service, budget, lambda *call: calls.append(call),
                         Metrics())
    http = TestClient(TestServer(app))
    await http.start_server()
    yield Transports(service, authenticator, channel, http, calls)
    await http.close()
    await channel.close()
    await server.stop(None)
