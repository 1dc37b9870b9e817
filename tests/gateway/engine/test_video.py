"""Video liveness input: decoding the containers phones and browsers record,
turned the way a player shows them (display matrix), and choosing frames with
a usable face (never a too-small one as reference)."""
import numpy as np
import pytest
from PIL import Image

from gateway.engine import EngineOptions, FaceEngine, PadOptions
from gateway.engine.video import InvalidVideo, VideoLimits, decode_frames, decode_video, usable
from tests.e2e.media import letterbox, photo, stored_as, video


@pytest.mark.parametrize("container, codec", [("mov", "libx264"), ("mp4", "libx264"), ("webm", "libvpx")])
def test_mov_h264_and_webm_vp8_decode(container, codec):
    frames = [letterbox(photo("obama_1.jpg"))] * 5 + [letterbox(photo("obama_3.jpg"))] * 5
    decoded = decode_frames(video(frames, container=container, codec=codec))
    assert [n for n, _ in decoded] == list(range(10))
    assert decoded[0][1].shape == (480, 640, 3)


def test_frames_are_chosen_among_usable_faces():
    small = photo("obama_1.jpg")
    small.thumbnail((150, 150))
    tiny = Image.new("RGB", (640, 480), (30, 30, 30))
    tiny.paste(small, (245, 165))
    frames = [tiny] * 4 + [letterbox(photo("obama_1.jpg"))] * 4 + [letterbox(photo("obama_3.jpg"))] * 4
    engine = FaceEngine(EngineOptions(pad=PadOptions()))
    assert not usable(engine.analyze_pixels(np.asarray(tiny), want_descriptors=False))
    chosen = engine.analyze_video(video(frames), want_texture=True)
    numbers = [n for n, _ in chosen]
    assert numbers[0] == 4 and any(n >= 8 for n in numbers) and 3 <= len(numbers) <= 7
    assert all(a.face is not None and a.faces[0].texture_score > 0 for _, a in chosen)


def test_the_decoded_pixels_of_a_whole_clip_are_bounded():
    limits = VideoLimits(max_pixels=64 * 64, max_seconds=1.0)  # 1 s at 30 frames per second: 30 frames of 64x64
    assert len(decode_frames(video([Image.new("RGB", (64, 64))] * 30, fps=30), limits)) == 24
    high_rate = video([Image.new("RGB", (64, 64))] * 40, fps=60)  # 40 frames in 0.67 s: within the seconds
    with pytest.raises(InvalidVideo, match=r"video decodes to more than 0.1229 megapixels in all, the limit "
                                           r"\(1 s of 0.004096-megapixel frames at 30 per second\)"):
        decode_frames(high_rate, limits)


def _portrait() -> Image.Image:
    return letterbox(photo("obama_1.jpg"), size=(360, 480))


def _close(decoded: np.ndarray, shown: Image.Image) -> bool:
    """The same picture up to compression (a turned or mirrored one differs by far more)."""
    return decoded.shape == np.asarray(shown).shape and \
        float(np.abs(decoded.astype(int) - np.asarray(shown, dtype=int)).mean()) < 6


@pytest.mark.parametrize("container, codec", [("mp4", "libx264"), ("mov", "libx264")])
@pytest.mark.parametrize("rotation, mirror", [(-90, False), (90, False), (180, False), (0, True), (-90, True)])
def test_phone_videos_are_turned_the_way_players_show_them(container, codec, rotation, mirror):
    """Phones store portrait clips sideways with a display matrix (rotation -90 or 90, 180 upside down,
    sometimes mirrored): the frames come out as a player shows them."""
    shown = _portrait()
    stored = stored_as(shown, rotation, mirror)
    assert not _close(stored, shown)  # what the decoder alone gives is not the picture
    clip = video([shown] * 3, container=container, codec=codec, rotation=rotation, mirror=mirror)
    frames, rotated = decode_video(clip)
    for _, pixels in frames:
        assert _close(pixels, shown), (rotation, mirror)
    # Reported as an image's EXIF orientation is: counter-clockwise degrees, a transposition 270.
    assert rotated == {(-90, False): 270, (90, False): 90, (180, False): 180, (0, True): 0,
                       (-90, True): 270}[(rotation, mirror)]


def test_a_sideways_phone_clip_is_judged_upright():
    """Issue 20: a selfie stored sideways gave NotEnoughSamples; upright, every frame has a usable face."""
    engine = FaceEngine(EngineOptions(pad=PadOptions()))
    frames = [letterbox(photo("obama_1.jpg"), size=(480, 640))] * 3 + \
        [letterbox(photo("obama_3.jpg"), size=(480, 640))] * 3
    chosen = engine.analyze_video(video(frames, rotation=-90), want_texture=True)
    assert len(chosen) >= 2 and all(a.face is not None and (a.width, a.height) == (480, 640) for _, a in chosen)
    assert all(a.rotated == 270 for _, a in chosen)


@pytest.mark.parametrize("rotation", [0, -90])
def test_a_small_3gp_clip(rotation):
    """An old phone's 3GP: H.263 at 176x144 (QCIF), optionally with a display matrix."""
    shown = letterbox(photo("obama_1.jpg"), size=(176, 144))
    if rotation:
        shown = letterbox(photo("obama_1.jpg"), size=(144, 176))
    clip = video([shown] * 5, container="3gp", codec="h263", rotation=rotation)
    assert clip[4:8] == b"ftyp" and b"3gp" in clip[8:24]
    decoded = decode_frames(clip)
    assert len(decoded) == 5 and all(_close(pixels, shown) for _, pixels in decoded)
    analysis = FaceEngine().analyze_pixels(decoded[0][1], want_descriptors=False)
    assert len(analysis.faces) == 1
