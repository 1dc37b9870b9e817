"""Video liveness input: decoding untrusted video bytes with FFmpeg (PyAV),
within limits (any container and codec FFmpeg reads: MP4/MOV/3GP with H.264,
H.263 or MPEG-4, WebM with VP8/VP9, ...), turning the frames the way a player
shows them, and choosing the frames worth judging.

Phones store portrait video sideways, with a display matrix in the track
header (MP4/MOV/3GP "rotation" -90, 90 or 180, sometimes a mirror too), which
FFmpeg hands over as side data of each frame; players apply it, and so does
`upright` here (as FFmpeg's own command-line tool does), so faces are never
seen lying on their side.
"""
from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass

import av
import numpy as np
from av.sidedata.sidedata import Type as SideDataType

from gateway.engine import motion as motion_math
from gateway.engine.types import ImageAnalysis, InvalidImage


class InvalidVideo(InvalidImage):
    """The bytes are not a video the service accepts; the message says why."""


@dataclass(frozen=True)
class VideoLimits:
    max_bytes: int = 50 * 1024 * 1024
    max_seconds: float = 20.0
    max_pixels: int = 1920 * 1080
    frames_to_analyze: int = 24  # decoded, evenly spread, and located
    frames_to_judge: int = 7  # of those, fully analysed (descriptor, passive liveness)
    # The frame rate a video declares is the sender's to choose: max_seconds are counted at this rate at most,
    # so a clip claiming 10000 frames per second cannot make a worker decode 200000 frames.
    max_frame_rate: float = 60.0
    # All frames decoded together, in pixels: max_seconds of max_pixels frames at this rate (20 s of full HD
    # at 30 frames per second). A 60 frames per second clip gets its 20 s at 720p, or 10 s at full HD.
    clip_frame_rate: float = 30.0
    # Frames over this many times max_pixels are refused by FFmpeg itself, before it allocates them (the
    # check of each frame below comes after decoding it: it gives the clear message for the others).
    decoder_pixels_factor: int = 4
    # Codecs code whole blocks (H.264 macroblocks of 16, HEVC and VP9 up to 64) and crop to the frame size: the
    # coded size may exceed max_pixels by this many rows and columns; cropping any more is hiding the size.
    coded_block: int = 64

    @property
    def max_clip_pixels(self) -> int:
        return int(self.max_pixels * self.max_seconds * self.clip_frame_rate)


def decode_frames(data: bytes, limits: VideoLimits = VideoLimits()) -> list[tuple[int, np.ndarray]]:
    """Up to `frames_to_analyze` frames, evenly spread, as (frame number, RGB pixels), upright."""
    return decode_video(data, limits)[0]


def decode_video(data: bytes, limits: VideoLimits = VideoLimits()) -> tuple[list[tuple[int, np.ndarray]], int]:
    """The frames of decode_frames, and the degrees they were turned by (`turned`)."""
    if not data:
        raise InvalidVideo("empty video")
    if len(data) > limits.max_bytes:
        raise InvalidVideo(f"video of {len(data)} bytes is larger than the limit of {limits.max_bytes} bytes")
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise InvalidVideo("no video stream found")
            stream = container.streams.video[0]
            header = f"{stream.codec_context.width}x{stream.codec_context.height}"
            if stream.codec_context.width * stream.codec_context.height > limits.max_pixels:
                raise InvalidVideo(f"video frames of {header} are larger than the limit of {limits.max_pixels} pixels")
            # The header speaks for the first frames only: every frame is checked as it comes (see VideoLimits).
            stream.codec_context.options = {"max_pixels": str(limits.max_pixels * limits.decoder_pixels_factor)}
            rate = float(stream.average_rate or 30)
            expected = stream.frames or int((container.duration or 0) / 1e6 * rate) or int(limits.max_seconds * rate)
            step = max(1, expected // limits.frames_to_analyze)
            picked, rotated = [], 0
            max_frames = limits.max_seconds * min(rate, limits.max_frame_rate)
            decoded = 0
            for number, frame in _frames(container, stream, limits, header):
                if (frame.time is not None and frame.time > limits.max_seconds) or number > max_frames:
                    raise InvalidVideo(f"video longer than the limit of {limits.max_seconds:g} seconds "
                                       f"(at most {max_frames:.0f} frames)")
                if frame.width * frame.height > limits.max_pixels:
                    raise InvalidVideo(f"video frame {number} of {frame.width}x{frame.height} is larger than the "
                                       f"limit of {limits.max_pixels} pixels (its header said {header})")
                _check_coded_size(stream.codec_context, frame, number, limits)
                decoded += frame.width * frame.height
                if decoded > limits.max_clip_pixels:
                    raise InvalidVideo(f"video decodes to more than {limits.max_clip_pixels / 1e6:.4g} megapixels "
                                       f"in all, the limit ({limits.max_seconds:g} s of {limits.max_pixels / 1e6:.4g}"
                                       f"-megapixel frames at {limits.clip_frame_rate:g} per second): send a "
                                       "shorter or smaller clip")
                if number % step == 0 and len(picked) < limits.frames_to_analyze:
                    matrix = display_matrix(frame)
                    if not picked:
                        rotated = turned(matrix)  # one display matrix per stream
                    picked.append((number, upright(frame.to_ndarray(format="rgb24"), matrix)))
            if not picked:
                raise InvalidVideo("video has no decodable frame")
            return picked, rotated
    except InvalidVideo:
        raise
    except (av.FFmpegError, ValueError, OSError, EOFError) as exc:
        raise InvalidVideo(f"video cannot be decoded: {exc}") from None


def _check_coded_size(codec: av.VideoCodecContext, frame: av.VideoFrame, number: int, limits: VideoLimits) -> None:
    """A frame's size is what its decoder allocates, the coded size, before any cropping (H.264's SPS may crop a
    frame coded at 16384x8192 down to 16x16: every size FFmpeg reports, and its max_pixels, are the cropped ones)."""
    width, height = codec.coded_width, codec.coded_height
    if max(0, width - limits.coded_block) * max(0, height - limits.coded_block) > limits.max_pixels:
        raise InvalidVideo(f"video frame {number} is coded at {width}x{height} (shown as {frame.width}x"
                           f"{frame.height}), larger than the limit of {limits.max_pixels} pixels")


def _frames(container: av.container.InputContainer, stream: av.VideoStream,
            limits: VideoLimits, header: str) -> Iterator[tuple[int, av.VideoFrame]]:
    """The decoded frames, numbered; a frame FFmpeg refuses to allocate is reported as too large."""
    number = 0
    decoding = container.decode(stream)
    while True:
        try:
            frame = next(decoding)
        except StopIteration:
            return
        except av.ArgumentError:  # EINVAL: FFmpeg's max_pixels (corrupt data is InvalidDataError)
            raise InvalidVideo(f"video frame {number} is larger than "
                               f"{limits.max_pixels * limits.decoder_pixels_factor} pixels, far over the limit of "
                               f"{limits.max_pixels} pixels (its header said {header})") from None
        yield number, frame
        number += 1


def display_matrix(frame: av.VideoFrame) -> tuple[int, ...] | None:
    """The frame's display matrix (FFmpeg's AV_FRAME_DATA_DISPLAYMATRIX: nine int32, 16.16 fixed point), if any."""
    side_data = frame.side_data.get(SideDataType.DISPLAYMATRIX)
    if side_data is None or side_data.buffer_size != 36:
        return None
    return struct.unpack("<9i", bytes(side_data))


def upright(pixels: np.ndarray, matrix: tuple[int, ...] | None) -> np.ndarray:
    """The pixels as a player shows them: the display matrix's quarter turns and mirrors applied.

    The matrix maps a stored pixel (p, q) to the displayed (x, y) = (a p + c q, b p + d q) + offset, y down,
    with a, b, c, d = matrix[0], matrix[1], matrix[3], matrix[4]. Phones write quarter turns and mirrors; any
    other angle is taken to the nearest of those (a face a few degrees off upright is still found).
    """
    if matrix is None:
        return pixels
    a, b, c, d = matrix[0], matrix[1], matrix[3], matrix[4]
    if abs(a) + abs(d) >= abs(b) + abs(c):  # x from p, y from q: mirrors only
        out = pixels[:, ::-1] if a < 0 else pixels
        out = out[::-1] if d < 0 else out
    else:  # x from q, y from p: a quarter turn
        out = pixels.transpose(1, 0, 2)
        out = out[::-1] if b < 0 else out
        out = out[:, ::-1] if c < 0 else out
    return np.ascontiguousarray(out)


def turned(matrix: tuple[int, ...] | None) -> int:
    """The counter-clockwise quarter turns `upright` applies, in degrees, as an image's EXIF orientation is
    reported (a mirror alone is no turn; a transposition is 270, an anti-transposition 90)."""
    if matrix is None:
        return 0
    a, b, c, d = matrix[0], matrix[1], matrix[3], matrix[4]
    if abs(a) + abs(d) >= abs(b) + abs(c):
        return 180 if d < 0 else 0
    return 90 if b < 0 else 270


def usable(analysis: ImageAnalysis) -> bool:
    """One face, and it passes every quality check (size, light, sharpness, pose, inside the image)."""
    return len(analysis.faces) == 1 and all(c.passed for c in analysis.all_checks)


def select_frames(located: list[tuple[int, np.ndarray, ImageAnalysis]],
                  count: int) -> list[tuple[int, np.ndarray]]:
    """The frames to judge, in frame order, from located (not yet described) ones.

    Among the frames whose one face passes the quality checks: the first
    (the reference), the one with the most parallax against it, and others
    evenly spread, `count` in all. Without any such frame, the first two with
    one face (or the first two), so the answer can say what is wrong with them.
    """
    good = [item for item in located if usable(item[2])]
    if not good:
        single = [item for item in located if len(item[2].faces) == 1] or located
        return [(n, pixels) for n, pixels, _ in single[:2]]
    reference = good[0]
    chosen = {reference[0]: reference}
    if len(good) > 1:
        landmarks = reference[2].faces[0].landmarks
        second = max(good[1:], key=lambda item: motion_math.parallax(landmarks, item[2].faces[0].landmarks))
        chosen[second[0]] = second
    for i in np.linspace(0, len(good) - 1, num=min(count, len(good))).round().astype(int):
        if len(chosen) >= count:
            break
        chosen.setdefault(good[i][0], good[i])
    return [(n, pixels) for n, pixels, _ in sorted(chosen.values(), key=lambda item: item[0])]
