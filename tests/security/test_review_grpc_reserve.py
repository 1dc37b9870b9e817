"""Found in review: each gRPC call held the largest message (64 MiB) of the byte budget until its message arrived,
so with the default budget only 4 calls could be receiving at once (2 per client): a few slow uploads and every
ordinary call was refused. A call now holds BWS_GRPC_MESSAGE_RESERVE_BYTES (16 MiB) until its message arrives,
then the message's size; a larger message without room is refused (RESOURCE_EXHAUSTED, retry hint) and the
hold given back."""
from __future__ import annotations

import time

import grpc
import pytest

from bws_proto import bwsmessages_pb2 as msg
from bws_proto import facerecognition_pb2 as fr
from bws_proto import facerecognition_pb2_grpc as fr_grpc
from tests.conftest import face
from tests.e2e.helpers import Caller, new_class_id
from tests.security.own_service import own_service
from tests.security.raw_calls import SilentCalls

MB = 1 << 20


@pytest.fixture(scope="module")
def reserving(tmp_path_factory, redis_server):
    with own_service(tmp_path_factory.mktemp("reserve"), redis_server.url, BWS_WORKERS="1",
                     BWS_BUDGET_WAIT_SECONDS="0", BWS_REQUEST_RECEIVE_SECONDS="60") as service:  # 256 MiB
        yield service


def silent_enrolls(service, channel: grpc.Channel, client: str, count: int) -> SilentCalls:
    """Enrolls whose messages have not arrived yet (slow uploads): each holds its bytes meanwhile."""
    return SilentCalls(channel, "/bioid.services.v1.FaceRecognition/Enroll", fr.FaceEnrollmentRequest.SerializeToString,
                       fr.FaceEnrollmentResponse.FromString, service.clients[client].metadata(), count)


def test_slow_uploads_leave_room_for_ordinary_calls(reserving):
    with reserving.channel() as channel:
        a_slow = silent_enrolls(reserving, channel, "tenant-a", 6)
        b_slow = silent_enrolls(reserving, channel, "tenant-b", 4)
        try:
            time.sleep(1)  # the calls have reached the server (no timing is asserted)
            assert a_slow.refused() == [] and b_slow.refused() == []
            for client in ("tenant-a", "tenant-b", "tenant-a-encrypted"):
                assert Caller(channel, reserving.clients[client]).enroll(new_class_id(), "obama_1.jpg"
                                                                         ).enrolled_images == 1
        finally:
            a_slow.end()
            b_slow.end()


def test_a_message_larger_than_the_room_left_is_refused_when_it_arrives(reserving):
    big = fr.FaceEnrollmentRequest(classId=new_class_id(),
                                   images=[msg.ImageData(image=face("biden_1.jpg") + b"\0" * (19 * MB))] * 3)
    with grpc.insecure_channel(reserving.grpc_target,
                               options=[("grpc.max_send_message_length", 64 * MB)]) as channel:
        slow = silent_enrolls(reserving, channel, "tenant-a", 7)  # 112 of its 128 MiB
        try:
            time.sleep(1)
            with pytest.raises(grpc.RpcError) as refused:
                fr_grpc.FaceRecognitionStub(channel).Enroll(big, metadata=reserving.clients["tenant-a"].metadata(),
                                                             timeout=60)
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "retry" in refused.value.details()
        finally:
            slow.end()
        time.sleep(0.5)
        assert fr_grpc.FaceRecognitionStub(channel).Enroll(
            big, metadata=reserving.clients["tenant-a"].metadata(), timeout=120).enrolled_images == 3
