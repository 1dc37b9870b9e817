"""A gRPC message of 64 MB can hold 32 million empty images, tags or live images (two bytes each on the wire). The
servicers copied them out one by one (a Python step each, in the event loop that serves every call of every client)
before the core counted them: 8 MB of empty images held /livez for 1.9 s, 64 MB for about 15 s. Images are now
counted first (the core's own limit, BWS_MAX_IMAGES), and a tags field holds at most 1,024 (a template keeps at most
64): SetTemplateTags with two thousand copies of one tag was accepted. And protobuf itself builds an object for each
field before any of this: past 25,000 fields the message is refused unbuilt (gateway/transport/grpc/wire.py)."""
from __future__ import annotations

import grpc
import pytest

from bws_proto import bioidwebservice_pb2 as bws
from bws_proto import bwsmessages_pb2 as msg
from bws_proto import facerecognition_pb2 as fr
from tests.security.own_service import rss_mb

TAGS = ("/bioid.services.v1.FaceRecognition/SetTemplateTags", fr.SetTemplateTagsRequest(
    classId=1, tags=["x"] * 2_000))
SEARCH_TAGS = ("/bioid.services.v1.FaceRecognition/GetClassCount", fr.GetClassCountRequest(tags=["x"] * 2_000))
SEARCH = ("/bioid.services.v1.FaceRecognition/Search", b"\x0a\x00" * 4_000_000)
LIVE = ("/bioid.services.v1.BioIDWebService/LivenessDetection", bws.LivenessDetectionRequest(
    live_images=[msg.ImageData(image=b"x", tags=["up"] * 2_000)] + [msg.ImageData()]))


def _call(service, method: str, message) -> grpc.RpcError:
    raw = message if isinstance(message, bytes) else message.SerializeToString()
    with service.channel() as channel:
        call = channel.unary_unary(method, request_serializer=lambda b: b, response_deserializer=lambda b: b)
        with pytest.raises(grpc.RpcError) as refused:
            call(raw, metadata=service.clients["tenant-a"].metadata(), timeout=60)
    return refused.value


@pytest.mark.parametrize("method,message", [TAGS, SEARCH_TAGS, LIVE], ids=["set-tags", "count-tags", "live-tags"])
def test_a_tags_field_holds_at_most_1024(service, method, message):
    error = _call(service, method, message)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "at most 1024 tags" in error.details(), \
        (error.code(), error.details())


def test_thousands_of_empty_images_are_refused_by_their_count(service):
    error = _call(service, "/bioid.services.v1.FaceRecognition/Search", b"\x0a\x00" * 20_000)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "images per call, got 20000" in error.details()


def test_millions_of_fields_are_refused_before_the_message_is_built(service):
    """protobuf builds an object of 40 bytes and more for each empty image: 8 MB of them grew the process by
    200 MB (64 MB, by more than 1.5 GB), whatever the byte budget had counted. The message's wire bytes are walked
    first, up to MAX_FIELDS fields (gateway/transport/grpc/wire.py)."""
    before = rss_mb(service.process.pid)
    for method, raw in (SEARCH, ("/bioid.services.v1.FaceRecognition/Enroll", b"\x12\x00" * 4_000_000),
                        ("/bioid.services.v1.BioIDWebService/LivenessDetection", bws.LivenessDetectionRequest(
                            live_images=[msg.ImageData(image=b"x", tags=[""] * 4_000_000)]))):  # one image's tags
        error = _call(service, method, raw)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "more than 25000 fields" in error.details(), \
            (method, error.details())
    assert rss_mb(service.process.pid) - before < 60
    with service.channel() as channel:  # and the service goes on
        call = channel.unary_unary("/bioid.services.v1.FaceRecognition/GetClassCount",
                                   request_serializer=fr.GetClassCountRequest.SerializeToString,
                                   response_deserializer=fr.GetClassCountResponse.FromString)
        call(fr.GetClassCountRequest(), metadata=service.clients["tenant-a"].metadata(), timeout=30)
