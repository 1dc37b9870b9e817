"""LivenessDetection, VideoLivenessDetection and PhotoVerify over real gRPC and REST."""
import base64
from pathlib import Path

import grpc
import pytest
from PIL import Image, ImageDraw, ImageOps

from bws_proto import bioidwebservice_pb2 as bws
from bws_proto import bioidwebservice_pb2_grpc as bws_grpc
from bws_proto import bwsmessages_pb2 as msg
from tests.conftest import face, launch_service, stop_service
from tests.e2e.http import request
from tests.e2e.media import held_still, jpeg, letterbox, perspective, photo, printed, screen, video
from tests.gateway.engine.scenes import FILL, Scene, render
from tests.gateway.engine.scenes import jpeg as scene_jpeg

Level = bws.PhotoVerifyResponse.AccuracyLevel
# MiniFASNet's own sample images (tests/fixtures/minifasnet/PROVENANCE.md): F1, F2 attacks, T1 and T2 live
# captures (MiniFASNet alone judges T2 an attack; the fused models judge it live).
SAMPLES = Path(__file__).parents[1] / "fixtures" / "minifasnet"
TURNED_ATTACK = (SAMPLES / "image_F1.jpg").read_bytes()  # a turned head: pose is feedback, not a refusal
ATTACK = (SAMPLES / "image_F2.jpg").read_bytes()
LIVE_CAPTURE = (SAMPLES / "image_T1.jpg").read_bytes()
OTHER_LIVE_CAPTURE = (SAMPLES / "image_T2.jpg").read_bytes()
PASSIVE = "At least one of the live images seem not to be recorded from a live person."  # BioID's text


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
    assert [e.error_code for e in result.errors] == ["RejectedByActiveLiveDetection"]


def test_challenge_response(live):
    first = detect(live, "obama_1.jpg", "obama_2.jpg").image_properties[1].faces[0].movement_direction
    moved = {0: "right", 90: "up", 180: "left", 270: "down"}[min((0, 90, 180, 270, 360),
                                                                 key=lambda d: abs(d - first)) % 360]
    opposite = {"right": "left", "left": "right", "up": "down", "down": "up"}[moved]
    followed = detect(live, "obama_1.jpg", ("obama_2.jpg", moved))
    assert followed.live and followed.errors == []
    refused = detect(live, "obama_1.jpg", ("obama_2.jpg", opposite))
    assert not refused.live and [e.error_code for e in refused.errors] == ["RejectedByChallengeResponse"]
    assert opposite in refused.errors[0].message


def test_different_people_and_unusable_images_are_not_live(live):
    different = detect(live, "obama_1.jpg", "biden_1.jpg")
    assert not different.live and "same person" in different.errors[0].message
    assert different.errors[0].error_code == "RejectedByActiveLiveDetection"
    group = detect(live, "obama_1.jpg", "group_two_faces.jpg")
    assert not group.live and [e.error_code for e in group.errors] == ["MultipleFacesFound"]
    assert "live_images[1]" in group.errors[0].message
    assert len(group.image_properties[1].faces) == 2


def test_one_image_is_judged_by_passive_liveness(live):
    for item in ("obama_1.jpg", LIVE_CAPTURE, OTHER_LIVE_CAPTURE):
        result = detect(live, item)
        face_properties = result.image_properties[0].faces[0]
        assert result.live and result.errors == [] and face_properties.motion_liveness_score == 0
        assert result.liveness_score == pytest.approx(face_properties.texture_liveness_score) and 0.5 <= \
            result.liveness_score <= 1
    result = detect(live, ATTACK)
    assert not result.live and result.liveness_score < 0.5
    assert result.image_properties[0].faces[0].texture_liveness_score < 0.5
    assert [(e.error_code, e.message) for e in result.errors] == [("RejectedByPassiveLiveDetection", PASSIVE)]
    turned = detect(live, TURNED_ATTACK)  # its face is used (pose only informs) and judged an attack
    assert not turned.live and [e.error_code for e in turned.errors] == ["RejectedByPassiveLiveDetection"]
    assert turned.image_properties[0].faces[0].texture_liveness_score < 0.5


def test_two_images_need_motion_and_passive_on_every_image(live):
    # A live capture (passive passes) repeated: no motion.
    still = detect(live, LIVE_CAPTURE, LIVE_CAPTURE)
    assert not still.live and "flat picture" in still.errors[0].message
    assert min(f.faces[0].texture_liveness_score for f in still.image_properties) >= 0.5
    # A head that turns, the second view replayed on a screen: the motion passes, passive does not.
    framed = detect(live, "obama_1.jpg", jpeg(screen(photo("obama_2.jpg"), 0)))
    assert framed.image_properties[1].faces[0].motion_liveness_score >= 0.5
    assert framed.image_properties[1].faces[0].texture_liveness_score < 0.5
    assert not framed.live and framed.liveness_score < 0.5
    assert [(e.error_code, e.message) for e in framed.errors] == [("RejectedByPassiveLiveDetection", PASSIVE)]
    moving = detect(live, "obama_1.jpg", "obama_3.jpg")
    assert moving.live
    textures = [p.faces[0].texture_liveness_score for p in moving.image_properties]
    motion_score = moving.image_properties[1].faces[0].motion_liveness_score
    assert moving.liveness_score == pytest.approx(min(motion_score, min(textures)))


@pytest.fixture(scope="module")
def pad_off(tmp_path_factory, redis_server):
    started = launch_service(tmp_path_factory.mktemp("pad-off"), redis_server.url, BWS_PAD="off", BWS_WORKERS="1")
    channel = started.channel()
    yield bws_grpc.BioIDWebServiceStub(channel), started.clients["tenant-a"].metadata()
    channel.close()
    stop_service(started.process)


def test_one_image_without_passive_liveness_is_unimplemented(pad_off):
    stub, metadata = pad_off
    with pytest.raises(grpc.RpcError) as error:
        stub.LivenessDetection(bws.LivenessDetectionRequest(live_images=images("obama_1.jpg")), metadata=metadata,
                               timeout=120)
    assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED and "BWS_PAD=off" in error.value.details()
    two = stub.LivenessDetection(bws.LivenessDetectionRequest(live_images=images(ATTACK, "obama_1.jpg")),
                                 metadata=metadata, timeout=120)
    assert two.image_properties[0].faces[0].texture_liveness_score == 0  # not computed


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
    moved = [p.frame_number for p in result.image_properties if p.faces[0].motion_liveness_score > 0]
    assert frames == sorted(frames) and len(frames) >= 3 and frames[0] < 6 and len(moved) == 1 and moved[0] >= 6
    assert all(p.faces[0].texture_liveness_score >= 0.5 for p in result.image_properties)


def test_video_reference_frame_is_a_usable_face(live):
    """Issue 10 item 6: a clip starting with a face too small to use, then a good moving face."""
    small = photo("obama_1.jpg")
    small.thumbnail((150, 150))
    tiny = Image.new("RGB", (640, 480), (30, 30, 30))
    tiny.paste(small, (245, 165))
    clip = video([tiny] * 4 + _frames(("obama_1.jpg", 4), ("obama_3.jpg", 4)))
    result = live("VideoLivenessDetection", bws.VideoLivenessDetectionRequest(video=clip))
    assert result.live, result.errors
    assert min(p.frame_number for p in result.image_properties) >= 4


def test_video_of_an_attack_sample_moved_about_is_not_live(live):
    """The model's attack sample, turned as a hand would: passive refuses it."""
    still = ImageOps.exif_transpose(Image.open(SAMPLES / "image_F2.jpg")).convert("RGB")
    frames = [still.rotate(angle, resample=Image.Resampling.BICUBIC) for angle in range(0, 24, 2)]
    result = live("VideoLivenessDetection", bws.VideoLivenessDetectionRequest(video=video(frames)))
    assert not result.live and ("RejectedByPassiveLiveDetection", PASSIVE) in [(e.error_code, e.message)
                                                                              for e in result.errors]


@pytest.mark.parametrize("container, codec", [("mov", "libx264"), ("webm", "libvpx")])
def test_video_containers(live, container, codec):
    clip = video(_frames(("obama_1.jpg", 4), ("obama_3.jpg", 4)), container=container, codec=codec)
    result = live("VideoLivenessDetection", bws.VideoLivenessDetectionRequest(video=clip))
    assert result.live, result.errors


def test_video_of_a_photo_moved_about_is_not_live(live):
    still = letterbox(photo("obama_1.jpg"))
    frames = [still.rotate(angle, resample=Image.Resampling.BICUBIC) for angle in range(0, 12)]
    result = live("VideoLivenessDetection", bws.VideoLivenessDetectionRequest(video=video(frames)))
    assert not result.live and result.errors[0].error_code in ("RejectedByPassiveLiveDetection",
                                                               "RejectedByActiveLiveDetection")


def test_video_of_a_face_held_still_is_judged_by_passive_liveness(live):
    """Issue 20: a person who only holds the phone: too little motion to judge, so every frame is judged by
    passive liveness (and each must pass) instead of NotEnoughSamples or a refusal for want of motion."""
    clip = video(held_still(letterbox(photo("obama_1.jpg"))), rotation=-90)
    result = live("VideoLivenessDetection", bws.VideoLivenessDetectionRequest(video=clip))
    assert result.live and result.errors == [], result.errors
    textures = [p.faces[0].texture_liveness_score for p in result.image_properties]
    assert len(textures) >= 3 and result.liveness_score == pytest.approx(min(textures)) and min(textures) >= 0.5
    assert max(p.faces[0].motion_liveness_score for p in result.image_properties) < 0.5
    assert all(p.rotated == 270 for p in result.image_properties)  # stored sideways, turned as a player does


@pytest.mark.parametrize("attack", ["screen replay held still", "print of a turning head"])
def test_replayed_clips_are_not_live(live, attack):
    frames = {"screen replay held still": [screen(f, 0) for f in held_still(letterbox(photo("obama_1.jpg")))],
              "print of a turning head": [printed(f, i) for i, f in enumerate(_frames(("obama_1.jpg", 6),
                                                                                       ("obama_3.jpg", 6)))]}[attack]
    result = live("VideoLivenessDetection", bws.VideoLivenessDetectionRequest(video=video(frames)))
    assert not result.live and result.errors and result.errors[0].error_code == {
        "screen replay held still": "RejectedByPassiveLiveDetection",
        "print of a turning head": "RejectedByActiveLiveDetection"}[attack]


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


def test_photo_verify_one_live_image_uses_passive_liveness(live):
    result = live("PhotoVerify", bws.PhotoVerifyRequest(live_images=images("obama_1.jpg"), photo=face("obama_2.jpg")))
    assert result.live and result.verification_level >= Level.Value("LEVEL_1") and result.errors == []
    assert result.liveness_score == pytest.approx(result.image_properties[0].faces[0].texture_liveness_score)


def test_photo_verify_same_person_with_liveness(live):
    result = live("PhotoVerify", bws.PhotoVerifyRequest(live_images=images("obama_1.jpg", "obama_3.jpg"),
                                                        photo=_id_scan("obama_2.jpg")))
    assert result.verification_level >= Level.Value("LEVEL_1") and result.verification_score >= 0.5
    assert result.live and result.liveness_score >= 0.5 and result.errors == []
    assert len(result.photo_properties.faces) == 1 and len(result.image_properties) == 2


def _document_page(source: str) -> bytes:
    """A scanned ID document page (A4 at 300 dpi): a passport-size portrait, the face about 110 px wide, among
    printed lines."""
    portrait = render(Scene(110, 413, 531, source=source))
    page = Image.new("RGB", (2480, 3508), (246, 244, 238))
    page.paste(portrait, (300, 420))
    lines = ImageDraw.Draw(page)
    for y in range(1100, 3200, 90):
        lines.rectangle((300, y, 300 + (y * 37) % 1500 + 400, y + 28), fill=(60, 60, 70))
    return jpeg(page)


@pytest.mark.parametrize("photo, kind", [
    (lambda source: _document_page(source), "scanned document page, small face"),
    (lambda source: scene_jpeg(Scene(800, 2500, 1728, source=source)), "press portrait, face 800 px wide"),
    (lambda source: scene_jpeg(Scene(FILL, 1200, 1600, exif_rotated=True, source=source)), "face filling the frame"),
])
def test_photo_verify_finds_small_and_large_faces_on_id_photos(live, photo, kind):
    same = live("PhotoVerify", bws.PhotoVerifyRequest(live_images=images("obama_3.jpg"), photo=photo("obama_1.jpg"),
                                                      disable_liveness_detection=True))
    assert same.errors == [] and len(same.photo_properties.faces) == 1, kind
    assert same.verification_level >= Level.Value("LEVEL_1") and same.verification_score >= 0.5, kind
    other = live("PhotoVerify", bws.PhotoVerifyRequest(live_images=images("obama_3.jpg"), photo=photo("biden_2.jpg"),
                                                       disable_liveness_detection=True))
    assert other.errors == [] and len(other.photo_properties.faces) == 1, kind
    assert other.verification_level == Level.Value("NOT_RECOGNIZED"), kind


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
    printed = live("PhotoVerify", bws.PhotoVerifyRequest(live_images=images(ATTACK), photo=face("obama_2.jpg")))
    # BioID's Go PhotoVerify sample: status SUCCEEDED, the passive rejection listed, no verification level.
    assert printed.status == 0 and not printed.live
    assert [(e.error_code, e.message) for e in printed.errors] == [("RejectedByPassiveLiveDetection", PASSIVE)]
    assert printed.verification_level == Level.Value("NOT_RECOGNIZED") and printed.verification_score == 0
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
    moved = [p["frameNumber"] for p in reply.json["imageProperties"] if p["faces"][0].get("motionLivenessScore")]
    assert len(moved) == 1 and moved[0] >= 3
    one = request(service.http_url, "POST", "/api/v1/livenessdetection",
                  {"liveImages": [{"image": b64("obama_1.jpg")}]}, auth)
    assert one.status == 200 and one.json["live"] is True
    assert one.json["livenessScore"] == one.json["imageProperties"][0]["faces"][0]["textureLivenessScore"]
