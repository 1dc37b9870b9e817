"""The one error table (gateway/transport/status.py) walked through every transport: each error kind, raised by
the service logic, comes back as its gRPC code over gRPC, as its HTTP status over REST (through the transcoder
and the gRPC server) and over /extension/ (the token flow and the classic direct calls), with the retry hint where
it has one."""
from __future__ import annotations

import grpc
import pytest
from redis import exceptions as redis_errors

from bws_proto import facerecognition_pb2_grpc as fr_grpc
from bws_proto import facerecognition_pb2 as fr
from gateway.core.errors import ErrorKind, ResourceExhausted, ServiceError
from gateway.engine import EngineUnavailable
from gateway.transport.status import GRPC_CODE, HTTP_STATUS, http_status_of


def error_of(kind: ErrorKind) -> ServiceError:
    if kind is ErrorKind.RESOURCE_EXHAUSTED:
        return ResourceExhausted("too much at once", retry_after=3)
    classes = {cls.kind: cls for cls in ServiceError.__subclasses__() if cls.__module__ == "gateway.core.errors"}
    return classes[kind](f"a {kind.name} error")


def test_every_kind_has_one_code_and_one_http_status():
    assert set(GRPC_CODE) == set(ErrorKind)
    assert {kind: http_status_of(kind) for kind in ErrorKind} == {
        ErrorKind.INVALID_ARGUMENT: 400, ErrorKind.UNAUTHENTICATED: 401, ErrorKind.PERMISSION_DENIED: 403,
        ErrorKind.NOT_FOUND: 404, ErrorKind.RESOURCE_EXHAUSTED: 429, ErrorKind.UNIMPLEMENTED: 501,
        ErrorKind.UNAVAILABLE: 503, ErrorKind.DEADLINE_EXCEEDED: 504}
    assert all(code in HTTP_STATUS for code in GRPC_CODE.values())


async def _grpc(transports) -> grpc.aio.AioRpcError:
    stub = fr_grpc.FaceRecognitionStub(transports.channel)
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await stub.GetClassCount(fr.GetClassCountRequest(), metadata=transports.metadata())
    return failure.value


@pytest.mark.parametrize("kind", list(ErrorKind), ids=lambda kind: kind.name)
async def test_each_kind_through_grpc_rest_and_extension(transports, kind):
    error = error_of(kind)
    transports.service.error = error
    failure = await _grpc(transports)
    assert failure.code() == GRPC_CODE[kind] and failure.details() == error.message

    rest = await transports.http.get("/api/face/v1/classcount", headers=transports.headers())
    assert rest.status == http_status_of(kind)
    body = await rest.json()
    assert body == {"code": GRPC_CODE[kind].value[0], "message": error.message, "details": []}

    for path in ("/extension/token", "/extension/verify", "/extension/result"):
        extension = await transports.http.get(path, headers={"Authorization": "Basic eDp5"})
        assert extension.status == http_status_of(kind), path
        assert (await extension.json())["Error"] == error.message

    direct_calls = ["/extension/status", "/extension/isenrolled?bcid=walk.1.1&trait=face"]
    for path in direct_calls[:1] if kind is ErrorKind.NOT_FOUND else direct_calls:  # isenrolled: 404 is its "no"
        direct = await transports.http.get(path, headers={"Authorization": "Basic eDp5"})
        assert direct.status == http_status_of(kind), path
        assert (await direct.json()) == {"Message": error.message}
        assert direct.headers.get("Retry-After") == ("3" if error.retry_after is not None else None)

    if error.retry_after is not None:
        assert dict(failure.trailing_metadata())["retry-after"] == "3"
        assert rest.headers["Retry-After"] == "3" and extension.headers["Retry-After"] == "3"


@pytest.mark.parametrize("error", [redis_errors.ConnectionError("refused"), redis_errors.OutOfMemoryError("full"),
                                   EngineUnavailable("a face engine worker stopped; please retry")],
                         ids=["store-down", "store-full", "engine-worker-lost"])
async def test_infrastructure_failures_are_unavailable_everywhere(transports, error):
    transports.service.error = error
    assert (await _grpc(transports)).code() == grpc.StatusCode.UNAVAILABLE
    rest = await transports.http.get("/api/face/v1/classcount", headers=transports.headers())
    assert rest.status == 503
    extension = await transports.http.get("/extension/enroll", headers={"Authorization": "Bearer x"})
    assert extension.status == 503


async def test_an_unexpected_error_is_internal_without_details(transports):
    transports.service.error = KeyError("secret detail")
    failure = await _grpc(transports)
    assert failure.code() == grpc.StatusCode.INTERNAL and "secret" not in failure.details()
    rest = await transports.http.get("/api/face/v1/classcount", headers=transports.headers())
    assert rest.status == 500 and "secret" not in await rest.text()


