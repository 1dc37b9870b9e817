"""Found in review: the 20-second video limit was counted at the frame rate the video declares, so a clip
declaring 10000 frames per second passed with 15000 full-HD frames in 0.8 MB and held an engine worker
for 9 s (a 50 MB clip: minutes). Seconds are now counted at 60 frames per second at most."""
from __future__ import annotations

import grpc
from PIL import Image

from tests.e2e.media import video
from tests.security.raw_calls import refused_video


def test_a_video_declaring_a_huge_frame_rate_is_refused(service):
    clip = video([Image.new("RGB", (160, 120))] * 1500, fps=10000, container="matroska")  # 0.15 s "long"
    refused = refused_video(service, clip)
    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "at most 1200 frames" in refused.details()
