"""The FaceRecognition service over real gRPC, on the real engine and Redis."""
import io
import re
from email.utils import parsedate_to_datetime

import grpc
import pytest
from PIL import Image

from bws_proto import bwsmessages_pb2 as msg
from bws_proto import facerecognition_pb2 as fr
from tests.conftest import face
from tests.e2e.helpers import Caller, blank, dark, new_class_id, template_key

Action = fr.FaceEnrollmentResponse.EnrollmentAction



def checks(properties):
    return {q.check: q for q in properties.quality_assessments}


def test_enroll_update_verify_status(a):
    class_id = new_class_id()
    created = a.enroll(class_id, "obama_1.jpg", "obama_2.jpg")
    assert created.status == msg.SUCCEEDED and created.performed_action == Action.Value("NEW_TEMPLATE_CREATED")
    assert created.enrolled_images == 2 and len(created.image_properties) == 2
    eyes = created.image_properties[0].faces[0]
    assert eyes.left_eye.x > eyes.right_eye.x > 0
    assert checks(created.image_properties[0])["FaceFeaturesAvailable"].score == 1
    assert created.template_status.classId == class_id and created.template_status.feature_vectors == 2
    assert created.template_status.encoder_version == 2 and created.template_status.available

    updated = a.enroll(class_id, "obama_3.jpg")
    assert updated.performed_action == Action.Value("TEMPLATE_UPDATED") and updated.enrolled_images == 1
    assert updated.template_status.feature_vectors == 3 and updated.template_status.thumbnails_stored == 3

    same = a.verify(class_id, "obama_partial.jpg")
    assert same.verified and 0.5 <= same.score <= 1 and same.status == msg.SUCCEEDED
    other = a.verify(class_id, "biden_1.jpg")
    assert not other.verified and 0 < other.score < 0.5

    status = a.status(class_id, thumbnails=True)
    assert status.available and status.feature_vectors == 3 and len(status.thumbnails) == 3
    assert all(t.image.startswith(b"\x89PNG") and t.enrolled.seconds > 0 for t in status.thumbnails)
    assert status.enrolled.seconds > 0
    assert a.status(class_id).thumbnails == []


def test_enroll_with_no_images_reports_without_changing(a):
    class_id = new_class_id()
    nothing = a.enroll(class_id)
    assert nothing.performed_action == Action.Value("NONE") and not nothing.template_status.available
    a.enroll(class_id, "biden_1.jpg")
    again = a.enroll(class_id)
    assert again.performed_action == Action.Value("NONE") and again.template_status.feature_vectors == 1


def test_enroll_ignores_unusable_images_and_says_why(a):
    class_id = new_class_id()
    result = a.enroll(class_id, "kit_harington_1.jpg", "group_two_faces.jpg", raw=[blank()])
    assert result.performed_action == Action.Value("NEW_TEMPLATE_CREATED") and result.enrolled_images == 1
    group, empty = result.image_properties[1], result.image_properties[2]
    assert len(group.faces) == 2 and checks(group)["SingleFaceOnImage"].score == 0
    assert len(empty.faces) == 0 and checks(empty)["FaceFound"].score == 0


@pytest.mark.parametrize("names, raw, code", [
    (["group_three_faces.jpg"], None, "MultipleFacesFound"),
    ([], "blank", "NoSuitableFaceImage"),
    ([], "tiny", "NoFeatureVectors"),
])
def test_enrollment_failure_writes_nothing(a, names, raw, code):
    class_id = new_class_id()
    data = {"blank": [blank()], "tiny": [tiny("obama_1.jpg")]}.get(raw, [])
    result = a.enroll(class_id, *names, raw=data)
    assert result.status == msg.SUCCEEDED and result.performed_action == Action.Value("ENROLLMENT_FAILED")
    assert [e.error_code for e in result.errors] == [code] and result.errors[0].message
    assert not a.status(class_id).available
    if raw == "tiny":
        assert "too small to recognise" in checks(result.image_properties[0])["FaceFeaturesAvailable"].message


def tiny(name: str) -> bytes:
    """The photo shrunk until the eyes are about 7 px apart: below what the network can use."""
    image = Image.open(io.BytesIO(face(name))).convert("RGB")
    buffer = io.BytesIO()
    image.resize((image.width // 16, image.height // 16)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_poor_but_usable_face_is_enrolled_with_feedback(a):
    """Quality informs: a dark face the network can embed is enrolled, the check says what to improve."""
    class_id = new_class_id()
    result = a.enroll(class_id, raw=[dark("obama_1.jpg")])
    assert result.performed_action == Action.Value("NEW_TEMPLATE_CREATED") and not result.errors
    brightness = checks(result.image_properties[0])["Brightness"]
    assert "too dark" in brightness.message and brightness.score < 0.5
    assert a.verify(class_id, "obama_2.jpg").verified and not a.verify(class_id, "biden_1.jpg").verified


def test_verify_without_usable_face_is_not_verified(a):
    class_id = new_class_id()
    a.enroll(class_id, "rose_leslie_1.jpg")
    result = a.verify(class_id, "group_two_faces.jpg")
    assert not result.verified and result.score == 0 and result.errors[0].error_code == "MultipleFacesFound"


def test_search_threshold_top_matches_and_tags(service, channel):
    a = Caller(channel, service.clients["search-only-tenant"])  # a partition of its own
    obama, biden, kit = new_class_id(), new_class_id(), new_class_id()
    a.enroll(obama, "obama_1.jpg")
    a.enroll(biden, "biden_1.jpg")
    a.enroll(kit, "kit_harington_1.jpg")
    a.set_tags(obama, "staff", "vip")
    a.set_tags(biden, "staff")

    found = a.search("obama_3.jpg", "biden_2.jpg", "group_two_faces.jpg")
    assert len(found.result) == 3
    assert found.result[0].matches[0].classId == obama and found.result[0].matches[0].score >= 0.5
    assert found.result[1].matches[0].classId == biden
    assert all(m.score >= 0.5 for r in found.result for m in r.matches)
    assert found.result[2].matches == [] and found.errors[0].message.startswith("images[2]")

    top = a.search("obama_3.jpg", top=True)
    scores = [m.score for m in top.result[0].matches]
    assert len(scores) == 3 and scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)

    vip = a.search("biden_2.jpg", tags=["staff", "vip"], top=True).result[0].matches
    assert [m.classId for m in vip] == [obama]
    assert a.search("biden_2.jpg", tags=["nobody-has-this"], top=True).result[0].matches == []


def test_tags_counts_and_delete(a):
    class_id = new_class_id()
    a.enroll(class_id, "alex_lacamoire_1.png")
    tag = f"group-{class_id}"
    a.set_tags(class_id, tag, "x")
    assert list(a.status(class_id).tags) == sorted([tag, "x"])
    assert a.count(tag) == 1 and a.count(tag, "x") == 1 and a.count(tag, "y") == 0
    total = a.count()
    a.delete(class_id)
    assert a.count() == total - 1 and a.count(tag) == 0
    assert not a.status(class_id).available
    assert all(m.classId != class_id for m in a.search("alex_lacamoire_2.jpg", top=True).result[0].matches)
    with pytest.raises(grpc.RpcError) as error:
        a.delete(class_id)
    assert error.value.code() == grpc.StatusCode.NOT_FOUND


def test_bws_metadata_on_success_and_failure(a):
    _, call = a.GetClassCount(fr.GetClassCountRequest(), reference="ref-42", with_call=True)
    headers = dict(call.initial_metadata())
    assert re.fullmatch(r"[0-9a-f-]{36}", headers["jobid"]) and headers["bws-version"]
    assert headers["reference-number"] == "ref-42" and parsedate_to_datetime(headers["date"]).year >= 2024
    assert int(dict(call.trailing_metadata())["response-time-ms"]) >= 0

    with pytest.raises(grpc.RpcError) as error:
        a.Verify(fr.FaceVerificationRequest(classId=987654321987, image=msg.ImageData(image=b"x")), reference="r2")
    failed = error.value
    assert failed.code() == grpc.StatusCode.NOT_FOUND and "987654321987" in failed.details()
    assert dict(failed.initial_metadata())["reference-number"] == "r2"
    assert "jobid" in dict(failed.initial_metadata()) and "response-time-ms" in dict(failed.trailing_metadata())
    assert dict(failed.initial_metadata())["jobid"] != headers["jobid"]


def test_encrypted_compact_client_works_and_stores_sealed(service, channel):
    import redis

    from templates_store.crypto import is_sealed

    caller = Caller(channel, service.clients["tenant-a-encrypted"])
    class_id = new_class_id()
    caller.enroll(class_id, "rose_leslie_1.jpg")
    assert caller.verify(class_id, "rose_leslie_2.jpg").verified
    assert caller.search("rose_leslie_2.jpg").result[0].matches[0].classId == class_id
    raw = redis.Redis.from_url(service.redis_url)
    key = template_key(raw, "acme/2", class_id)
    assert is_sealed(raw.hget(key, "compact")) and is_sealed(raw.hget(key, "enhanced"))
