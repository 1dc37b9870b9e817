"""Attack (review of Engine 3): a small face in the middle of the picture chosen as the subject.

The primary face was the most central one, whatever its size: with a person a little off centre and a smaller
face of someone else in the middle (a poster behind them, a badge, a photo held up), BWS_MULTIPLE_FACES=primary
used the small face (Verify of the picture against the small face's person: verified; against the person's own
template: not), and the default `refuse` refused a picture in which the second face is a bystander by the
README's own rule (less than half the subject's width). Now a face less than half as wide as the largest face
not cut by the border is never the primary."""
from __future__ import annotations

import pytest

from bws_proto import bwsmessages_pb2 as msg
from bws_proto import facerecognition_pb2 as fr
from tests.e2e.helpers import Caller, new_class_id
from tests.security.hostile_files import small_face_in_the_middle
from tests.security.own_service import own_service


@pytest.fixture(scope="module")
def primary(tmp_path_factory, redis_server):
    with own_service(tmp_path_factory.mktemp("primary-face"), redis_server.url, BWS_WORKERS="1",
                     BWS_MULTIPLE_FACES="primary") as service:
        yield service


def test_the_person_not_the_small_face_in_the_middle_is_verified(primary):
    picture = small_face_in_the_middle()  # Biden a third of the way across, a smaller Obama in the middle
    with primary.channel() as channel:
        a = Caller(channel, primary.clients["tenant-a"])
        biden, obama = new_class_id(), new_class_id()
        assert a.enroll(biden, "biden_2.jpg").enrolled_images == 1
        assert a.enroll(obama, "obama_2.jpg").enrolled_images == 1
        assert a.verify(biden, raw=picture).verified
        assert not a.verify(obama, raw=picture).verified


def test_the_small_face_in_the_middle_is_a_bystander_by_default(a):
    class_id = new_class_id()
    result = a.Enroll(fr.FaceEnrollmentRequest(classId=class_id, images=[msg.ImageData(
        image=small_face_in_the_middle())]))
    assert result.enrolled_images == 1, list(result.errors)
    single = [q for q in result.image_properties[0].quality_assessments if q.check == "SingleFaceOnImage"][0]
    assert single.message.startswith("1 bystander face(s)")
    assert a.verify(class_id, "biden_1.jpg").verified
