"""Bad input gets a clear error, nothing is written, and the server keeps serving."""
import io

import grpc
import jwt
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from PIL import Image

from bws_proto import facerecognition_pb2 as fr
from tests.conftest import face
from tests.e2e.helpers import Caller, new_class_id



def _bomb() -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buffer, "PNG")
    return buffer.getvalue()


BAD_IMAGES = {
    "not an image": (b"%PDF-1.4 definitely not a face", "not a decodable image"),
    "truncated JPEG": (face("obama_1.jpg")[:4000], "corrupt or truncated"),
    "over the size limit": (b"\xff\xd8" + bytes(21 * 1024 * 1024), "larger than the limit"),
    "decompression bomb": (_bomb(), "pixels"),
    "empty": (b"", "empty image"),
}


@pytest.mark.parametrize("case", BAD_IMAGES)
def test_bad_images_are_invalid_argument_and_write_nothing(a, case):
    data, message = BAD_IMAGES[case]
    class_id = new_class_id()
    with pytest.raises(grpc.RpcError) as error:
        a.enroll(class_id, "obama_1.jpg", raw=[data])
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "images[1]" in error.value.details() and message in error.value.details()
    assert not a.status(class_id).available


@pytest.mark.parametrize("class_id", [0, -1, -9223372036854775808])
def test_class_id_must_be_positive(a, class_id):
    for call in (lambda: a.enroll(class_id, "obama_1.jpg"), lambda: a.verify(class_id, "obama_1.jpg"),
                 lambda: a.status(class_id), lambda: a.delete(class_id), lambda: a.set_tags(class_id, "x")):
        with pytest.raises(grpc.RpcError) as error:
            call()
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "classId" in error.value.details()


def test_verify_of_an_unknown_class_is_not_found(a):
    with pytest.raises(grpc.RpcError) as error:
        a.verify(424242424242, "obama_1.jpg")
    assert error.value.code() == grpc.StatusCode.NOT_FOUND and "424242424242" in error.value.details()


def test_too_many_images_and_bad_tags(a):
    with pytest.raises(grpc.RpcError) as error:
        a.enroll(new_class_id(), *["kit_harington_2.jpg"] * 21)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "at most 20" in error.value.details()
    with pytest.raises(grpc.RpcError) as error:
        a.count("")
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize("metadata", [
    (),
    (("authorization", "Bearer forged.token.value"),),
    (("authorization", "Bearer " + jwt.encode({"sub": "tenant-a", "iss": "tenant-a", "aud": "BWS", "iat": 1,
                                                "nbf": 1, "exp": 4102444800}, b"x" * 32, algorithm="HS256")),),
])
def test_missing_or_forged_tokens_are_unauthenticated(channel, metadata):
    stub = Caller(channel, None).stub
    with pytest.raises(grpc.RpcError) as error:
        stub.GetClassCount(fr.GetClassCountRequest(), metadata=metadata, timeout=10)
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_server_still_serves_after_all_that(a, channel):
    assert health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest()).status == \
        health_pb2.HealthCheckResponse.SERVING
    class_id = new_class_id()
    assert a.enroll(class_id, "biden_2.jpg").enrolled_images == 1
    assert a.verify(class_id, "biden_1.jpg").verified
