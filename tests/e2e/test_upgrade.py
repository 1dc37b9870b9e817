"""Enroll with no images upgrades a template made by an older encoder version,
from its stored face thumbnails."""
import asyncio

import numpy as np
import redis.asyncio as aredis

from bws_proto import facerecognition_pb2 as fr
from gateway.engine import FaceEngine
from templates_store import Bcid, KeyRing, PartitionId, TemplateStore
from templates_store.templates import EnhancedTemplate, Thumbnail
from tests.conftest import face
from tests.e2e.helpers import Caller, new_class_id

Action = fr.FaceEnrollmentResponse.EnrollmentAction


async def _plant_old_template(service, class_id: int, chips: list[bytes]) -> None:
    client = aredis.from_url(service.redis_url)
    store = TemplateStore(client, KeyRing.from_file(service.log_path.parent / "keys.json"))
    # Encoder version 0: vectors that are not comparable with today's (random here).
    old = EnhancedTemplate(0, np.random.default_rng(1).standard_normal((len(chips), 128)).astype(np.float32),
                           (1.0,) * len(chips), tuple(Thumbnail(1.0, c) for c in chips))
    await store.update_template(Bcid(PartitionId("acme", 1), class_id), lambda current: old, False)
    await client.aclose()


def test_old_template_is_upgraded_from_thumbnails(service):
    engine = FaceEngine()
    chips = [engine.analyze(face(n)).face.thumbnail_png for n in ("biden_1.jpg", "biden_2.jpg")]
    class_id = new_class_id()
    asyncio.run(_plant_old_template(service, class_id, chips))
    with service.channel() as channel:
        a = Caller(channel, service.clients["tenant-a"])
        assert a.status(class_id).encoder_version == 0
        upgraded = a.enroll(class_id)
        assert upgraded.performed_action == Action.Value("TEMPLATE_UPGRADED")
        assert upgraded.template_status.encoder_version == 1 and upgraded.template_status.feature_vectors == 2
        assert a.verify(class_id, "biden_1.jpg").verified
        assert a.enroll(class_id).performed_action == Action.Value("NONE")
