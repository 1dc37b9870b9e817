"""Small helpers for calling the running service over real gRPC."""
from __future__ import annotations

import io
import itertools
import random

import grpc
from PIL import Image, ImageEnhance

from bws_proto import bwsmessages_pb2 as msg
from bws_proto import facerecognition_pb2 as fr
from bws_proto import facerecognition_pb2_grpc as fr_grpc
from tests.conftest import face

_class_ids = itertools.count(random.randrange(10**6, 10**9, 1000))


def new_class_id() -> int:
    return next(_class_ids)


def images(*names: str) -> list[msg.ImageData]:
    return [msg.ImageData(image=face(n)) for n in names]


def dark(name: str) -> bytes:
    buffer = io.BytesIO()
    ImageEnhance.Brightness(Image.open(io.BytesIO(face(name))).convert("RGB")).enhance(0.15).save(buffer, "JPEG")
    return buffer.getvalue()


def blank() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (90, 140, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


class Caller:
    """FaceRecognition calls as one client."""

    def __init__(self, channel: grpc.Channel, client) -> None:
        self.stub = fr_grpc.FaceRecognitionStub(channel)
        self.client = client

    def __getattr__(self, method: str):
        rpc = getattr(self.stub, method)

        def call(request, reference: str | None = None, with_call: bool = False):
            response, call_ = rpc.with_call(request, metadata=self.client.metadata(reference), timeout=60)
            return (response, call_) if with_call else response
        return call

    def enroll(self, class_id: int, *names: str, raw: list[bytes] = ()):
        data = images(*names) + [msg.ImageData(image=r) for r in raw]
        return self.Enroll(fr.FaceEnrollmentRequest(classId=class_id, images=data))

    def verify(self, class_id: int, name: str | None = None, raw: bytes | None = None):
        return self.Verify(fr.FaceVerificationRequest(classId=class_id, image=msg.ImageData(image=raw or face(name))))

    def search(self, *names: str, tags=(), top=False):
        return self.Search(fr.FaceSearchRequest(images=images(*names), tags=list(tags), top_matches=top))

    def status(self, class_id: int, thumbnails: bool = False):
        return self.GetTemplateStatus(fr.FaceTemplateStatusRequest(classId=class_id, download_thumbnails=thumbnails))

    def count(self, *tags: str) -> int:
        return self.GetClassCount(fr.GetClassCountRequest(tags=list(tags))).number_of_classes

    def set_tags(self, class_id: int, *tags: str):
        return self.SetTemplateTags(fr.SetTemplateTagsRequest(classId=class_id, tags=list(tags)))

    def delete(self, class_id: int):
        return self.DeleteTemplate(fr.DeleteTemplateRequest(classId=class_id))


def template_key(raw_redis, partition: str, class_id: int) -> str:
    """The Redis key of a stored template, in whichever of its partition's buckets it lives."""
    (key,) = raw_redis.scan_iter(match=f"bws:{{{partition}#*}}:tpl:{class_id}")
    return key
