"""Found in review: the gRPC port read a whole request message (up to 64 MB) before it checked the token,
so unauthenticated callers could grow the process at will (8 calls of 60 MB at once: +560 MB). A call
whose authorization is refused is now answered before its message is read, with the usual headers."""
from __future__ import annotations

import threading

import grpc

from bws_proto import bwsmessages_pb2, facerecognition_pb2, facerecognition_pb2_grpc
from tests.security.test_bodies import _RssSampler

CALLS = 8


def test_unauthenticated_calls_are_refused_before_their_message_is_read(service):
    request = facerecognition_pb2.FaceEnrollmentRequest(
        classId=5, images=[bwsmessages_pb2.ImageData(image=b"x" * (15 << 20))] * 4)  # 60 MB
    sampler = _RssSampler(service.process.pid)
    before = sampler.peak
    sampler.start()
    refusals: list[tuple] = []

    def call():
        with grpc.insecure_channel(service.grpc_target,
                                   options=[("grpc.max_send_message_length", 100 << 20)]) as channel:
            try:
                facerecognition_pb2_grpc.FaceRecognitionStub(channel).Enroll(
                    request, metadata=(("authorization", "Bearer forged.token.value"),), timeout=60)
            except grpc.RpcError as error:
                refusals.append((error.code(), error.details(), dict(error.initial_metadata() or ())))

    threads = [threading.Thread(target=call) for _ in range(CALLS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    sampler.done.set()
    sampler.join()
    assert len(refusals) == CALLS
    for code, details, headers in refusals:
        assert code == grpc.StatusCode.UNAUTHENTICATED and details == "malformed token" and "jobid" in headers
    assert sampler.peak - before < 150, (before, sampler.peak)


def test_authenticated_calls_still_read_their_message(service):
    with service.channel() as channel:
        stub = facerecognition_pb2_grpc.FaceRecognitionStub(channel)
        count = stub.GetClassCount(facerecognition_pb2.GetClassCountRequest(), metadata=service.clients[
            "tenant-a"].metadata())
        assert count.number_of_classes >= 0
        try:
            stub.Enroll(facerecognition_pb2.FaceEnrollmentRequest(classId=5), metadata=service.clients[
                "tenant-a-readonly"].metadata())
            raise AssertionError("a read-only client enrolled")
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.PERMISSION_DENIED
