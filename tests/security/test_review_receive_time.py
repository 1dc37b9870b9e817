"""Found in review: the byte budget was held for ever by calls that never sent their message (gRPC) or their body
(REST, /extension/upload): a client opening two such calls kept its whole share (and, with several clients, the
service's), and every later call was refused. A message or body that has not arrived within
BWS_REQUEST_RECEIVE_SECONDS is now refused (DEADLINE_EXCEEDED / 408, the connection closed) and its hold
released: the client's next call is served."""
from __future__ import annotations


import grpc
import pytest

from bws_proto import facerecognition_pb2 as fr
from tests.e2e.helpers import Caller, new_class_id
from tests.e2e.http import request
from tests.e2e.test_extension import basic
from tests.security.own_service import own_service
from tests.security.raw_calls import SilentCalls, raw_answer

MB = 1 << 20


@pytest.fixture(scope="module")
def patient(tmp_path_factory, redis_server):
    with own_service(tmp_path_factory.mktemp("receive"), redis_server.url, BWS_WORKERS="1",
                     BWS_MAX_BODY_BYTES_IN_FLIGHT=str(128 * MB),  # one client: one 64 MiB message at a time
                     BWS_BUDGET_WAIT_SECONDS="0", BWS_REQUEST_RECEIVE_SECONDS="1") as service:
        yield service


def test_a_grpc_call_that_never_sends_its_message_gives_its_bytes_back(patient):
    with patient.channel() as channel:
        silent = SilentCalls(channel, "/bioid.services.v1.FaceRecognition/Enroll",
                             fr.FaceEnrollmentRequest.SerializeToString, fr.FaceEnrollmentResponse.FromString,
                             patient.clients["tenant-a"].metadata(), timeout=30)
        try:
            with pytest.raises(grpc.RpcError) as refused:
                silent.calls[0].result(timeout=40)
        finally:
            silent.end()
        assert refused.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert refused.value.details() == ("the request message did not arrive within 1 s "
                                           "(BWS_REQUEST_RECEIVE_SECONDS)")
        assert Caller(channel, patient.clients["tenant-a"]).enroll(new_class_id(), "obama_1.jpg").enrolled_images == 1


def silent_http_request(service, path: str, authorization: str) -> bytes:
    """Headers announcing a 10 MB body, then nothing: what the server answers, if it answers (30 s)."""
    return raw_answer(service.http_url, (f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {authorization}\r\n"
                                         "Content-Type: text/plain\r\nContent-Length: 10000000\r\n\r\n").encode())


def test_rest_and_extension_bodies_that_never_come_are_refused_and_the_connection_closed(patient):
    bearer = f"Bearer {patient.clients['tenant-a'].token()}"
    for path in (f"/api/face/v1/enroll/{new_class_id()}", "/extension/upload", "/extension/qualitycheck"):
        authorization = bearer
        if path == "/extension/qualitycheck":  # a classic direct call
            authorization = basic(patient)["Authorization"]
        if path == "/extension/upload":
            token = request(patient.http_url, "GET", "/extension/token?id=tenant-a&bcid=acme/1/7&task=verify",
                            headers=basic(patient)).body.decode()
            authorization = f"Bearer {token}"
        answer = silent_http_request(patient, path, authorization)  # ends: the server closed the connection
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
        assert b"the request body did not arrive within 1 s (BWS_REQUEST_RECEIVE_SECONDS)" in answer
    with patient.channel() as channel:  # the holds were given back
        assert Caller(channel, patient.clients["tenant-a"]).enroll(new_class_id(), "obama_1.jpg").enrolled_images == 1
