"""Decoding untrusted video bytes with FFmpeg (PyAV), within limits."""
from __future__ import annotations

import io
from dataclasses import dataclass

import av
import numpy as np

from gateway.engine.types import InvalidImage


class InvalidVideo(InvalidImage):
    """The bytes are not a video the service accepts; the message says why."""


@dataclass(frozen=True)
class VideoLimits:
    max_bytes: int = 50 * 1024 * 1024
    max_seconds: float = 20.0
    max_pixels: int = 1920 * 1080
    frames_to_analyze: int = 24


def decode_frames(data: bytes, limits: VideoLimits = VideoLimits()) -> list[tuple[int, np.ndarray]]:
    """Up to `frames_to_analyze` frames, evenly spread, as (frame number, RGB pixels)."""
    if not data:
        raise InvalidVideo("empty video")
    if len(data) > limits.max_bytes:
        raise InvalidVideo(f"video of {len(data)} bytes is larger than the limit of {limits.max_bytes} bytes")
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise InvalidVideo("no video stream found")
            stream = container.streams.video[0]
            if stream.codec_context.width * stream.codec_context.height > limits.max_pixels:
                raise InvalidVideo(f"video frames of {stream.codec_context.width}x{stream.codec_context.height} "
                                   f"are larger than the limit of {limits.max_pixels} pixels")
            rate = float(stream.average_rate or 30)
            expected = stream.frames or int((container.duration or 0) / 1e6 * rate) or int(limits.max_seconds * rate)
            step = max(1, expected // limits.frames_to_analyze)
            picked = []
            for number, frame in enumerate(container.decode(stream)):
                if (frame.time is not None and frame.time > limits.max_seconds) or number > limits.max_seconds * rate:
                    raise InvalidVideo(f"video longer than the limit of {limits.max_seconds:g} seconds")
                if number % step == 0 and len(picked) < limits.frames_to_analyze:
                    picked.append((number, frame.to_ndarray(format="rgb24")))
            if not picked:
                raise InvalidVideo("video has no decodable frame")
            return picked
    except InvalidVideo:
        raise
    except (av.FFmpegError, ValueError, OSError, EOFError) as exc:
        raise InvalidVideo(f"video cannot be decoded: {exc}") from None
