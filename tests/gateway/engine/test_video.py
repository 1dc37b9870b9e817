"""Video liveness input: decoding the containers phones and browsers record,
and choosing frames with a usable face (never a too-small one as reference)."""
import numpy as np
import pytest
from PIL import Image

from gateway.engine import EngineOptions, FaceEngine, PadOptions
from gateway.engine.video import InvalidVideo, VideoLimits, decode_frames, usable
from tests.e2e.media import letterbox, photo, video


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
