"""gateway/core/liveness.py with a fake engine: passive and active liveness, challenges, video and PhotoVerify.
The fake faces' landmarks are those of a head in 3D, turned by a given angle (tests/gateway/core/fakes.py)."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from gateway.core.job_errors import PASSIVE_REJECTED_MESSAGE, Bws3

from gateway.core.errors import InvalidArgument, Unimplemented
from gateway.core.liveness import AccuracyLevel, LiveImage, Liveness
from tests.gateway.core.fakes import NOT_AN_IMAGE, FakeEngine, photo


def live(*photos: bytes, tags=()) -> list[LiveImage]:
    return [LiveImage(p, tuple(tags[i]) if i < len(tags) else ()) for i, p in enumerate(photos)]


@pytest.fixture
def liveness(settings, engine) -> Liveness:
    return Liveness(settings, engine)


async def test_one_image_is_judged_by_passive_liveness_alone(liveness):
    real = await liveness.detect(live(photo("alice", texture=0.9)))
    assert real.live and real.score == pytest.approx(0.9) and real.errors == []
    printed = await liveness.detect(live(photo("alice", texture=0.2)))
    assert not printed.live and [e.error_code for e in printed.errors] == ["RejectedByPassiveLiveDetection"]
    # one entry per rejected image, in BioID's words; a motion failure is the active code
    both = await liveness.detect(live(photo("alice", texture=0.2), photo("alice", texture=0.3)))
    passive = (Bws3.REJECTED_BY_PASSIVE, PASSIVE_REJECTED_MESSAGE)
    assert [(e.error_code, e.message) for e in both.errors] == [passive, passive,
                                                                 (Bws3.REJECTED_BY_ACTIVE, both.errors[2].message)]


async def test_one_image_without_passive_liveness_is_unimplemented(settings):
    with pytest.raises(Unimplemented, match="BWS_PAD=off"):
        await Liveness(settings, FakeEngine(texture=False)).detect(live(photo("alice")))


async def test_two_images_need_the_head_to_move(settings):
    active = Liveness(settings, FakeEngine(texture=False))
    moved = await active.detect(live(photo("alice"), photo("alice", turn=0.3)))
    assert moved.live and moved.motions[0] is None and moved.motions[1].score > 0.9
    still = await active.detect(live(photo("alice"), photo("alice")))
    assert not still.live and "no evidence of a live person" in still.errors[0].message
    assert [e.error_code for e in still.errors] == ["RejectedByActiveLiveDetection"]


async def test_a_challenge_is_the_direction_the_head_turned(liveness):
    followed = await liveness.detect(live(photo("alice"), photo("alice", turn=0.3), tags=[(), ("right",)]))
    assert followed.live
    refused = await liveness.detect(live(photo("alice"), photo("alice", turn=0.3), tags=[(), ("left",)]))
    assert not refused.live and refused.errors[0].error_code == "RejectedByChallengeResponse"


async def test_images_of_two_people_or_without_a_face_are_not_live(liveness):
    two = await liveness.detect(live(photo("alice"), photo("bob", turn=0.3)))
    assert not two.live and two.errors[0].message == "the live images do not show the same person"
    assert two.errors[0].error_code == "RejectedByActiveLiveDetection"
    faceless = await liveness.detect(live(photo("alice"), photo("", faces=0)))
    assert not faceless.live and faceless.errors[0].message.startswith("live_images[1]: ")
    assert [e.error_code for e in faceless.errors] == ["FaceNotFound"]


async def test_bad_input(liveness):
    with pytest.raises(InvalidArgument, match="at least one live image"):
        await liveness.detect([])
    with pytest.raises(InvalidArgument, match=r"^live_images\[0\]: "):
        await liveness.detect(live(NOT_AN_IMAGE))
    with pytest.raises(InvalidArgument, match="^video: "):
        await liveness.detect_video(b"not a video")


def video(*frames: bytes) -> bytes:
    return json.dumps([json.loads(frame) for frame in frames]).encode()


async def test_a_video_is_judged_on_its_frames_of_one_person(liveness):
    moving = await liveness.detect_video(video(photo("alice"), photo("bob"), photo("alice", turn=0.1),
                                               photo("alice", turn=0.3)))
    assert moving.live and moving.frame_numbers == [0, 2, 3] and moving.motions[2] is not None
    short = await liveness.detect_video(video(photo("alice"), photo("bob")))
    assert not short.live and short.errors[0].error_code == "NotEnoughSamples"
    empty = await liveness.detect_video(video(photo("", faces=0)))
    assert empty.errors[0].error_code == "FaceNotFound"


async def test_a_video_of_a_face_held_still_is_judged_by_passive_liveness_on_every_frame(liveness, settings):
    """Issue 20: no head movement is no evidence either way; several frames, each judged passive, decide."""
    still = await liveness.detect_video(video(*[photo("alice", texture=0.8 - i / 100) for i in range(4)]))
    assert still.live and still.errors == [] and still.score == pytest.approx(0.77)  # the worst frame
    assert max(m.score for m in still.motions if m) < 0.5  # motion alone would have refused it
    one_printed = await liveness.detect_video(video(*[photo("alice", texture=t) for t in (0.9, 0.9, 0.3, 0.9)]))
    assert not one_printed.live and [e.error_code for e in one_printed.errors] == ["RejectedByPassiveLiveDetection"]
    too_few = await liveness.detect_video(video(photo("alice"), photo("alice")))
    assert not too_few.live and "no evidence of a live person" in too_few.errors[0].message
    # Moved without turning (a picture slid across the view): flat motion, refused as before.
    slid = await liveness.detect_video(video(*[photo("alice", shift=20 * i) for i in range(4)]))
    assert not slid.live and "no evidence of a live person" in slid.errors[0].message
    without_passive = await Liveness(settings, FakeEngine(texture=False)).detect_video(
        video(*[photo("alice") for _ in range(4)]))
    assert not without_passive.live and "no evidence of a live person" in without_passive.errors[0].message
    strict = await Liveness(replace(settings, video_still="refuse"), FakeEngine()).detect_video(
        video(*[photo("alice") for _ in range(4)]))
    assert not strict.live and "no evidence of a live person" in strict.errors[0].message


async def test_photo_verify_levels(liveness):
    same = await liveness.photo_verify(live(photo("alice")), photo("alice"), disable_liveness=False)
    assert same.liveness.live and same.level is AccuracyLevel.LEVEL_5 and same.score == pytest.approx(1.0)
    other = await liveness.photo_verify(live(photo("alice")), photo("bob"), disable_liveness=True)
    assert other.level is AccuracyLevel.NOT_RECOGNIZED and other.score < 0.5 and not other.liveness.live
    no_face = await liveness.photo_verify(live(photo("alice")), photo("", faces=0), disable_liveness=True)
    assert [e.error_code for e in no_face.errors] == ["FaceNotFound"]
    with pytest.raises(InvalidArgument, match="the ID photo is missing"):
        await liveness.photo_verify(live(photo("alice")), b"", disable_liveness=True)
    with pytest.raises(InvalidArgument, match="^photo: "):
        await liveness.photo_verify(live(photo("alice")), NOT_AN_IMAGE, disable_liveness=True)
