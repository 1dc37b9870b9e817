"""Attack: bytes the service cannot read. Undecodable protobuf is a clear
INVALID_ARGUMENT (logged like every call), and a 16-bit greyscale PNG is a
picture, not a white page."""
import io

import grpc
import numpy as np
import pytest
from PIL import Image

from bws_proto import facerecognition_pb2 as fr
from tests.conftest import face
from tests.e2e.helpers import new_class_id
from tests.security.own_service import log_records


def test_invalid_utf8_in_a_tag_is_invalid_argument_and_logged(service, channel, a):
    class_id = new_class_id()
    a.enroll(class_id, "obama_1.jpg")
    wire = fr.SetTemplateTagsRequest(classId=class_id, tags=["QQ"]).SerializeToString().replace(b"QQ", b"\xff\xfe")
    set_tags = channel.unary_unary("/bioid.services.v1.FaceRecognition/SetTemplateTags",
                                   request_serializer=lambda raw: raw,
                                   response_deserializer=fr.SetTemplateTagsResponse.FromString)
    reference = f"bad-utf8-{class_id}"
    with pytest.raises(grpc.RpcError) as refused:
        set_tags(wire, metadata=a.client.metadata(reference), timeout=30)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "could not be decoded" in refused.value.details() and "UTF-8" in refused.value.details()
    logged = [r for r in log_records(service) if r.get("reference_number") == reference]
    assert len(logged) == 1 and logged[0]["code"] == "INVALID_ARGUMENT"
    assert a.status(class_id).tags == []  # nothing was changed


def sixteen_bit_grey_png(name: str) -> bytes:
    grey = np.asarray(Image.open(io.BytesIO(face(name))).convert("L"), dtype=np.uint16) * 257
    buffer = io.BytesIO()
    Image.fromarray(grey).save(buffer, "PNG")  # a 16-bit greyscale PNG (mode I;16)
    assert Image.open(io.BytesIO(buffer.getvalue())).mode in ("I;16", "I")
    return buffer.getvalue()


def test_a_16_bit_greyscale_png_finds_the_face_and_verifies(a):
    class_id = new_class_id()
    assert a.enroll(class_id, "obama_1.jpg").enrolled_images == 1
    verdict = a.verify(class_id, raw=sixteen_bit_grey_png("obama_2.jpg"))
    assert verdict.verified, verdict
    stranger = new_class_id()
    assert a.enroll(stranger, raw=[sixteen_bit_grey_png("biden_1.jpg")]).enrolled_images == 1
    assert not a.verify(stranger, raw=sixteen_bit_grey_png("obama_2.jpg")).verified
