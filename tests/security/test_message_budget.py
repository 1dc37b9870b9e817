"""Attack: one authenticated client sends many large requests at once. Ten concurrent 60 MB Enrolls over gRPC
took the main process from 344 to 2,108 MB (thirty: 5,104 MB): nothing bounded the gRPC messages held. Now one
byte budget (BWS_MAX_BODY_BYTES_IN_FLIGHT) holds every request's bytes, gRPC messages from before they are
received and REST bodies from before they are read, until the call ends; one client holds at most half of it.
Over it: RESOURCE_EXHAUSTED with `retry-after` and a google.rpc.RetryInfo detail, or HTTP 429 with Retry-After;
the process stays within a few times the budget, and another client still gets through."""
from __future__ import annotations

import base64
import threading
import time

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from bws_proto import bwsmessages_pb2 as msg
from bws_proto import facerecognition_pb2 as fr
from bws_proto import facerecognition_pb2_grpc as fr_grpc
from tests.conftest import face
from tests.e2e.helpers import Caller, new_class_id
from tests.e2e.http import request
from tests.security.own_service import own_service
from tests.security.test_bodies import _RssSampler

MB = 1 << 20
BUDGET = 128 * MB  # per client: 64 MiB, one largest message
# Memory per held byte: grpc's buffer, the Python bytes, the parsed message and the images' copies to the
# engine workers (about four), plus allocator slack: the process may grow by six budgets, never by the attack.
RSS_BOUND_MB = 6 * BUDGET / MB
OPTIONS = [("grpc.max_send_message_length", 64 * MB), ("grpc.max_receive_message_length", 64 * MB)]


def big_images(count: int = 3, padding: int = 19 * MB) -> list[bytes]:
    """Real photos padded with zeros (3 x 19 MiB: a 60 MB message) that decode: each call holds its bytes for a
    while."""
    return [face("biden_1.jpg") + b"\0" * padding] * count


@pytest.fixture(scope="module")
def budgeted(tmp_path_factory, redis_server):
    with own_service(tmp_path_factory.mktemp("budget"), redis_server.url, BWS_WORKERS="1",
                     BWS_MAX_BODY_BYTES_IN_FLIGHT=str(BUDGET),
                     BWS_BUDGET_WAIT_SECONDS="0") as service:  # overlapping calls are refused, however fast
        yield service


class OtherClient(threading.Thread):
    """tenant-b's small calls while tenant-a floods: each must succeed."""

    def __init__(self, service) -> None:
        super().__init__(daemon=True)
        self.service, self.stop, self.answers = service, threading.Event(), []

    def run(self) -> None:
        with grpc.insecure_channel(self.service.grpc_target) as channel:
            b = Caller(channel, self.service.clients["tenant-b"])
            while not self.stop.is_set():
                try:
                    b.enroll(new_class_id(), "obama_1.jpg")
                    self.answers.append("OK")
                except grpc.RpcError as error:
                    self.answers.append(error.code().name)
                time.sleep(0.2)


def retry_hint(error: grpc.RpcError) -> tuple[str | None, int | None]:
    trailers = dict(error.trailing_metadata() or ())
    delay = None
    if "grpc-status-details-bin" in trailers:
        status = status_pb2.Status.FromString(trailers["grpc-status-details-bin"])
        info = error_details_pb2.RetryInfo()
        assert status.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0] and status.details[0].Unpack(info)
        delay = info.retry_delay.seconds
    return trailers.get("retry-after"), delay


def flood(service, calls: list) -> tuple[list, float]:
    """Runs the calls at once, with tenant-b calling meanwhile; the answers and the peak RSS growth (MB)."""
    sampler = _RssSampler(service.process.pid)
    before = sampler.peak
    sampler.start()
    other = OtherClient(service)
    other.start()
    answers: list = [None] * len(calls)

    def run(i: int) -> None:
        answers[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    time.sleep(0.5)
    other.stop.set()
    other.join(60)
    sampler.done.set()
    sampler.join()
    assert other.answers and set(other.answers) == {"OK"}, other.answers  # another client still gets through
    return answers, sampler.peak - before


def test_concurrent_large_grpc_messages_of_one_client(budgeted):
    request_message = fr.FaceEnrollmentRequest(classId=new_class_id(),
                                               images=[msg.ImageData(image=i) for i in big_images()])
    metadata = budgeted.clients["tenant-a"].metadata()

    def enroll():
        with grpc.insecure_channel(budgeted.grpc_target, options=OPTIONS) as channel:
            try:
                fr_grpc.FaceRecognitionStub(channel).Enroll(request_message, metadata=metadata, timeout=120)
                return "OK", None
            except grpc.RpcError as error:
                return error.code().name, error

    answers, growth = flood(budgeted, [enroll] * 10)
    assert growth < RSS_BOUND_MB, growth
    codes = [code for code, _ in answers]
    assert "OK" in codes and "RESOURCE_EXHAUSTED" in codes and set(codes) <= {"OK", "RESOURCE_EXHAUSTED"}, codes
    for code, error in answers:
        if code == "RESOURCE_EXHAUSTED":
            assert "retry" in error.details()
            assert retry_hint(error) == ("1", 1)


def test_concurrent_large_rest_bodies_of_one_client(budgeted):
    body = [{"image": base64.b64encode(image).decode()} for image in big_images(2, 17 * MB)]  # 48 MB
    headers = {"Authorization": f"Bearer {budgeted.clients['tenant-a'].token()}"}

    def enroll():
        return request(budgeted.http_url, "POST", f"/api/face/v1/enroll/{new_class_id()}", body, headers,
                       timeout=120)

    answers, growth = flood(budgeted, [enroll] * 6)
    statuses = [a.status for a in answers]
    assert 200 in statuses and 429 in statuses and set(statuses) <= {200, 429}, statuses
    for answer in answers:
        if answer.status == 429:
            assert answer.headers["retry-after"] == "1" and "retry" in answer.json["message"]
    assert growth < RSS_BOUND_MB, growth


def test_calls_that_end_before_their_message_is_read_give_their_bytes_back(budgeted):
    """Calls abandoned mid-message (deadline) never reach the service logic: their holds are released all the
    same, so the client can still send its largest message afterwards."""
    request_message = fr.FaceEnrollmentRequest(classId=new_class_id(),
                                               images=[msg.ImageData(image=i) for i in big_images()])
    metadata = budgeted.clients["tenant-a"].metadata()
    with grpc.insecure_channel(budgeted.grpc_target, options=OPTIONS) as channel:
        stub = fr_grpc.FaceRecognitionStub(channel)
        for timeout in (0.05, 0.1, 0.15, 0.2, 0.25):
            with pytest.raises(grpc.RpcError) as abandoned:
                stub.Enroll(request_message, metadata=metadata, timeout=timeout)
            assert abandoned.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        time.sleep(0.5)
        response = stub.Enroll(request_message, metadata=metadata, timeout=120)
        assert response.enrolled_images == 3
