"""Each call is authenticated once: a gRPC call by its interceptor, a REST call by the transcoder (which names the
client to the gRPC server over the private socket, with the loopback secret)."""
from __future__ import annotations

import grpc
import pytest

from bws_proto import facerecognition_pb2 as fr
from bws_proto import facerecognition_pb2_grpc as fr_grpc
from gateway.core.errors import NotFound
from gateway.transport.loopback import CLIENT_METADATA, LOOPBACK_METADATA


async def test_a_grpc_call_is_authenticated_once(transports):
    transports.service.error = NotFound("no such class")
    before = transports.authenticator.count
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await fr_grpc.FaceRecognitionStub(transports.channel).GetClassCount(
            fr.GetClassCountRequest(), metadata=transports.metadata())
    assert failure.value.code() == grpc.StatusCode.NOT_FOUND  # the call reached the service: it was let in
    assert transports.authenticator.count - before == 1


@pytest.mark.parametrize("method, path, body", [("GET", "/api/face/v1/classcount", None),
                                                ("POST", "/api/face/v1/verify/7", b'{"image": "AAAA"}')])
async def test_a_rest_call_is_authenticated_once(transports, method, path, body):
    transports.service.error = NotFound("no such class")
    before = transports.authenticator.count
    answer = await transports.http.request(method, path, headers=transports.headers(), data=body)
    assert answer.status == 404
    assert transports.authenticator.count - before == 1


async def test_a_refused_rest_call_is_refused_once_with_its_reason(transports):
    before = transports.authenticator.count
    answer = await transports.http.get("/api/face/v1/classcount", headers={"Authorization": "Bearer not.a.jwt"})
    assert answer.status == 401 and (await answer.json())["message"] == "malformed token"
    assert "jobid" in answer.headers  # answered by the gRPC server: the headers of every BWS call
    assert transports.authenticator.count - before == 1


async def test_a_grpc_caller_cannot_name_its_client_without_the_loopback_secret(transports):
    """The client named in metadata counts only with the transcoder's secret: otherwise the JWT is checked."""
    transports.service.error = NotFound("no such class")
    stub = fr_grpc.FaceRecognitionStub(transports.channel)
    for metadata in (((CLIENT_METADATA, "walker"),), ((CLIENT_METADATA, "walker"), (LOOPBACK_METADATA, "guess"))):
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await stub.GetClassCount(fr.GetClassCountRequest(), metadata=metadata)
        assert failure.value.code() == grpc.StatusCode.UNAUTHENTICATED
