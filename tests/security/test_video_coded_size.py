"""Found in review: H.264 frame cropping hid the real decoded size. A clip whose SPS crops every frame to 16x16
but codes it at 8192x4096 passed the header check, each frame's check and FFmpeg's own max_pixels (all of which
see the cropped size), and the worker decoded it at full size. The coded size is now checked as the frames come,
before anything is converted: refused with a clear error."""
from __future__ import annotations

import grpc
import pytest

from gateway.engine.video import InvalidVideo, decode_frames
from tests.security.hostile_files import cropped_h264_clip
from tests.security.raw_calls import refused_video


@pytest.mark.parametrize("width, height", [(2560, 1440), (8192, 4096)])
def test_a_clip_cropped_far_below_its_coded_size_is_refused(service, width, height):
    clip = cropped_h264_clip(width, height)
    refused = refused_video(service, clip)
    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = refused.details()
    assert f"coded at {width}x{height} (shown as 16x16)" in details and "limit of 2073600 pixels" in details, details


def test_ordinary_alignment_of_the_coded_size_is_allowed():
    """Full HD is coded as 1920x1088 (whole macroblocks), over the limit by 8 rows: no attack, accepted."""
    frames = decode_frames(cropped_h264_clip(1920, 1080, shown=None))
    assert frames and frames[0][1].shape == (1080, 1920, 3)
    with pytest.raises(InvalidVideo, match="coded at 2560x1440"):
        decode_frames(cropped_h264_clip(2560, 1440))
