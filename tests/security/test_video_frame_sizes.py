"""Attack (issue 16): a video's frame size was read from its header only. A 4 MB MOV whose first two PNG frames
are 64x64 and the rest 8000x8000 was accepted, and the worker grew from 362 to 4,396 MB converting them; an
MJPEG-in-Matroska clip did the same. Every decoded frame is now checked (and FFmpeg refuses to allocate frames
far over the limit), and so are the decoded pixels of the whole clip."""
from __future__ import annotations

import grpc
import pytest

from tests.security.hostile_files import mixed_size_clip
from tests.security.raw_calls import refused_video

CLIPS = {  # codec, container, the large frames' side
    "PNG in MOV, 8000x8000 after 64x64": ("png", "mov", 8000),
    "MJPEG in Matroska, 8000x8000 after 64x64": ("mjpeg", "matroska", 8000),
    "PNG in MOV, 2000x2000 after 64x64": ("png", "mov", 2000),
    "MJPEG in Matroska, 2000x2000 after 64x64": ("mjpeg", "matroska", 2000),
}


@pytest.mark.parametrize("case", CLIPS)
def test_a_clip_whose_later_frames_are_larger_than_its_header_says_is_refused(service, case):
    codec, container, side = CLIPS[case]
    clip = mixed_size_clip(codec, container, big=side)
    refused = refused_video(service, clip)
    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = refused.details()
    assert details.startswith("video: video frame 2 ") and "(its header said 64x64)" in details, details
    if side == 2000:  # over the limit, under FFmpeg's own bound: checked as decoded, before any conversion
        assert "of 2000x2000 is larger than the limit of 2073600 pixels" in details
    else:  # far over: FFmpeg does not even allocate the frame
        assert "far over the limit of 2073600 pixels" in details
