"""A template made by the previous engine (dlib ResNet, encoder version 1) is
upgraded by Enroll with no images, from its stored face thumbnails, and then
verified by the current engine. The version-1 template is real: the dlib
engine produced its chips and descriptors from biden_1.jpg and biden_2.jpg
(tests/fixtures/encoder_v1)."""
import asyncio
import io
import time

import grpc
import numpy as np
import pytest
import redis.asyncio as aredis
from PIL import Image

from bws_proto import facerecognition_pb2 as fr
from templates_store import Bcid, KeyRing, PartitionId, TemplateStore
from templates_store.templates import EnhancedTemplate, Thumbnail
from tests.conftest import FACES
from tests.e2e.helpers import Caller, new_class_id

Action = fr.FaceEnrollmentResponse.EnrollmentAction
VERSION_1 = FACES.parent / "encoder_v1"


def version_1_template(extra_chips: tuple[bytes, ...] = ()) -> EnhancedTemplate:
    chips = tuple((VERSION_1 / f"biden_{n}_chip.png").read_bytes() for n in (1, 2)) + extra_chips
    vectors = np.load(VERSION_1 / "descriptors.npy")
    return EnhancedTemplate(1, vectors, (1.0, 2.0), tuple(Thumbnail(float(i + 1), c) for i, c in enumerate(chips)))


async def _plant(service, class_id: int, template: EnhancedTemplate) -> None:
    client = aredis.from_url(service.redis_url)
    store = TemplateStore(client, KeyRing.from_file(service.log_path.parent / "keys.json"))
    await store.update_template(Bcid(PartitionId("acme", 1), class_id), lambda current: template, False)
    await client.aclose()


def _plant_old(service, extra_chips: tuple[bytes, ...] = ()) -> int:
    class_id = new_class_id()
    asyncio.run(_plant(service, class_id, version_1_template(extra_chips)))
    return class_id


def test_old_template_is_refused_with_what_to_do_then_upgraded_and_verified(service):
    class_id = _plant_old(service)
    with service.channel() as channel:
        a = Caller(channel, service.clients["tenant-a"])
        assert a.status(class_id).encoder_version == 1
        with pytest.raises(grpc.RpcError) as refused:
            a.verify(class_id, "biden_1.jpg")
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        refused = refused.value.details()
        assert "encoder version 1" in refused and "Enroll for this class with no images" in refused
        upgraded = a.enroll(class_id)
        assert upgraded.performed_action == Action.Value("TEMPLATE_UPGRADED") and not upgraded.errors
        assert upgraded.template_status.encoder_version == 2 and upgraded.template_status.feature_vectors == 2
        assert a.verify(class_id, "biden_2.jpg").verified
        assert not a.verify(class_id, "obama_1.jpg").verified
        assert a.enroll(class_id).performed_action == Action.Value("NONE")


def test_a_thumbnail_without_a_face_is_reported_and_skipped(service):
    buffer = io.BytesIO()  # a chip on which no face can be found
    Image.new("RGB", (150, 150), (90, 140, 200)).save(buffer, "PNG")
    class_id = _plant_old(service, (buffer.getvalue(),))
    with service.channel() as channel:
        a = Caller(channel, service.clients["tenant-a"])
        upgraded = a.enroll(class_id)
        assert upgraded.performed_action == Action.Value("TEMPLATE_UPGRADED")
        assert [e.error_code for e in upgraded.errors] == ["NoFeatureVectors"]
        assert "thumbnails[2]" in upgraded.errors[0].message
        assert upgraded.template_status.feature_vectors == 2 and upgraded.template_status.thumbnails_stored == 3
        assert a.verify(class_id, "biden_1.jpg").verified


def test_search_says_that_old_templates_are_not_searched(service):
    class_id = _plant_old(service)
    with service.channel() as channel:
        a = Caller(channel, service.clients["tenant-a"])

        def reported(found) -> bool:
            return any(e.error_code == "TemplatesNotUpgraded" and "Enroll with no images" in e.message
                       for e in found.errors)

        # Planted behind the service's back: its index learns of it from the change stream (polled every 0.1 s).
        for _ in range(50):
            found = a.search("biden_1.jpg")
            if reported(found):
                break
            time.sleep(0.1)
        assert reported(found)
        assert all(m.classId != class_id for r in found.result for m in r.matches)
        a.enroll(class_id)
        assert any(m.classId == class_id for m in a.search("biden_1.jpg").result[0].matches)
