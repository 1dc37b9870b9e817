"""LivenessDetection, VideoLivenessDetection and PhotoVerify over real gRPC and REST."""
import base64

import grpc
import pytest
from PIL import Image

from bws_proto import bioidwebservice_pb2 as bws
from bws_proto import bioidwebservice_pb2_grpc as bws_grpc
from bws_proto import bwsmessages_pb2 as msg
from tests.conftest import face
from tests.e2e.http import request
from tests.e2e.media import jpeg, letterbox, perspective, photo, video

Level = bws.PhotoVerifyResponse.AccuracyLevel


@pytest.fixture(scope="module")
def live(service, channel):
    stub = bws_grpc.BioIDWebServiceStub(channel)
    metadata = service.clients["tenant-a"].metadata()

    def call(method, request_message):
        return getattr(stub, method)(request_message, metadata=metadata, timeout=120)
    return call


def images(*items):
    """Names of fixtures or raw bytes, each optionally (item, tag)."""
    out = []
    for item in items:
        data, tags = (item if isinstance(item, tuple) else (item, None))
        raw = face(data) if isinstance(data, str) else data
        out.append(msg.ImageData(image=raw, tags=[tags] if tags else []))
    return out


def detect(live, *items):
    return live("LivenessDetection", bws.LivenessDetectionRequest(live_images=images(*items)))


def test_two_poses_of_a_real_head_are_live(live):
    result = detect(live, "obama_1.jpg", "obama_3.jpg")
    assert result.status == msg.SUCCEEDED and result.live and result.errors == []
    assert 0.5 <= result.liveness_score < 1
    second = result.image_properties[1].faces[0]
    assert second.motion_liveness_score == pytest.approx(result.liveness_score)
    assert 0 <= second.movement_direction < 360
    assert result.image_properties[0].faces[0].motion_liveness_score == 0


@pytest.mark.parametrize("attack", ["same photo twice", "tilted photo", "zoomed and turned photo"])
def test_a_flat_picture_is_not_live(live, attack):
    original = photo("obama_1.jpg")
    second = {"same photo twice": jpeg(original), "tilted photo": jpeg(perspective(original, 0.1)),
              "zoomed and turned photo": jpeg(original.rotate(10, expand=True).resize(
                  (int(original.width * 0.8), int(original.height * 0.8))))}[attack]
    result = detect(live, jpeg(original), second)
    assert not result.live and result.liveness_score < 0.5
    assert [e.error_code for e in result.errors] == ["LiveDetectionFailed"]


def test_challenge_response(live):
    first = detect(live, "obama_1.jpg", "obama_2.jpg").image_properties[1].faces[0].movement_direction
    moved = {0: "right", 90: "up", 180: "left", 270: "down"}[min((0, 90, 180, 270, 360),
                                                                 key=lambda d: abs(d - first)) % 360]
    opposite = {"right": "left", "left": "right", "up": "down", "down": "up"}[moved]
    followed = detect(live, "obama_1.jpg", ("obama_2.jpg", moved))
    assert followed.live and followed.errors == []
    refused = detect(live, "obama_1.jpg", ("obama_2.jpg", opposite))
    assert not refused.live and [e.error_code for e in refused.errors] == ["ChallengeResponseFailed"]
    assert opposite in refused.errors[0].message


def test_different_people_and_unusable_images_are_not_live(live):
    different = detect(live, "obama_1.jpg", "biden_1.jpg")
    assert not different.live and "same person" in different.errors[0].message
    group = detect(live, "obama_1.jpg", "group_two_faces.jpg")
    assert not group.live and group.errors[0].error_code == "NoSuitableFaceImage"
    assert "live_images[1]" in group.errors[0].message
    assert len(group.image_properties[1].faces) == 2


def test_one_image_needs_a_pad_model(live):
    with pytest.raises(grpc.RpcError) as error:
        detect(live, "obama_1.jpg")
    assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED and "BWS_PAD_MODEL" in error.value.details()


def test_bad_images_are_invalid_argument(live):
    with pytest.raises(grpc.RpcError) as error:
        detect(live, "obama_1.jpg", b"not an image")
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "live_images[1]" in error.value.details()


def _frames(*names_and_counts):
    frames = []
    for name, count in names_and_counts:
        frames += [letterbox(photo(name))] * count
    return frames


def test_video_of_a_moving_head_is_live(live):
    clip = video(_frames(("obama_1.jpg", 6), ("obama_3.jpg", 6)))
    result = live("VideoLivenessDetection", bws.VideoLivenessDetectionRequest(video=clip))
    assert result.live, result.errors
    frames = [p.frame_number for p in result.image_properties]
    assert len(frames) == 2 and frames[0] < 6 <= frames[1]


def test_video_of_a_photo_moved_about_is_not_live(live):
    still = letterbox(photo("obama_1.jpg"))
    frames = [still.rotate(angle, resample=Image.Resampling.BICUBIC) for angle in range(0, 12)]
    result = live("VideoLivenessDetection", bws.VideoLivenessDetectionRequest(video=video(frames)))
    assert not result.live and result.errors[0].error_code == "LiveDetectionFailed"


@pytest.mark.parametrize("clip, message", [
    (b"\x00\x00\x00\x18ftypmp42garbage" * 50, "cannot be decoded"),
    (b"", "empty video"),
])
def test_bad_videos_are_invalid_argument(live, clip, message):
    with pytest.raises(grpc.RpcError) as error:
        live("VideoLivenessDetection", bws.VideoLivenessDetectionRequest(video=clip))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT and message in error.value.details()


def test_too_long_video_is_refused(live):
    clip = video([Image.new("RGB", (64, 64))] * 25, fps=1)  # 25 s at one frame a second
    with pytest.raises(grpc.RpcError) as error:
        live("VideoLivenessDetection", bws.VideoLivenessDetectionRequest(video=clip))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "longer than" in error.value.details()


def _id_scan(name: str) -> bytes:
    """An ID-document scan: the portrait small, on a large white page."""
    portrait = photo(name)
    portrait.thumbnail((260, 260))
    page = Image.new("RGB", (2400, 1600), "white")
    page.paste(portrait, (180, 400))
    return jpeg(page)


def test_photo_verify_same_person_with_liveness(live):
    result = live("PhotoVerify", bws.PhotoVerifyRequest(live_images=images("obama_1.jpg", "obama_3.jpg"),
                                                        photo=_id_scan("obama_2.jpg")))
    assert result.verification_level >= Level.Value("LEVEL_1") and result.verification_score >= 0.5
    assert result.live and result.liveness_score >= 0.5 and result.errors == []
    assert len(result.photo_properties.faces) == 1 and len(result.image_properties) == 2


def test_photo_verify_other_person_is_not_recognized(live):
    result = live("PhotoVerify", bws.PhotoVerifyRequest(live_images=images("obama_1.jpg"), photo=face("biden_1.jpg"),
                                                        disable_liveness_detection=True))
    assert result.verification_level == Level.Value("NOT_RECOGNIZED") and result.verification_score < 0.5
    assert not result.live and result.liveness_score == 0


def test_photo_verify_errors(live):
    no_face = live("PhotoVerify", bws.PhotoVerifyRequest(live_images=images("obama_1.jpg"),
                                                         photo=jpeg(Image.new("RGB", (300, 300), "white")),
                                                         disable_liveness_detection=True))
    assert no_face.verification_level == 0 and no_face.errors[0].message.startswith("photo:")
    with pytest.raises(grpc.RpcError) as error:
        live("PhotoVerify", bws.PhotoVerifyRequest(live_images=images("obama_1.jpg"), photo=face("obama_2.jpg")))
    assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED
    with pytest.raises(grpc.RpcError) as error:
        live("PhotoVerify", bws.PhotoVerifyRequest(live_images=images("obama_1.jpg")))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "photo" in error.value.details()


def test_rest_routes(service):
    token = service.clients["tenant-a"].token()
    auth = {"Authorization": f"Bearer {token}"}
    b64 = lambda name: base64.b64encode(face(name)).decode()
    reply = request(service.http_url, "POST", "/api/v1/livenessdetection",
                    {"liveImages": [{"image": b64("obama_1.jpg")}, {"image": b64("obama_3.jpg"), "tags": []}]}, auth)
    assert reply.status == 200 and reply.json["live"] is True and reply.json["status"] == "SUCCEEDED"
    assert reply.json["imageProperties"][1]["faces"][0]["motionLivenessScore"] > 0.5
    reply = request(service.http_url, "POST", "/api/v1/photoverify",
                    {"live_images": [{"image": b64("obama_1.jpg")}], "photo": b64("obama_2.jpg"),
                     "disableLivenessDetection": True}, auth)
    assert reply.status == 200 and reply.json["verificationLevel"].startswith("LEVEL_")
    clip = base64.b64encode(video(_frames(("obama_1.jpg", 3), ("obama_3.jpg", 3)))).decode()
    reply = request(service.http_url, "POST", "/api/v1/videolivenessdetection", {"video": clip}, auth)
    assert reply.status == 200 and reply.json["live"] is True
    assert reply.json["imageProperties"][1]["frameNumber"] >= 3
    one = request(service.http_url, "POST", "/api/v1/livenessdetection",
                  {"liveImages": [{"image": b64("obama_1.jpg")}]}, auth)
    assert one.status == 501 and "BWS_PAD_MODEL" in one.json["message"]
